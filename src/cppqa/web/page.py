"""The web page's look and behaviour: its stylesheet, its script and its fonts.

Static strings that ``cppqa.web.app`` hands to Gradio; nothing here runs in Python.
"""

from __future__ import annotations

SYSTEM_SANS = [
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "sans-serif",
]
SYSTEM_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
CSS = """
#cppqa-header h1 { font-size: 1.5rem; margin: 0 0 .25rem; line-height: 1.25; }
#cppqa-header p { margin: 0; }
.cppqa-reply blockquote { margin: .5em 0; padding: .3em .8em; border-left: 3px solid
  var(--color-accent); background: var(--background-fill-secondary); font-style: normal; }
.cppqa-reply mark, .cppqa-document mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.cppqa-reply details { margin-top: .4em; font-size: .9em; }
.cppqa-reply summary { cursor: pointer; color: var(--body-text-color); opacity: .85; }
.cppqa-reply ol { margin: .3em 0 0 1.2em; padding: 0; }
.cppqa-reply li { margin: .25em 0; }
.cppqa-reply code { white-space: nowrap; }
.cppqa-reply a.cppqa-show { color: var(--body-text-color); text-decoration: underline; }
.cppqa-source { margin: .15em 0 .5em; padding: .1em .7em; border-left: 3px solid
  var(--border-color-primary); }
/* the body colour, faded to no less than 4.5:1 (axe): Gradio's subdued grey is under 3:1 */
.cppqa-meta { color: var(--body-text-color); opacity: .85; font-size: .85em; }
.cppqa-not-answer .cppqa-source { border-left-color: var(--body-text-color-subdued); }
.cppqa-document-view { max-width: 75ch; margin: 0 auto; }
.cppqa-document { white-space: pre-wrap; line-height: 1.7; }
/* the user's own question, as typed: its line breaks kept (web.ASKED) */
.cppqa-asked { white-space: pre-wrap; }
.cppqa-document h2 { white-space: normal; }
#cppqa-hit { scroll-margin: 4rem; }
/* a PDF's answer on its page (cppqa.web.pageview): the page drawn as printed, the answer's
   lines laid over it in shares of the page, so they stay on their words at any width */
.cppqa-pages { margin: .5rem 0 1.5rem; }
.cppqa-page { margin: 0 0 .75rem; }
.cppqa-page-frame { position: relative; line-height: 0; border: 1px solid
  var(--border-color-primary); background: #fff; }
.cppqa-page-frame img { display: block; width: 100%; height: auto; }
.cppqa-page-hit { position: absolute; background: rgba(255, 214, 0, .4); mix-blend-mode:
  multiply; outline: 2px solid #b45309; outline-offset: 1px; border-radius: 2px;
  scroll-margin: 6rem; }
.cppqa-page figcaption { margin-bottom: .3rem; line-height: 1.4; }
/* what a refusal read: the reader's best span in each passage, not an answer */
.cppqa-checked mark { background: none; color: inherit; padding: 0;
  text-decoration: underline dashed; text-underline-offset: .2em; }
/* the selected tab's accent red is 3.6:1 on the page; a darker red of the same hue */
.tabs button.selected { color: var(--primary-700); }
.dark .tabs button.selected { color: var(--primary-300); }
#cppqa-count { margin: 0 .2rem; }
/* the chat's Clear button in a row of its own above the messages: floating over them,
   it covered the top message once the chat scrolled */
#chatbot .top-panel { position: static; align-self: flex-end; flex: none; margin: 4px 6px 0 0; }
#chatbot .bubble-wrap { flex: 1 1 0; min-height: 0; height: auto; }
#cppqa-counter:has(#cppqa-count:empty) { display: none; }
/* the footer: a "·" is left over from the links not shown; Gradio's grey is 2.4:1 */
footer .divider:last-child { display: none; }
footer .show-api { color: var(--body-text-color); opacity: .85; }
/* which documents the chat answers from; a file that could not be read */
#cppqa-answering { min-height: 0; }
#cppqa-answering p { margin: 0 .2rem; line-height: 1.3; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
/* the upload box: Gradio's red label and prompt are 3.1:1 on their pink, its "- or -" less */
#cppqa-files [data-testid="block-label"], #cppqa-files [data-testid="upload-text"] {
  color: var(--primary-700); }
.dark #cppqa-files [data-testid="block-label"], .dark #cppqa-files [data-testid="upload-text"] {
  color: var(--primary-300); }
#cppqa-files .or { color: var(--body-text-color); opacity: .85; }
/* Gradio's "upload more" icon is a button inside a button (axe: serious) named
   "common.upload"; clearing the box and dropping the files again does the same */
#cppqa-files button[aria-label="common.upload"] { display: none; }
/* a file's download link: the file has moved out of Gradio's folder into the session's */
#cppqa-files td.download { display: none; }
.cppqa-problem { margin: .5rem 0; padding: .4em .8em; border-left: 3px solid
  var(--error-text-color); color: var(--body-text-color); }
#cppqa-count.cppqa-over { color: var(--error-text-color); opacity: 1; }
/* examples: bordered buttons, not loose text */
#chatbot button.example { border: 1px solid var(--border-color-primary); border-radius:
  var(--radius-lg); background: var(--background-fill-primary); box-shadow: var(--shadow-drop); }
#chatbot button.example:hover { border-color: var(--color-accent); }
#question button.submit-button { border: 1px solid var(--color-accent); border-radius:
  var(--radius-md); color: var(--primary-700); font-weight: 600; }
.dark #question button.submit-button { color: var(--primary-300); }
@media (max-width: 640px) {
  /* an upload's title (its file names) in two lines at most */
  #cppqa-header h1 { font-size: 1.15rem; display: -webkit-box; -webkit-box-orient: vertical;
    -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden; overflow-wrap: anywhere; }
  #cppqa-header p { font-size: .85rem; line-height: 1.35; }
  #cppqa-header .cppqa-wide { display: none; }
  /* the examples from the top of the chat, compact, not centred below the invitation */
  #chatbot .placeholder { flex-grow: 0; height: auto; padding: .25rem 0 0; }
  #chatbot .examples { padding: .5rem; gap: .5rem; }
  #chatbot button.example { padding: .5rem .75rem; }
  /* replies use the whole width of a phone (Gradio leaves a quarter of it empty) */
  #chatbot .bubble.bot-row { max-width: 100%; }
}
"""

#: The page's script (Gradio runs it once on load). Gradio 6 copies a chat message's raw
#: content and names the message (aria-label) with it; a reply's content is HTML, so
#: both would be markup. Each reply carries its plain text in ``data-copy``: the copy
#: and the name use that. It also counts characters near the limit, opens the Document
#: tab at an answer's place ("Show in document"), names the examples a group, names the
#: browser tab after the page's title, and shortens the chat as a long question grows the box.
JS = """
() => {
  const markup = (text) => /<[a-z]|&#?\\w+;/i.test(text);
  const plain = (raw) => {
    const doc = new DOMParser().parseFromString(raw, "text/html");  // inert: runs nothing
    const reply = doc.querySelector(".cppqa-reply[data-copy]");
    return reply ? reply.dataset.copy : doc.body.textContent;
  };
  const clipboard = navigator.clipboard;
  if (clipboard) {
    const write = clipboard.writeText.bind(clipboard);
    clipboard.writeText = (text) => write(markup(text) ? plain(text) : text);
  }
  // Without the clipboard API (plain http), Gradio copies from a selected textarea.
  document.addEventListener("copy", (event) => {
    const box = event.target;
    if (box instanceof HTMLTextAreaElement && !box.closest("#question") && markup(box.value)) {
      event.clipboardData.setData("text/plain", plain(box.value));
      event.preventDefault();
    }
  }, true);
  // Gradio names messages "bot's message: <raw content>"; say "Reply: <plain text>".
  const NAMES = [["bot's message: ", "Reply: "], ["user's message: ", "Question: "]];
  const relabel = () => {
    for (const message of document.querySelectorAll("#chatbot [aria-label]")) {
      const label = message.getAttribute("aria-label");
      for (const [gradio, ours] of NAMES) {
        if (label.startsWith(gradio)) {
          message.setAttribute("aria-label", ours + plain(label.slice(gradio.length)));
        }
      }
    }
  };
  const count = () => {
    const box = document.querySelector("#question textarea");
    const counter = document.getElementById("cppqa-count");
    if (!box || !counter) return;
    const LIMIT = Number(counter.dataset.limit), FROM = Number(counter.dataset.from);
    const n = [...box.value].length;
    const over = n > LIMIT;
    const text = n >= FROM * LIMIT
      ? `${n.toLocaleString("en")} / ${LIMIT.toLocaleString("en")} characters` +
        (over ? `: too long by ${(n - LIMIT).toLocaleString("en")}; please shorten it` : "")
      : "";
    // Only real changes: the observer below calls this on every change to the page.
    if (counter.textContent !== text) counter.textContent = text;
    if (counter.classList.contains("cppqa-over") !== over) counter.classList.toggle("cppqa-over");
  };
  document.addEventListener("input", (event) => {
    if (event.target.closest && event.target.closest("#question")) count();
  }, true);
  // Gradio's examples are buttons in a role="list" without list items (axe: critical).
  const group = () => {
    for (const examples of document.querySelectorAll('#chatbot .examples[role="list"]')) {
      examples.setAttribute("role", "group");
      examples.setAttribute("aria-label", "Example questions");
    }
  };
  // The header follows the documents the chat answers from; the browser tab follows it.
  const titled = () => {
    const heading = document.querySelector("#cppqa-header h1");
    const title = heading ? `cppqa: ${heading.textContent}` : document.title;
    if (document.title !== title) document.title = title;
  };
  // A long question grows the box (up to web.BOX_LINES lines) and brings the counter
  // under it; the chat gives up as much height (its height subtracts --cppqa-grown), so
  // that the Ask button and the counter stay in view.
  const watched = new WeakSet();
  const watch = () => {
    const box = document.querySelector("#question textarea");
    if (!box || watched.has(box)) return;
    watched.add(box);
    const counter = document.getElementById("cppqa-counter");
    let single = 0;  // the box's height with one line
    const resized = new ResizeObserver(() => {
      const height = box.offsetHeight;
      if (!height) return;  // hidden in another tab
      if (!single || !box.value || height < single) single = height;
      const below = counter ? counter.offsetHeight : 0;
      document.documentElement.style.setProperty("--cppqa-grown", `${height - single + below}px`);
    });
    resized.observe(box);
    if (counter) resized.observe(counter);
  };
  new MutationObserver(() => { relabel(); count(); group(); titled(); watch(); })
    .observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ["aria-label"]});
  // "Show in document": tell the server which answer (it renders the highlight and
  // opens the tab), then bring that highlight into view once it is on screen.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cppqa-show");
    if (!link) return;
    event.preventDefault();
    const turn = link.getAttribute("href").replace("#cppqa-turn-", "");
    window.cppqaTurn = Number(turn);
    document.getElementById("cppqa-show").click();
    const until = Date.now() + 10000;
    const reveal = () => {
      const hit = document.getElementById("cppqa-hit");
      if (hit && hit.dataset.turn === turn && hit.getClientRects().length) {
        // a PDF's answer is shown on its page above the text: bring that into view
        const drawn = document.querySelector(`.cppqa-page-hit[data-turn="${turn}"]`);
        (drawn || hit).scrollIntoView({block: "center"});
        hit.focus({preventScroll: true});
      } else if (Date.now() < until) {
        setTimeout(reveal, 50);
      }
    };
    reveal();
  }, true);
}
"""
