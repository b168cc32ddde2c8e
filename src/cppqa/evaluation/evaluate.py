"""The project's own evaluation: ``cppqa eval`` over ``eval/*.jsonl``.

Metrics (answerable = the document holds the answer):

- evidence@1 / @3: the gold sentence is the first / among the first three sources;
- MRR: mean of 1/rank of the gold sentence among the sources (0 when absent);
- accuracy: some gold short answer is inside the answer (abstaining is wrong), compared
  as SQuAD's evaluation does: case, punctuation and articles ignored;
- conciseness: accurate, and no longer than the shortest gold answer + 40 characters;
- abstention precision / recall over all single questions; per category the
  abstention rate (off- and near-topic) or false-refusal rate (answerable);
- follow-up accuracy: conversation turns after the first answered right
  (gold inside the answer, or abstaining where the document has no answer).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cppqa.datasets.jsonl import read_rows
from cppqa.dialogue.followup import Turn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cppqa.datasets.feedback import Vote
    from cppqa.qa import QA
    from cppqa.records import Answer

CONCISE_SLACK = 40
UNANSWERABLE = ("off_topic", "near_topic")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of an evaluation file (``eval/qa.jsonl``, ``eval/conversations.jsonl``)."""
    return [row for _, row in read_rows(path, what="evaluation file")]


def normalise(text: str) -> str:
    """Text as SQuAD's evaluation compares it: lowercase, without punctuation or
    articles, single-spaced ("The party's" ~ "partys")."""
    text = re.sub(r"[^\w\s]", "", text.lower())
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def contains(answer: str, gold: str) -> bool:
    """Whether the gold answer is inside the answer, whole words, after ``normalise``.

    >>> contains("working class and working people", "the working class")
    True
    >>> contains("1954", "954")
    False
    """
    return f" {normalise(gold)} " in f" {normalise(answer)} "


def judge(answer: Answer, gold: list[str], evidence: str | None) -> dict[str, Any]:
    """How one answer fares against its gold answers and evidence sentence."""
    texts = [s.passage.text for s in answer.sources]
    rank = next((i + 1 for i, t in enumerate(texts) if evidence and evidence.strip() in t), None)
    if not gold:
        return {"right": answer.text is None, "abstained": answer.text is None}
    accurate = answer.text is not None and any(contains(answer.text, g) for g in gold)
    concise = any(
        contains(answer.text or "", g) and len(answer.text or "") <= len(g) + CONCISE_SLACK
        for g in gold
    )
    return {
        "right": accurate,
        "abstained": answer.text is None,
        "accurate": accurate,
        "concise": concise,
        "rank": rank,
    }


def evaluate(qa: QA, folder: Path, split: str = "all") -> dict[str, Any]:
    """Run the evaluation set and return the metrics (and the misses) as a dict."""

    def keep(item: dict[str, Any]) -> bool:
        return split == "all" or item.get("split") == split

    singles = [i for i in read_jsonl(folder / "qa.jsonl") if keep(i)]
    conversations = [c for c in read_jsonl(folder / "conversations.jsonl") if keep(c)]
    results: list[dict[str, Any]] = []
    for item in singles:
        reading = qa.read(item["question"])
        answer = qa.decide(reading)
        verdict = judge(answer, item["answers"], item.get("evidence"))
        proposed = reading.answer.text  # before the threshold: for the trade-off plot
        results.append(
            {
                **item,
                **verdict,
                "got": answer.text,
                "confidence": answer.confidence,
                "proposed": proposed,
                "proposed_right": proposed is not None
                and any(contains(proposed, g) for g in item["answers"]),
            }
        )

    turns: list[dict[str, Any]] = []
    for conversation in conversations:
        history: list[Turn] = []
        for n, turn in enumerate(conversation["turns"]):
            answer = qa.ask(turn["question"], history)
            sentence = answer.sources[0].passage.text if answer.text else None
            history.append(Turn(turn["question"], answer.query, answer.text, sentence))
            verdict = judge(answer, turn["answers"], turn.get("evidence"))
            turns.append(
                {
                    "id": f"{conversation['id']}.{n}",
                    "question": turn["question"],
                    "query": answer.query,
                    "answers": turn["answers"],
                    "got": answer.text,
                    "follow_up": n > 0,
                    **verdict,
                }
            )
    return _report(results, turns, split, qa.threshold)


def evaluate_votes(qa: QA, votes: Sequence[Vote]) -> dict[str, Any]:
    """The reader now, on the web chat's votes (``cppqa.datasets.feedback``).

    A thumbs-up is a labelled question: asked again as the chat understood it then
    (its query, follow-ups resolved), it is right when the answer now holds the
    confirmed one (or abstains, when what was confirmed is "the document does not
    say"). A thumbs-down is a question to label: listed with the answer it got and the
    question as understood. Votes on other documents (a session's uploads) are left
    out and counted.
    """
    from cppqa.search.index import fingerprint

    corpus = fingerprint(qa.index.documents)
    mine = [v for v in votes if v.corpus in (None, corpus)]
    results = []
    for vote in (v for v in mine if v.liked):
        answer = qa.ask(vote.query)
        if vote.answer is None:
            right = answer.text is None
        else:
            right = answer.text is not None and contains(answer.text, vote.answer)
        results.append(
            {
                "question": vote.question,
                "confirmed": vote.answer,
                "got": answer.text,
                "right": right,
            }
        )
    return {
        "other_documents": len(votes) - len(mine),
        "confirmed": len(results),
        "accuracy": _rate(results, "right"),
        "misses": [r for r in results if not r["right"]],
        "to_label": [
            {"question": v.query, "asked": v.question, "rejected": v.answer, "sentence": v.sentence}
            for v in mine
            if not v.liked
        ],
    }


def format_votes(report: dict[str, Any]) -> str:
    """The votes' report as text."""
    lines = [
        f"cppqa on its readers' votes: {report['confirmed']} confirmed answers, "
        f"{_fmt(report['accuracy'])} still right"
        + (
            f" ({report['other_documents']} votes on other documents left out)"
            if report["other_documents"]
            else ""
        ),
    ]
    for m in report["misses"]:
        lines.append(f"  {m['question']!r} → {m['got']!r} (confirmed {m['confirmed']!r})")
    lines.append(f"{len(report['to_label'])} rejected answers to label:")
    for t in report["to_label"]:
        lines.append(f"  {t['question']!r} (got {t['rejected']!r})")
    return "\n".join(lines)


def to_label_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rejected answers as ``eval/qa.jsonl`` rows whose ``answers`` are still to be
    written (a list of exact quotes, or [] for "the document does not say"); ``--adapt``
    refuses them until then."""
    return [
        {"question": t["question"], "answers": None, "rejected": t["rejected"]}
        for t in report["to_label"]
    ]


def _rate(items: list[dict[str, Any]], key: str) -> float | None:
    return round(sum(bool(i[key]) for i in items) / len(items), 3) if items else None


def _report(
    results: list[dict[str, Any]], turns: list[dict[str, Any]], split: str, threshold: float
) -> dict[str, Any]:
    answerable = [r for r in results if r["category"] == "answerable"]
    unanswerable = [r for r in results if r["category"] in UNANSWERABLE]
    abstained = [r for r in results if r["abstained"]]
    follow_ups = [t for t in turns if t["follow_up"]]
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in answerable:
        by_style[r["style"]].append(r)

    def ranking(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "n": len(items),
            "evidence@1": _rate([{"k": i["rank"] == 1} for i in items], "k"),
            "evidence@3": _rate(
                [{"k": i["rank"] is not None and i["rank"] <= 3} for i in items], "k"
            ),
            "mrr": round(sum(1 / i["rank"] for i in items if i["rank"]) / len(items), 3)
            if items
            else None,
            "accuracy": _rate(items, "accurate"),
            "conciseness": _rate(items, "concise"),
            "refused": _rate(items, "abstained"),
        }

    return {
        "split": split,
        "threshold": threshold,
        "answerable": ranking(answerable),
        "by_style": {style: ranking(items) for style, items in sorted(by_style.items())},
        "abstention": {
            "precision": round(
                sum(r["category"] in UNANSWERABLE for r in abstained) / len(abstained), 3
            )
            if abstained
            else None,
            "recall": _rate(unanswerable, "abstained"),
            **{
                f"{c}_abstained": _rate([r for r in results if r["category"] == c], "abstained")
                for c in UNANSWERABLE
            },
            "answerable_refused": _rate(answerable, "abstained"),
        },
        "follow_up": {
            "n": len(follow_ups),
            "accuracy": _rate(follow_ups, "right"),
            "all_turns_accuracy": _rate(turns, "right"),
        },
        # each single question's decision at any threshold (``tradeoff.decisions``)
        "decisions": [
            {k: r[k] for k in ("category", "confidence", "proposed", "proposed_right")}
            for r in results
        ],
        "misses": [
            {k: r.get(k) for k in ("id", "category", "question", "answers", "got", "rank")}
            for r in results
            if not r["right"]
            or (r["category"] == "answerable" and (r["rank"] != 1 or not r["concise"]))
        ]
        + [
            {k: t.get(k) for k in ("id", "question", "query", "answers", "got")}
            for t in turns
            if not t["right"]
        ],
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as aligned text tables."""
    lines = [f"cppqa evaluation ({report['split']} split)", ""]
    header = (
        f"{'':<14}{'n':>5}{'ev@1':>7}{'ev@3':>7}{'MRR':>7}{'acc':>7}{'concise':>9}{'refused':>9}"
    )
    lines.append(header)
    rows = [("answerable", report["answerable"])] + [
        (f"  {style}", row) for style, row in report["by_style"].items()
    ]
    for name, row in rows:
        lines.append(
            f"{name:<14}{row['n']:>5}"
            + "".join(
                f"{_fmt(row[k]):>{w}}"
                for k, w in (
                    ("evidence@1", 7),
                    ("evidence@3", 7),
                    ("mrr", 7),
                    ("accuracy", 7),
                    ("conciseness", 9),
                    ("refused", 9),
                )
            )
        )
    a, follow = report["abstention"], report["follow_up"]
    lines += [
        "",
        f"abstention precision {_fmt(a['precision'])}  recall {_fmt(a['recall'])}",
        f"  off-topic abstained {_fmt(a['off_topic_abstained'])}  near-topic abstained "
        f"{_fmt(a['near_topic_abstained'])}  answerable refused {_fmt(a['answerable_refused'])}",
        f"follow-up turns right {_fmt(follow['accuracy'])} "
        f"(n={follow['n']}; all turns {_fmt(follow['all_turns_accuracy'])})",
        "",
        f"misses ({len(report['misses'])}):",
    ]
    for m in report["misses"]:
        lines.append(
            f"  {m['id']:<8} {m['question']!r} → {m.get('got')!r} "
            f"(gold {m['answers']}, rank {m.get('rank', '-')})"
            + (f" [as {m['query']!r}]" if m.get("query") and m["query"] != m["question"] else "")
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
