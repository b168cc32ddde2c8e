"""Training examples for the span reader: question + window, with "no answer" at [CLS].

A window is a sentence with its neighbours, as retrieval gives the reader at answer
time. The example stream is a pure function of (index, seed), so a resumed run sees
exactly the examples an uninterrupted one would have. ``train.py`` turns the stream
into a training loop; nothing here imports torch except ``encode``.

Two kinds of source:

- **SQuAD 1.1** (``--data``), all answerable. "No answer" is taught with made-up
  negatives:

  - ``window``: another window of the same article (the answer text absent);
  - ``near``: the window of the same article that shares most words with the question
    but lacks the answer text, as retrieval offers the reader at answer time;
  - ``article``: a window of another article;
  - ``swap``: the right window, but the question with one of its names or numbers
    swapped for another of the same article, so that the window no longer answers it;
  - ``perturb``: the right window, but the question with a number changed (a year, a
    count, an ordinal) or one word of a many-word name replaced by another capitalised
    word of the article, so that it asks after something the window does not name.

- **SQuAD 2.0** (``--mix FILE:SHARE``): questions as the file has them, about half of
  them written by crowdworkers to look answerable from their paragraph when it does
  not answer them (Rajpurkar et al. 2018). An unanswerable one (``unanswerable``) is
  read with the window of its own paragraph that shares most words with it, the
  window retrieval would give it; an answerable one with a window holding its answer.
  Articles of the file's calibration and test split, and the two abstention
  articles, are never drawn (``squad.V2_HELD_OUT``).

With ``group`` > 0 a question comes with ``group`` windows of its article at once,
much as retrieval gives them: the window holding the answer and those sharing most
words with the question that lack it (or only those, or the question perturbed or
swapped, or windows of another article: then no window answers); see ``train.py``
for the loss shared across them.

The windows are chosen in ``windows.py``, the questions changed in ``negatives.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cppqa.datasets.squad import ABSTENTION_ARTICLES, Article
from cppqa.training.negatives import perturb_entity, swap_entity
from cppqa.training.windows import (
    answer_window,
    closest_window,
    closest_windows,
    near_window,
    windows_of,
)

if TYPE_CHECKING:
    from cppqa.training.hyperparameters import TrainConfig


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer_start: int | None  # None: no answer in this window
    answer: str
    kind: str


@dataclass
class Split:
    train: list[Article]
    held_out: list[Article]
    titles_held_out: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- data


def split_articles(articles: list[Article], holdout: int, seed: int) -> Split:
    """Hold out ``holdout`` articles chosen by ``seed``, and always the abstention articles."""
    titles = sorted(a.title for a in articles if a.title not in ABSTENTION_ARTICLES)
    random.Random(seed).shuffle(titles)
    held = set(titles[:holdout]) | set(ABSTENTION_ARTICLES)
    return Split(
        train=[a for a in articles if a.title not in held],
        held_out=[a for a in articles if a.title in held],
        titles_held_out=sorted(held),
    )


def _draw_question(
    articles: list[Article], rng: random.Random
) -> tuple[Article, str, str, str, int] | None:
    """A random article, paragraph and answerable question of it: (article, paragraph,
    question, answer, answer start); None for a paragraph with no answerable question."""
    article = rng.choice(articles)
    context, qas = rng.choice(article.paragraphs)
    answerable = [q for q in qas if q.start >= 0]
    if not answerable:
        return None
    question, answer, start, _ = rng.choice(answerable)
    return article, context, question, answer, start


def make_example(
    articles: list[Article], index: int, config: TrainConfig, seed: int
) -> Example | None:
    """The ``index``-th example of the stream: a pure function of (index, seed)."""
    rng = random.Random(seed * 1_000_003 + index)
    drawn = _draw_question(articles, rng)
    if drawn is None:
        return None
    article, context, question, answer, start = drawn
    size = config.window_sentences
    roll = rng.random()
    if roll < config.neg_window:
        paragraph = rng.choice(article.paragraphs)[0]
        choices = [(a, b) for a, b in windows_of(paragraph, size)]
        choices = [(a, b) for a, b in choices if answer.lower() not in paragraph[a:b].lower()]
        if not choices:
            return None
        a, b = rng.choice(choices)
        return Example(question, paragraph[a:b], None, "", "window")
    roll -= config.neg_window
    if roll < config.neg_near:
        near = near_window(article, question, answer, size, rng)
        return None if near is None else Example(question, near, None, "", "near")
    roll -= config.neg_near
    if roll < config.neg_article:
        other = rng.choice(articles)
        if other.title == article.title:
            return None
        paragraph = rng.choice(other.paragraphs)[0]
        a, b = rng.choice(windows_of(paragraph, size) or [(0, len(paragraph))])
        return Example(question, paragraph[a:b], None, "", "article")
    roll -= config.neg_article
    a, b = answer_window(context, start, answer, size, rng)
    if roll < config.neg_swap + config.neg_perturb:
        text = " ".join(p[0] for p in article.paragraphs)
        if roll >= config.neg_swap:
            changed = perturb_entity(question, context[a:b], text, rng)
            if changed is not None:
                return Example(changed, context[a:b], None, "", "perturb")
        # a swap, or a perturbation of a question with nothing to change
        swapped = swap_entity(question, text, rng)
        return None if swapped is None else Example(swapped, context[a:b], None, "", "swap")
    return Example(question, context[a:b], start - a, answer, "answer")


def make_group(
    articles: list[Article], index: int, config: TrainConfig, seed: int
) -> list[Example] | None:
    """The ``index``-th group of ``config.group`` windows for one question, in random
    order; at most one holds the answer. A pure function of (index, seed)."""
    rng = random.Random((seed + 7_919) * 1_000_003 + index)  # not the single stream's draws
    drawn = _draw_question(articles, rng)
    if drawn is None:
        return None
    article, context, question, answer, start = drawn
    size, k = config.window_sentences, config.group
    missing = config.neg_window + config.neg_near
    changed = missing + config.neg_swap + config.neg_perturb
    roll = rng.random()
    if changed <= roll < changed + config.neg_article:  # another article's windows
        other = rng.choice(articles)
        texts = closest_windows(other, question, "", k, size)
        if other.title == article.title or len(texts) < k:
            return None
        group = [Example(question, t, None, "", "article") for t in texts]
    else:
        n = k if roll < missing else k - 1
        texts = closest_windows(article, question, answer, n, size)
        if len(texts) < n:
            return None
        group = [Example(question, t, None, "", "near") for t in texts]
        if roll >= missing:  # the window holding the answer joins them
            a, b = answer_window(context, start, answer, size, rng)
            window = context[a:b]
            group.append(Example(question, window, start - a, answer, "answer"))
            if roll < changed:  # ... but the question is changed, so no window answers
                text = " ".join(p[0] for p in article.paragraphs)
                perturb = roll >= missing + config.neg_swap
                new = perturb_entity(question, window, text, rng) if perturb else None
                new = new or swap_entity(question, text, rng)
                if new is None:
                    return None
                group = [Example(new, e.context, None, "", "perturb") for e in group]
    rng.shuffle(group)
    return group


def real_example(
    articles: Sequence[Article], index: int, config: TrainConfig, seed: int
) -> Example | None:
    """The ``index``-th example of a SQuAD 2.0 source: a question as the file has it, an
    unanswerable one with its paragraph's closest window. A pure function of (index, seed)."""
    rng = random.Random((seed + 32_452_843) * 1_000_003 + index)  # not the other streams' draws
    context, qas = rng.choice(rng.choice(articles).paragraphs)
    if not qas:
        return None
    question, answer, start, _ = rng.choice(qas)
    size = config.window_sentences
    if start < 0:
        return Example(
            question, closest_window(context, question, size, rng), None, "", "unanswerable"
        )
    a, b = answer_window(context, start, answer, size, rng)
    return Example(question, context[a:b], start - a, answer, "answer")


def source_of(index: int, config: TrainConfig, seed: int) -> int | None:
    """Which source the ``index``-th example comes from: None for ``--data``, else the
    position in ``config.mix``, drawn by the mix's shares."""
    roll = random.Random((seed + 15_485_863) * 1_000_003 + index).random()
    for n, (_, share) in enumerate(config.mix):
        if roll < share:
            return n
        roll -= share
    return None


def _taught_now(index: int, config: TrainConfig, seed: int) -> bool:
    """Whether the ``index``-th example is one of the user's (``--adapt``)."""
    return random.Random((seed + 49_979_687) * 1_000_003 + index).random() < config.adapt_share


def mixable(articles: Sequence[Article], held_out: Sequence[str]) -> list[Article]:
    """The articles of a mixed-in file a run may train on: none of ``held_out`` (the
    run's own held-out articles) nor of ``squad.V2_HELD_OUT``."""
    from cppqa.datasets.squad import V2_HELD_OUT

    barred = set(held_out) | set(V2_HELD_OUT)
    return [a for a in articles if a.title not in barred]


def example_stream(
    articles: list[Article],
    config: TrainConfig,
    seed: int,
    mixed: Sequence[Sequence[Article]] = (),
    taught: Sequence[Example] = (),
) -> Iterator[Example]:
    """Examples one by one; with ``config.group``, a group's windows come consecutively.
    ``mixed`` holds the articles of each ``config.mix`` source, in its order. The examples
    of ``--data`` are those an unmixed stream has at the same index. ``taught`` (the
    examples of ``--adapt``) make ``config.adapt_share`` of the stream, each once an epoch
    in an order shuffled anew each epoch."""
    index = drawn = 0
    order: list[int] = []
    while True:
        if config.group:
            made = make_group(articles, index, config, seed)
            index += 1
            yield from made or []
            continue
        if taught and _taught_now(index, config, seed):
            if drawn % len(taught) == 0:
                order = list(range(len(taught)))
                random.Random(seed * 7_919 + drawn // len(taught)).shuffle(order)
            index += 1
            drawn += 1
            yield taught[order[(drawn - 1) % len(taught)]]
            continue
        source = source_of(index, config, seed) if mixed else None
        if source is None:
            ex = make_example(articles, index, config, seed)
        else:
            ex = real_example(mixed[source], index, config, seed)
        index += 1
        if ex is not None:
            yield ex


# ---------------------------------------------------------------- tensors


def encode(tokenizer: Any, examples: list[Example], max_tokens: int) -> dict[str, Any]:
    """Token ids plus start/end targets (0, the [CLS] position, when there is no answer)."""
    import torch

    from cppqa.reading.reader import tokenize_pairs

    batch = tokenize_pairs(
        tokenizer, [e.question for e in examples], [e.context for e in examples], max_tokens
    )
    offsets = batch.pop("offset_mapping").tolist()
    starts, ends = [], []
    for i, e in enumerate(examples):
        s_tok = e_tok = 0
        if e.answer_start is not None:
            a, b = e.answer_start, e.answer_start + len(e.answer)
            ids = batch.sequence_ids(i)
            context_tokens = [t for t, sid in enumerate(ids) if sid == 1]
            # as utils_qa.py: the first token ending after the start, the last starting
            # before the end (an answer edge on a space still maps to its word)
            firsts = [t for t in context_tokens if offsets[i][t][1] > a]
            lasts = [t for t in context_tokens if offsets[i][t][0] < b]
            whole = bool(context_tokens) and offsets[i][context_tokens[-1]][1] >= b
            if whole and firsts and lasts and firsts[0] <= lasts[-1]:
                s_tok, e_tok = firsts[0], lasts[-1]
            # else truncation cut the answer off: the window as seen holds no answer
        starts.append(s_tok)
        ends.append(e_tok)
    batch["start_positions"] = torch.tensor(starts)
    batch["end_positions"] = torch.tensor(ends)
    context = [[sid == 1 for sid in batch.sequence_ids(i)] for i in range(len(examples))]
    batch["context_mask"] = torch.tensor(context)
    return dict(batch)


def heldout_examples(split: Split, config: TrainConfig, n: int) -> list[Example]:
    """A fixed sample of held-out examples of every kind, from the held-out articles."""
    pool = [a for a in split.held_out if a.title not in ABSTENTION_ARTICLES]
    return _fixed_sample(make_example, pool, config, n)


def heldout_real_examples(
    articles: Sequence[Article], config: TrainConfig, n: int
) -> list[Example]:
    """A fixed sample of SQuAD 2.0 examples (half of them unanswerable) of ``articles``."""
    return _fixed_sample(real_example, articles, config, n)


def _fixed_sample(
    make: Callable[[Any, int, TrainConfig, int], Example | None],
    articles: Sequence[Article],
    config: TrainConfig,
    n: int,
) -> list[Example]:
    """The first ``n`` examples ``make`` gives for ``articles`` with the seed after the
    run's (so never the training stream's draws), trying at most 50 an example."""
    out: list[Example] = []
    index = 0
    while articles and len(out) < n and index < 50 * n:
        ex = make(articles, index, config, config.seed + 1)
        index += 1
        if ex is not None:
            out.append(ex)
    return out
