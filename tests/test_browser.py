"""The web chat in a real browser: Debian's Chromium driven by Playwright against ``app.py``.

Desktop tests use 1280×900 and phone tests 390×844, the sizes the chat was tried at.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright

from booklets import booklet, turned
from conftest import DOCUMENT, ROOT, make_pdf, served_copy
from cppqa.datasets.feedback import FEEDBACK_FILE
from cppqa.documents.formats import read_document
from cppqa.records import NOT_FOUND
from cppqa.search.index import fingerprint
from cppqa.web.app import EXAMPLES, FEEDBACK_NOTE
from cppqa.web.welcome import SHIPPED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = "<img src=x onerror=alert(1)>"
SCREENSHOT = ROOT / "docs" / "screenshot.png"
UPLOAD_SCREENSHOT = ROOT / "docs" / "screenshot-upload.png"
EXAMPLES_SCREENSHOT = ROOT / "docs" / "screenshot-upload-examples.png"
PHONE_SCREENSHOT = ROOT / "docs" / "screenshot-phone.png"
FEEDBACK_SCREENSHOT = ROOT / "docs" / "screenshot-feedback.png"
PAGE_SCREENSHOT = ROOT / "docs" / "screenshot-page.png"
PAGE_PHONE_SCREENSHOT = ROOT / "docs" / "screenshot-page-phone.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SECRETARY = "Who is the General Secretary of the Party?"
ILLEGAL = "When was the party declared illegal?"
ILLEGAL_SENTENCE = "For this reason, in 1954, the party was declared illegal."
#: The issue's limits for a phone: the header's bottom edge, from the top of the page.
PHONE_HEADER_PX = 120


@dataclass
class Session:
    """One browser tab on the app, with every request and dialog it made."""

    page: Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def replies(self) -> Locator:
        return self.page.locator('[data-testid="bot"]')

    @property
    def box(self) -> Locator:
        return self.page.locator("#question textarea")

    def ask(self, question: str) -> Locator:
        """Type ``question``, press Enter, and wait for the new reply."""
        before = self.replies.count()
        self.submit(question)
        return self.wait_for_reply(before)

    def submit(self, question: str) -> None:
        expect(self.box).to_be_editable()
        self.box.fill(question)
        self.box.press("Enter")

    def wait_for_reply(self, before: int) -> Locator:
        expect(self.replies).to_have_count(before + 1, timeout=30_000)
        reply = self.replies.nth(before)
        expect(reply.locator(".cppqa-reply")).to_be_visible()
        return reply

    def copy_button(self, reply: int) -> Locator:
        """The copy button under the ``reply``-th reply (replies' buttons sit on the left)."""
        return (
            self.page.locator(".message-buttons-left")
            .nth(reply)
            .get_by_role("button", name="Copy message")
        )

    def in_view(self, locator: Locator) -> bool:
        """Whether all of ``locator`` is inside the window, as it stands."""
        box = locator.bounding_box()
        size = self.page.viewport_size
        assert box is not None and size is not None
        return (
            box["y"] >= 0
            and box["y"] + box["height"] <= size["height"]
            and box["x"] >= 0
            and box["x"] + box["width"] <= size["width"]
        )

    def sideways_overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no sideways scroll)."""
        return int(self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))

    def outside_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in {"data", "blob"}
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or deselect -m browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def _opened(browser: Browser, url: str, viewport: dict[str, int]) -> Iterator[Session]:
    """A new tab on the app at ``url``, ``viewport`` wide and high, that may use the clipboard."""
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        session = Session(page)
        page.on("request", lambda request: session.requests.append(request.url))

        def dismiss(dialog: Dialog) -> None:
            session.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.goto(url)
        expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
        yield session
    finally:
        context.close()


@pytest.fixture
def session(browser: Browser, web_url: str) -> Iterator[Session]:
    with _opened(browser, web_url, DESKTOP) as opened:
        yield opened


@pytest.fixture
def phone(browser: Browser, web_url: str) -> Iterator[Session]:
    with _opened(browser, web_url, PHONE) as opened:
        yield opened


def _serious(session: Session) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands."""
    results = Axe().run(session.page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


# --- answers -----------------------------------------------------------------


def test_typed_question_shows_answer_and_source(session: Session) -> None:
    reply = session.ask(SECRETARY)
    expect(reply.locator("p > strong").first).to_have_text("Comrade Imdad Qazi")
    expect(reply.locator("blockquote mark").first).to_have_text("Comrade Imdad Qazi")
    expect(reply.locator("span[title^='calibrated confidence']")).to_have_text("high confidence")
    sources = reply.locator("details")
    expect(sources.locator("li").first).not_to_be_visible()
    sources.locator("summary").click()
    expect(sources.locator("li").first).to_contain_text("communist-party-of-pakistan.txt")
    expect(sources.locator("li").first).to_contain_text("characters 3,667–3,724")


def test_the_named_ask_button_asks(session: Session) -> None:
    session.box.fill("When was the party declared illegal?")
    session.page.get_by_role("button", name="Ask", exact=True).click()
    expect(session.wait_for_reply(0).locator("p > strong").first).to_have_text("1954")


def test_pronoun_follow_up_is_understood(session: Session) -> None:
    session.ask("Who imposed martial law in 1958?")
    reply = session.ask("Who was martyred in his time?")
    expect(reply.locator(".cppqa-meta").first).to_have_text(
        "Understood as: Who was martyred in Ayub Khan's time?"
    )
    expect(reply.locator("p > strong").first).to_have_text("Comrade Hassan Nasir")


def test_off_topic_question_abstains_with_what_it_read_collapsed(session: Session) -> None:
    reply = session.ask("What is the capital of France?")
    expect(reply).to_contain_text(NOT_FOUND)
    checked = reply.locator("details.cppqa-checked")
    expect(checked.locator("summary")).to_contain_text("not an answer")
    expect(checked).not_to_have_attribute("open", re.compile(".*"))
    marks = reply.locator("mark")
    assert marks.count() >= 1  # each passage's best span, inside the collapsed list
    expect(marks.first).to_be_hidden()
    checked.locator("summary").click()
    expect(marks.first).to_be_visible()
    expect(checked.locator("li").first).to_contain_text(
        re.compile(r"best span: confidence \d\.\d\d \((under|reaches) the threshold")
    )


def test_clicking_an_example_asks_it(session: Session) -> None:
    question = "When was the party declared illegal?"
    assert question in EXAMPLES
    session.page.get_by_text(question, exact=True).click()
    reply = session.wait_for_reply(0)
    expect(reply.locator("p > strong").first).to_have_text("1954")
    expect(session.page.locator('[data-testid="user"]').first).to_have_text(question)


def test_injected_html_stays_text(session: Session) -> None:
    session.ask(XSS)
    question = session.page.locator('[data-testid="user"]').last
    expect(question).to_have_text(XSS)
    expect(session.page.locator("#component-0 img, .message-wrap img")).to_have_count(0)
    session.page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert session.dialogs == []


def test_markdown_in_a_question_stays_text(session: Session) -> None:
    """An image in Markdown was fetched, and a link made live, from the user's own
    question (issue 32, hole 9): it shows as typed."""
    typed = "![t](http://127.0.0.1:9/track.png) [x](http://evil.example) **b** www.example.com"
    session.ask(typed)
    question = session.page.locator('[data-testid="user"]').last
    expect(question).to_have_text(typed)
    expect(question.locator("img, a, strong")).to_have_count(0)


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("", "The question is empty"),
        ("   ", "The question is empty"),
        ("???", "has no words to search for"),
        ("why " * 300, "the limit is 1,000"),
    ],
    ids=["empty", "blank", "wordless", "over-long"],
)
def test_a_bad_question_never_locks_the_chat(session: Session, question: str, hint: str) -> None:
    def refused(question: str) -> None:
        with session.page.expect_response(lambda r: "/queue/join" in r.url) as joined:
            session.submit(question)
        assert joined.value.status == 422  # the server's check said no; nothing was asked

    refused(question)
    expect(session.page.get_by_text(hint)).to_be_visible()
    expect(session.box).to_be_editable()
    expect(session.box).to_have_value(question)  # kept, to be corrected
    expect(session.replies).to_have_count(0)
    refused("???")  # and again, after the hint
    expect(session.page.get_by_text("has no words to search for")).to_be_visible()
    reply = session.ask(SECRETARY)
    expect(reply.locator("p > strong").first).to_have_text("Comrade Imdad Qazi")
    expect(session.page.get_by_text(hint)).to_have_count(0)


def test_the_counter_warns_near_the_limit_and_nothing_is_cut(session: Session) -> None:
    counter = session.page.locator("#cppqa-count")
    session.box.fill("a" * 100)
    expect(counter).to_be_hidden()
    session.box.fill("a" * 850)
    expect(counter).to_have_text("850 / 1,000 characters")
    session.box.fill("a " * 600)
    expect(counter).to_have_text("1,200 / 1,000 characters: too long by 200; please shorten it")
    expect(session.box).to_have_value("a " * 600)  # all of it: no silent truncation
    session.box.fill("")
    expect(counter).to_be_hidden()


# --- copy and names ----------------------------------------------------------


def test_copying_a_reply_gives_plain_text(session: Session) -> None:
    session.ask(SECRETARY)
    session.copy_button(0).click()
    copied = session.page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        "Comrade Imdad Qazi\n“Comrade Imdad Qazi is the General Secretary of the Party.”\n"
        "communist-party-of-pakistan.txt:3667-3724"
    )


def test_copying_without_the_clipboard_api_gives_plain_text(browser: Browser, web_url: str) -> None:
    # Over plain http (not localhost) browsers have no navigator.clipboard: Gradio
    # then copies a selected textarea, and the page must still give plain text.
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.add_init_script(
        "delete Navigator.prototype.clipboard; window.copied = [];"
        "addEventListener('copy', (e) => copied.push(e.clipboardData.getData('text/plain')));"
    )
    page = context.new_page()
    page.goto(web_url)
    session = Session(page)
    session.ask("When was the party declared illegal?")
    session.copy_button(0).click()
    page.wait_for_function("window.copied.length > 0")
    copied = page.evaluate("window.copied")
    context.close()
    assert copied == [
        "1954\n“For this reason, in 1954, the party was declared illegal.”\n"
        "communist-party-of-pakistan.txt:1717-1774"
    ]


def test_messages_are_named_in_plain_text(session: Session) -> None:
    session.ask(SECRETARY)
    session.ask(XSS)
    messages = '#chatbot [data-testid="user"], #chatbot [data-testid="bot"]'
    labels = session.page.locator(messages).evaluate_all(
        "messages => messages.map(m => m.getAttribute('aria-label'))"
    )
    assert labels[0] == f"Question: {SECRETARY}"
    assert labels[1].startswith("Reply: Comrade Imdad Qazi\n“Comrade Imdad Qazi is")
    assert labels[2] == f"Question: {XSS}"
    assert all("<div" not in label and "&#" not in label for label in labels), labels


# --- accessibility -----------------------------------------------------------


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x900", "390x844"])
def test_axe_finds_nothing_serious(browser: Browser, web_url: str, size: dict[str, int]) -> None:
    with _opened(browser, web_url, size) as session:
        # the page gives Gradio's examples their role as they appear (page.py): check
        # the page once it has, not in the moment between
        expect(session.page.locator("#chatbot .examples")).to_have_attribute("role", "group")
        assert _serious(session) == [], "the empty chat"
        session.ask(SECRETARY)
        session.ask("What is his title?")
        reply = session.ask("What is the capital of France?")
        reply.locator("summary").first.click()
        assert _serious(session) == [], "a conversation"
        session.replies.first.get_by_role("link", name="Show in document").click()
        expect(session.page.locator("#cppqa-hit")).to_be_visible()
        assert _serious(session) == [], "the document"


# --- uploads -------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped document as a PDF of five small pages."""
    path = tmp_path_factory.mktemp("upload") / "report.pdf"
    path.write_bytes(make_pdf([[DOCUMENT.read_text(encoding="utf-8")]]))
    return path


def _upload(session: Session, *paths: Path) -> None:
    """Open the Add files tab and drop ``paths`` in the box."""
    session.page.get_by_role("tab", name="Add files").click()
    box = session.page.locator("#cppqa-files input[type=file]")
    box.set_input_files([str(path) for path in paths])


def _uploads_held(temp: Path) -> list[str]:
    """The files in the server's upload folders."""
    return sorted(path.name for path in temp.glob("cppqa-upload-*/*"))


def test_an_uploaded_pdf_is_answered_with_its_page_in_its_session_alone(
    browser: Browser, web_url: str, web_temp: Path, report: Path
) -> None:
    document = read_document(report, report.parent)
    page = document.page_at(document.text.index(ILLEGAL_SENTENCE))
    assert page is not None and page > 1
    before = _uploads_held(web_temp)
    with _opened(browser, web_url, DESKTOP) as mine, _opened(browser, web_url, DESKTOP) as theirs:
        _upload(mine, report)
        answering = mine.page.locator("#cppqa-answering")
        expect(answering).to_have_text("Answering from: report.pdf (your upload)", timeout=120_000)
        assert _uploads_held(web_temp) == sorted([*before, "report.pdf"])
        chat = mine.page.get_by_role("tab", name="Chat")
        expect(chat).to_have_attribute("aria-selected", "true")
        reply = mine.ask(ILLEGAL)
        expect(reply.locator("p > strong").first).to_have_text("1954")
        cited = reply.locator("p.cppqa-meta").filter(has_text="confidence")
        expect(cited).to_contain_text(f"report.pdf, p. {page}")
        reply.get_by_role("link", name="Show in document").click()
        hit = mine.page.locator("#cppqa-hit")
        expect(hit).to_have_text(ILLEGAL_SENTENCE)
        expect(hit.locator("strong")).to_have_text("1954")
        expect(mine.page.locator(".cppqa-document h2")).to_have_text("Report")
        # The other browser context never sees it: it answers from the shipped document.
        expect(theirs.page.locator("#cppqa-answering")).to_have_text(
            f"Answering from: {DOCUMENT.name} (the shipped document)"
        )
        other = theirs.ask(ILLEGAL)
        expect(other.locator("p.cppqa-meta").filter(has_text="confidence")).to_contain_text(
            DOCUMENT.name
        )
        expect(other).not_to_contain_text("report.pdf")
        theirs.page.get_by_role("tab", name="Add files").click()
        expect(theirs.page.locator("#cppqa-files").get_by_role("row")).to_have_count(0)
        mine.page.get_by_role("tab", name="Chat").click()
        mine.box.blur()
        mine.page.wait_for_timeout(300)
        mine.page.screenshot(path=str(UPLOAD_SCREENSHOT))
    # Both tabs closed: the server removes the upload with its session.
    deadline = time.monotonic() + 60
    while _uploads_held(web_temp) != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _uploads_held(web_temp) == before


#: People and places of ``harbour``'s sentences: names and dates, no word of the shipped title.
HARBOUR_PEOPLE = ["Mary Brown", "Tomas Berg", "Anna Keller", "Omar Haddad", "Sofia Rossi"]
HARBOUR_PLACES = ["north quay", "old lighthouse", "fish market", "dry dock", "ferry pier"]
#: Words of the shipped document's title and page title, less "the", "of", "a", "ask".
SHIPPED_TITLE_WORDS = {"communist", "party", "pakistan", "history", "short"}
#: Counts shown while an upload is embedded: "embedding 128 / 310 sentences and passages".
EMBEDDING_SEEN = r"""
() => {
  window.cppqaSeen = [];
  new MutationObserver(() => {
    for (const m of document.body.textContent.matchAll(/embedding ([\d,]+) \/ ([\d,]+)/g)) {
      const done = Number(m[1].replaceAll(",", ""));
      if (window.cppqaSeen.at(-1) !== done) window.cppqaSeen.push(done);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


#: Sentences of ``harbour``, in turn: no two pages start or end alike (a running header).
HARBOUR_SENTENCES = [
    "In {year}, {who} rebuilt the {what} of the harbour.",
    "The {what} was painted blue by {who} in {year}.",
    "{who} counted {n} ships at the {what} during {year}.",
    "After a storm in {year}, {who} repaired the {what}.",
    "Records from {year} say that {who} kept the keys of the {what}.",
    "Fishermen thanked {who} for the new {what}, finished in {year}.",
    "{who} wrote a report on the {what} in {year}, counting {n} boats.",
]


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PDF of 200 sentences with names and dates (over 300 texts to embed: five
    batches), nothing about the shipped document."""
    sentences = [
        HARBOUR_SENTENCES[n % 7].format(
            year=1800 + n,
            who=HARBOUR_PEOPLE[n % 5],
            what=HARBOUR_PLACES[n // 5 % 5],
            n=n * 3 + 7,
        )
        for n in range(200)
    ]
    path = tmp_path_factory.mktemp("harbour") / "harbour.pdf"
    path.write_bytes(make_pdf([sentences[start : start + 20] for start in range(0, 200, 20)]))
    return path


def test_an_upload_brings_its_own_title_prompt_and_examples_and_progress_that_moves(
    browser: Browser, web_url: str, harbour: Path
) -> None:
    with _opened(browser, web_url, DESKTOP) as session:
        page = session.page
        page.evaluate(EMBEDDING_SEEN)
        _upload(session, harbour)
        answering = page.locator("#cppqa-answering")
        expect(answering).to_have_text("Answering from: harbour.pdf (your upload)", timeout=180_000)
        seen = page.evaluate("window.cppqaSeen")
        assert sum(b > a for a, b in itertools.pairwise(seen)) >= 3, seen  # rose 3 times
        header = page.locator("#cppqa-header h1")
        expect(header).to_have_text("Ask harbour.pdf")
        expect(page).to_have_title("cppqa: Ask harbour.pdf")
        expect(session.box).to_have_attribute(
            "placeholder", "Ask harbour.pdf (up to 1,000 characters)…"
        )
        examples = page.locator("#chatbot button.example")
        expect(examples.first).to_have_text(re.compile(r"^\s*What happened in 1[89]\d\d\?\s*$"))
        shown = [text.strip() for text in examples.all_inner_texts()]
        assert "What is said about Mary Brown?" in shown, shown
        words = " ".join(
            [
                *shown,
                header.inner_text(),
                page.title(),
                page.locator("#chatbot .placeholder").inner_text(),
                session.box.get_attribute("placeholder") or "",
            ]
        )
        assert SHIPPED_TITLE_WORDS.isdisjoint(words.lower().replace("?", " ").split()), words
        session.box.blur()
        page.wait_for_timeout(300)
        page.screenshot(path=str(EXAMPLES_SCREENSHOT))
        examples.filter(has_text="What is said about Mary Brown?").click()
        reply = session.wait_for_reply(0)
        expect(reply.locator("p.cppqa-meta").filter(has_text="confidence")).to_contain_text(
            "harbour.pdf"
        )
        assert _serious(session) == [], "the page of an upload"
        # The upload removed: the shipped document's page returns.
        page.get_by_role("tab", name="Add files").click()
        page.locator("#cppqa-files").get_by_role("button", name="Clear").click()
        expect(answering).to_contain_text("the shipped document")
        expect(header).to_have_text(SHIPPED.title)
        expect(session.box).to_have_attribute(
            "placeholder", "Ask a question (up to 1,000 characters)…"
        )
        page.get_by_role("tab", name="Chat").click()
        expect(examples).to_have_text(list(EXAMPLES))


def test_a_bad_file_is_said_on_the_page_and_the_chat_goes_on(
    session: Session, web_temp: Path, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    before = _uploads_held(web_temp)
    _upload(session, scan)
    alert = session.page.locator("#cppqa-upload-status [role=alert]")
    expect(alert).to_have_text(
        "'scan.pdf' is not a PDF (it looks like a PNG image): give it the name of its real "
        "type, or export it as PDF again.",
        timeout=60_000,
    )
    expect(session.page.locator("#cppqa-answering")).to_contain_text("the shipped document")
    assert _uploads_held(web_temp) == before  # nothing of it is kept
    assert "scan.pdf" not in {path.name for path in web_temp.rglob("*")}
    assert _serious(session) == [], "the message"
    session.page.get_by_role("tab", name="Chat").click()
    reply = session.ask(SECRETARY)
    expect(reply.locator("p > strong").first).to_have_text("Comrade Imdad Qazi")


def test_axe_finds_nothing_serious_with_the_upload_box(
    browser: Browser, web_url: str, report: Path
) -> None:
    for size in (DESKTOP, PHONE):
        with _opened(browser, web_url, size) as session:
            session.page.get_by_role("tab", name="Add files").click()
            expect(session.page.locator("#cppqa-files")).to_be_visible()
            assert _serious(session) == [], f"the empty upload box at {size}"
    with _opened(browser, web_url, DESKTOP) as session:
        _upload(session, report)
        expect(session.page.locator("#cppqa-answering")).to_contain_text(
            "report.pdf", timeout=120_000
        )
        session.page.get_by_role("tab", name="Add files").click()
        expect(session.page.locator("#cppqa-files").get_by_role("row")).to_have_count(1)
        assert _serious(session) == [], "the upload box holding a file"


# --- the document --------------------------------------------------------------


def test_show_in_document_scrolls_to_that_answer(session: Session) -> None:
    first = session.ask(SECRETARY)  # the document's last sentence: far down the page
    second = session.ask("When was the CPP formed?")  # near its top
    first.get_by_role("link", name="Show in document").click()
    expect(session.page.get_by_role("tab", name="Document")).to_have_attribute(
        "aria-selected", "true"
    )
    hit = session.page.locator("#cppqa-hit")
    expect(hit).to_have_attribute("data-turn", "0")
    expect(hit).to_have_text("Comrade Imdad Qazi is the General Secretary of the Party.")
    expect(hit.locator("strong")).to_have_text("Comrade Imdad Qazi")
    expect(hit).to_be_focused()
    assert session.in_view(hit)
    session.page.get_by_role("tab", name="Chat").click()
    second.get_by_role("link", name="Show in document").click()
    expect(hit).to_have_attribute("data-turn", "1")
    expect(hit.locator("strong")).to_have_text("March 6, 1948")
    expect(hit).to_be_focused()
    assert session.in_view(hit)


@pytest.fixture(scope="module")
def booklet_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped document as an A4 booklet: ``ILLEGAL_SENTENCE`` on page 3."""
    path = tmp_path_factory.mktemp("booklet") / "booklet.pdf"
    path.write_bytes(booklet())
    return path


def _glyphs_on_screen(path: Path, page: int, text: str, image: Locator) -> dict[str, float]:
    """Where PDFium's boxes of ``text`` on ``page`` fall in the page's ``image`` on
    screen: the box around them, in CSS pixels of the window (mapped by PDFium's
    ``FPDF_PageToDevice``, as it draws the page: its crop box and rotation included)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf_page = pdfium.PdfDocument(path)[page - 1]
    textpage = pdf_page.get_textpage()
    found = textpage.search(text, match_case=True).get_next()
    assert found is not None, text
    boxes = [textpage.get_charbox(found[0] + n) for n in range(found[1])]
    shown = image.bounding_box()
    assert shown is not None
    side = 1_000_000  # device units across the page: shares of it to a millionth
    corners = []
    for x, y in [
        (min(b[0] for b in boxes), max(b[3] for b in boxes)),
        (max(b[2] for b in boxes), min(b[1] for b in boxes)),
    ]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(
            pdf_page.raw, 0, 0, side, side, 0, x, y, ctypes.byref(dx), ctypes.byref(dy)
        )
        corners.append((dx.value / side, dy.value / side))
    (x0, y0), (x1, y1) = corners
    return {
        "x": shown["x"] + min(x0, x1) * shown["width"],
        "y": shown["y"] + min(y0, y1) * shown["height"],
        "width": abs(x1 - x0) * shown["width"],
        "height": abs(y1 - y0) * shown["height"],
    }


def _covers(outer: dict[str, float], inner: dict[str, float], slack: float = 2.0) -> bool:
    return (
        outer["x"] - slack <= inner["x"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and outer["y"] - slack <= inner["y"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_show_in_document_shows_a_pdf_answer_highlighted_on_its_page(
    browser: Browser, web_url: str, booklet_pdf: Path
) -> None:
    with _opened(browser, web_url, DESKTOP) as session:
        _upload(session, booklet_pdf)
        expect(session.page.locator("#cppqa-answering")).to_contain_text(
            "booklet.pdf", timeout=120_000
        )
        reply = session.ask(ILLEGAL)
        expect(reply.locator("p > strong").first).to_have_text("1954")
        reply.get_by_role("link", name="Show in document").click()
        image = session.page.locator(".cppqa-page img")
        expect(image).to_be_visible()
        alt = image.get_attribute("alt") or ""
        assert alt.startswith("Page 3 of booklet.pdf") and ILLEGAL_SENTENCE in alt
        assert image.evaluate("img => img.naturalWidth") == round(595.28 * 2)
        hit = session.page.locator('.cppqa-page-hit[data-turn="0"]')
        expect(hit).to_have_count(1)
        assert session.in_view(hit)  # brought into view
        box = hit.bounding_box()
        assert box is not None
        answer = _glyphs_on_screen(booklet_pdf, 3, "1954", image)
        assert _covers(box, answer), (box, answer)  # over the answer's characters
        assert box["width"] < 3 * answer["width"]  # and not the whole line
        # the text view stays below, as the accessible alternative
        expect(session.page.locator("#cppqa-hit")).to_have_text(ILLEGAL_SENTENCE)
        assert _serious(session) == [], "the page view at 1280 px"
        session.page.wait_for_timeout(300)
        session.page.screenshot(path=str(PAGE_SCREENSHOT))
        # a phone: the page fits the width, the highlight stays over the answer
        session.page.set_viewport_size(PHONE)
        session.page.wait_for_timeout(300)
        hit.scroll_into_view_if_needed()
        assert session.sideways_overflow() == 0
        box = hit.bounding_box()
        assert box is not None and _covers(box, _glyphs_on_screen(booklet_pdf, 3, "1954", image))
        assert _serious(session) == [], "the page view at 390 px"
        session.page.screenshot(path=str(PAGE_PHONE_SCREENSHOT))


def test_a_rotated_cropped_page_is_highlighted_over_its_answer(
    browser: Browser, web_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "turned.pdf"  # A4 with /Rotate 90, its crop box off (0, 0)
    path.write_bytes(turned(rotate=90, crop=(20.0, 100.0, 500.0, 830.0)))
    with _opened(browser, web_url, DESKTOP) as session:
        _upload(session, path)
        expect(session.page.locator("#cppqa-answering")).to_contain_text(
            "turned.pdf", timeout=120_000
        )
        reply = session.ask(ILLEGAL)
        expect(reply.locator("p > strong").first).to_have_text("1954")
        reply.get_by_role("link", name="Show in document").click()
        image = session.page.locator(".cppqa-page img")
        expect(image).to_be_visible()
        hit = session.page.locator('.cppqa-page-hit[data-turn="0"]')
        expect(hit).to_have_count(1)
        box = hit.bounding_box()
        assert box is not None
        answer = _glyphs_on_screen(path, 1, "1954", image)
        assert _covers(box, answer), (box, answer)  # over the answer as the page is drawn
        assert box["width"] < 3 * answer["width"]


def test_document_tab_highlights_the_latest_answer(session: Session) -> None:
    session.ask("When was the CPP formed?")
    session.page.get_by_role("tab", name="Document").click()
    hit = session.page.locator("#cppqa-hit")
    expect(hit).to_contain_text("After the formation of Pakistan, the CPP was formed on")
    expect(hit.locator("strong")).to_have_text("March 6, 1948")


def test_clearing_the_chat_forgets_the_conversation_and_the_highlight(session: Session) -> None:
    session.ask(SECRETARY)
    expect(session.ask("What is his title?")).to_contain_text("Understood as")
    session.page.get_by_role("button", name="Clear").click()
    expect(session.replies).to_have_count(0)
    session.page.get_by_role("tab", name="Document").click()
    expect(session.page.locator(".cppqa-document")).to_contain_text(
        DOCUMENT.read_text(encoding="utf-8")[:60]
    )
    expect(session.page.locator("#cppqa-hit")).to_have_count(0)
    session.page.get_by_role("tab", name="Chat").click()
    reply = session.ask("What is his title?")
    expect(reply).not_to_contain_text("Understood as")


def test_page_makes_no_requests_beyond_localhost(session: Session) -> None:
    session.ask(SECRETARY)
    session.page.get_by_role("tab", name="Document").click()
    session.page.wait_for_timeout(1000)  # lazy chunks, fonts, images (the queue stream never idles)
    assert len(session.requests) > 5  # the page, its scripts, styles and the queue
    assert session.outside_requests() == []


# --- thumbs up and down (CPPQA_FEEDBACK_DIR) ------------------------------------


@pytest.fixture(scope="module")
def voting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``app.py`` keeping votes in a folder of its own: its URL and that folder."""
    work = tmp_path_factory.mktemp("voting")
    with served_copy(work, CPPQA_FEEDBACK_DIR=str(work / "votes")) as url:
        yield url, work / "votes"


#: The fingerprint of the shipped corpus (``cppqa.search.index.fingerprint``).
SHIPPED_CORPUS = fingerprint(
    [SimpleNamespace(doc=DOCUMENT.name, sha256=hashlib.sha256(DOCUMENT.read_bytes()).hexdigest())]
)


def _votes(folder: Path, count: int) -> list[dict[str, object]]:
    """The votes kept in ``folder``, once there are ``count`` of them (the event is queued)."""
    path = folder / FEEDBACK_FILE
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.2)
    pytest.fail(f"{count} vote(s) were not kept in {path} within 15 s")


def test_a_thumbs_up_keeps_the_question_and_its_answer(
    browser: Browser, voting: tuple[str, Path]
) -> None:
    url, votes = voting
    text = read_document(DOCUMENT, DOCUMENT.parent).text
    with _opened(browser, url, DESKTOP) as session:
        expect(session.page.locator("#cppqa-feedback-note")).to_have_text(FEEDBACK_NOTE)
        session.ask(SECRETARY)
        session.ask(ILLEGAL)
        thumbs = session.page.locator(".message-buttons-left").nth(1)
        thumbs.get_by_role("button", name="Like", exact=True).click()
        expect(thumbs.get_by_role("button", name="Liked", exact=True)).to_be_visible()
        (vote,) = _votes(votes, 1)
        assert vote == {
            "question": ILLEGAL,
            "query": ILLEGAL,
            "answer": "1954",
            "liked": True,
            "doc": DOCUMENT.name,
            "start": text.index(ILLEGAL_SENTENCE) + ILLEGAL_SENTENCE.index("1954"),
            "sentence": ILLEGAL_SENTENCE,
            "history": [[SECRETARY, "Comrade Imdad Qazi"]],
            "corpus": SHIPPED_CORPUS,  # the shipped document answered, not an upload
            "time": vote["time"],
        }
        assert _serious(session) == [], "the thumbs and the note"
        session.box.blur()
        session.page.wait_for_timeout(300)
        session.page.screenshot(path=str(FEEDBACK_SCREENSHOT))
        # A changed mind is a later line; a thumb taken back (liked="") writes none.
        thumbs.get_by_role("button", name="Dislike", exact=True).click()
        expect(thumbs.get_by_role("button", name="Disliked", exact=True)).to_be_visible()
        assert [v["liked"] for v in _votes(votes, 2)] == [True, False]
        thumbs.get_by_role("button", name="Disliked", exact=True).click()
        expect(thumbs.get_by_role("button", name="Dislike", exact=True)).to_be_visible()
        thumbs.get_by_role("button", name="Like", exact=True).click()  # after it, in order
        assert [v["liked"] for v in _votes(votes, 3)] == [True, False, True]
    assert FEEDBACK_SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_note_on_votes_is_in_view_on_a_phone(
    browser: Browser, voting: tuple[str, Path]
) -> None:
    with _opened(browser, voting[0], PHONE) as phone:
        phone.page.wait_for_timeout(1000)  # late layout
        assert phone.in_view(phone.page.locator("#cppqa-feedback-note"))
        assert phone.in_view(phone.box)
        assert phone.sideways_overflow() == 0


def test_without_a_feedback_dir_there_are_no_thumbs(session: Session) -> None:
    session.ask(SECRETARY)
    expect(session.copy_button(0)).to_be_visible()
    expect(session.page.get_by_role("button", name="Like", exact=True)).to_have_count(0)
    expect(session.page.locator("#cppqa-feedback-note")).to_have_count(0)


# --- a phone -----------------------------------------------------------------


def test_phone_opens_at_the_top_with_an_example_and_the_box_in_view(phone: Session) -> None:
    page = phone.page
    page.wait_for_timeout(1000)  # autofocus and late layout would have scrolled by now
    assert page.evaluate("window.scrollY") == 0
    header = page.locator("#cppqa-header").bounding_box()
    assert header is not None
    assert header["y"] + header["height"] <= PHONE_HEADER_PX
    assert phone.in_view(page.locator("#chatbot button.example").first)
    assert phone.in_view(phone.box)
    assert phone.sideways_overflow() == 0


def test_phone_replies_use_the_full_width(phone: Session) -> None:
    phone.ask("When was the CPP formed?")
    reply = phone.page.locator("#chatbot .message.bot").first
    question = phone.page.locator("#chatbot .message.user").first
    replied, asked = reply.bounding_box(), question.bounding_box()
    assert replied is not None and asked is not None
    # A reply reaches the right edge that questions are aligned to.
    assert abs((replied["x"] + replied["width"]) - (asked["x"] + asked["width"])) <= 1
    phone.replies.first.locator("summary").click()  # file names and long passages
    assert phone.sideways_overflow() == 0


def test_phone_examples_look_like_buttons_and_idle_controls_are_gone(phone: Session) -> None:
    example = phone.page.locator("#chatbot button.example").first
    shadow = example.evaluate("e => getComputedStyle(e).boxShadow")
    assert shadow != "none"
    phone.ask(SECRETARY)
    # Each control is named and does something (Gradio's share icon, unnamed, did nothing).
    names = phone.page.locator("#chatbot button").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('aria-label'))"
    )
    assert set(names) == {"Clear", "Copy message", "Retry", "Undo"}, names
    assert "·" not in phone.page.locator("footer").inner_text()


# --- layout --------------------------------------------------------------------

#: Where the chat's Clear button covers a message the chat shows, at each place the chat
#: is scrolled to (40 px at a time): the visible part of each message, against the button.
COVERED = """
() => {
  const chat = document.querySelector("#chatbot .bubble-wrap");
  const clear = document.querySelector("#chatbot .top-panel").getBoundingClientRect();
  const covered = [];
  for (let top = 0; top <= chat.scrollHeight; top += 40) {
    chat.scrollTop = top;
    const view = chat.getBoundingClientRect();
    const messages = document.querySelectorAll("#chatbot .message, #chatbot .message-buttons");
    for (const message of messages) {
      const r = message.getBoundingClientRect();
      const y0 = Math.max(r.top, view.top), y1 = Math.min(r.bottom, view.bottom);
      const x0 = Math.max(r.left, view.left), x1 = Math.min(r.right, view.right);
      if (y0 < y1 && x0 < x1 && y0 < clear.bottom && y1 > clear.top && x0 < clear.right
          && x1 > clear.left) covered.push(`${top}px: ${message.textContent.slice(0, 40)}`);
    }
  }
  return covered;
}
"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x900", "390x844"])
def test_the_clear_button_never_covers_a_message(
    browser: Browser, web_url: str, size: dict[str, int]
) -> None:
    with _opened(browser, web_url, size) as session:
        session.ask(SECRETARY)
        reply = session.ask("What is the capital of France?")  # a reply as wide as the chat
        reply.locator("summary").first.click()
        session.ask(ILLEGAL)
        expect(session.page.get_by_role("button", name="Clear")).to_be_visible()
        assert session.page.evaluate(COVERED) == []


def _settled(session: Session) -> dict[str, float] | None:
    """The question box's bounding box once it has stopped changing (the same twice,
    250 ms apart; at most 5 s): Gradio sizes it, and the page lays out around it, on
    later frames than the change that caused it."""
    box = session.box.bounding_box()
    for _ in range(20):
        session.page.wait_for_timeout(250)
        now = session.box.bounding_box()
        if now == box:
            break
        box = now
    return box


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x900", "390x844"])
def test_a_long_question_keeps_the_ask_button_and_the_counter_in_view(
    browser: Browser, web_url: str, size: dict[str, int]
) -> None:
    with _opened(browser, web_url, size) as session:
        session.ask(SECRETARY)
        # the empty box as Gradio sizes it (its placeholder may take two lines on a
        # phone), once the page around it has settled after the answer
        session.box.fill("")
        empty = _settled(session)
        session.box.fill("Who " + "really " * 125 + "is he?")  # 885 characters: the counter
        counter = session.page.locator("#cppqa-count")
        expect(counter).to_have_text("885 / 1,000 characters")
        grown = _settled(session)  # and the chat gives up its height
        assert empty is not None and grown is not None
        assert grown["height"] > empty["height"] * 2  # it grew, to a few lines
        assert grown["height"] < size["height"] / 4  # and no further: it scrolls
        ask = session.page.get_by_role("button", name="Ask", exact=True)
        assert session.page.evaluate("window.scrollY") == 0
        assert session.in_view(ask) and session.in_view(counter)
        session.box.fill("")  # back to one line, and the chat to its height
        assert _settled(session) == empty


# --- screenshots for the docs ----------------------------------------------------


def test_screenshot(session: Session) -> None:
    session.ask("Who imposed martial law in 1958?")
    reply = session.ask("Who was martyred in his time?")
    reply.locator("summary").click()
    reply.locator("li").last.scroll_into_view_if_needed()
    session.box.blur()
    session.page.wait_for_timeout(300)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    session.page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert session.outside_requests() == []


def test_phone_screenshot(phone: Session) -> None:
    phone.ask(SECRETARY)
    phone.ask("What is his title?")
    phone.box.blur()
    phone.page.wait_for_timeout(300)
    phone.page.screenshot(path=str(PHONE_SCREENSHOT))
    assert PHONE_SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
