"""The web chat in a real browser: Debian's Chromium driven by Playwright against ``app.py``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright

from conftest import ROOT
from cppqa.cli import NOT_FOUND
from cppqa.web import EXAMPLES

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
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Session:
    """One browser tab on the app, with every request and dialog it made."""

    page: Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def replies(self) -> Locator:
        return self.page.locator('[data-testid="bot"]')

    def ask(self, question: str) -> Locator:
        """Type ``question``, press Enter, and wait for the new reply."""
        before = self.replies.count()
        box = self.page.locator("#question textarea")
        expect(box).to_be_editable()
        box.fill(question)
        box.press("Enter")
        return self.wait_for_reply(before)

    def wait_for_reply(self, before: int) -> Locator:
        expect(self.replies).to_have_count(before + 1, timeout=30_000)
        reply = self.replies.nth(before)
        expect(reply.locator(".cppqa-reply")).to_be_visible()
        return reply

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


@pytest.fixture
def session(browser: Browser, web_url: str) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1100, "height": 860})
    page = context.new_page()
    session = Session(page)
    page.on("request", lambda request: session.requests.append(request.url))

    def dismiss(dialog: Dialog) -> None:
        session.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(web_url)
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    yield session
    context.close()


def test_typed_question_shows_answer_and_source(session: Session) -> None:
    reply = session.ask("Who is the General Secretary of the Party?")
    expect(reply.locator("p > strong").first).to_have_text("Comrade Imdad Qazi")
    expect(reply.locator("blockquote mark").first).to_have_text("Comrade Imdad Qazi")
    sources = reply.locator("details")
    expect(sources.locator("li").first).not_to_be_visible()
    sources.locator("summary").click()
    expect(sources.locator("li").first).to_contain_text("communist-party-of-pakistan.txt")
    expect(sources.locator("li").first).to_contain_text("characters 3,667–3,724")


def test_pronoun_follow_up_is_understood(session: Session) -> None:
    session.ask("Who imposed martial law in 1958?")
    reply = session.ask("Who was martyred in his time?")
    expect(reply.locator(".cppqa-meta").first).to_have_text(
        "Understood as: Who was martyred in Ayub Khan's time?"
    )
    expect(reply.locator("p > strong").first).to_have_text("Comrade Hassan Nasir")


def test_off_topic_question_abstains(session: Session) -> None:
    reply = session.ask("What is the capital of France?")
    expect(reply).to_contain_text(NOT_FOUND)
    expect(reply).to_contain_text("not an answer")
    expect(reply.locator("mark")).to_have_count(0)


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


def test_document_tab_highlights_the_answer(session: Session) -> None:
    session.ask("When was the CPP formed?")
    session.page.get_by_role("tab", name="Document").click()
    hit = session.page.locator("#cppqa-hit")
    expect(hit).to_contain_text("After the formation of Pakistan, the CPP was formed on")
    expect(hit.locator("strong")).to_have_text("March 6, 1948")


def test_page_makes_no_requests_beyond_localhost(session: Session) -> None:
    session.ask("Who is the General Secretary of the Party?")
    session.page.get_by_role("tab", name="Document").click()
    session.page.wait_for_timeout(1000)  # lazy chunks, fonts, images (the queue stream never idles)
    assert len(session.requests) > 5  # the page, its scripts, styles and the queue
    assert session.outside_requests() == []


def test_screenshot(session: Session) -> None:
    session.page.set_viewport_size({"width": 1200, "height": 1000})
    session.ask("Who imposed martial law in 1958?")
    reply = session.ask("Who was martyred in his time?")
    reply.locator("summary").click()
    reply.locator("li").last.scroll_into_view_if_needed()
    session.page.locator("#question textarea").blur()
    session.page.wait_for_timeout(300)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    session.page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert session.outside_requests() == []


def test_clearing_the_chat_forgets_the_conversation(session: Session) -> None:
    session.ask("Who is the General Secretary of the Party?")
    expect(session.ask("What is his title?")).to_contain_text("Understood as")
    session.page.get_by_role("button", name="Clear").click()
    expect(session.replies).to_have_count(0)
    reply = session.ask("What is his title?")
    expect(reply).not_to_contain_text("Understood as")
