"""Serving the Gradio app: ``launch`` with the safety settings, and ``BodyLimit``, the
ASGI middleware that refuses request bodies over a limit.

>>> launch(build_app(QA.load()), "127.0.0.1", 7860)           # doctest: +SKIP
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import gradio as gr
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cppqa.config import Settings
from cppqa.web.page import CSS, JS, SYSTEM_MONO, SYSTEM_SANS

#: Largest request body accepted, except uploads. The page sends the whole conversation
#: with some events (~1.3 kB per exchange, measured), so this allows ~700 exchanges.
MAX_REQUEST_BYTES = 1_000_000
#: Most browser sessions whose state (conversation, components) Gradio keeps; the least
#: recently used is forgotten beyond. Gradio's default, 10,000, let memory grow by about
#: 57 KB a session (every request from a new client is one) to gigabytes.
STATE_SESSIONS = 256
#: The path of Gradio's upload route: the one route whose bodies may be documents.
UPLOAD_PATH = "/gradio_api/upload"


def launch(app: gr.Blocks, server_name: str, server_port: int, **options: Any) -> None:
    """Serve ``app`` with the safety settings: request sizes capped, no files served,
    no monitoring, at most ``STATE_SESSIONS`` sessions' state kept. Uploads are
    documents, as large as ``Settings.max_file_bytes`` each. SIGTERM stops the server as
    Ctrl-C does, so that uploads are removed (``atexit``) when a service manager stops it."""
    if threading.current_thread() is threading.main_thread() and not options.get(
        "prevent_thread_lock"
    ):  # Gradio then waits in this thread, and turns the interrupt into a clean stop
        signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings.from_env()
    theme = gr.themes.Soft(primary_hue="red", font=SYSTEM_SANS, font_mono=SYSTEM_MONO)
    # A multipart body is the files plus a little framing for each.
    upload_bytes = settings.max_upload_files * (settings.max_file_bytes + 64 * 1024)
    middleware = [
        Middleware(
            BodyLimit,
            max_bytes=MAX_REQUEST_BYTES,
            larger={UPLOAD_PATH: upload_bytes},
        )
    ]
    app.launch(
        server_name=server_name,
        server_port=server_port,
        theme=theme,
        css=CSS,
        js=JS,
        max_file_size=settings.max_file_bytes,
        app_kwargs={"middleware": middleware},
        enable_monitoring=False,
        run_history=False,
        mcp_server=False,
        ssr_mode=False,
        footer_links=["api"],
        state_session_capacity=STATE_SESSIONS,
        # Our handlers turn every failure into a message (cppqa.web.api.guarded); this lets
        # Gradio's own refusals say why too (a path not uploaded here), not {"error": null}.
        show_error=True,
        **options,
    )


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: Gradio closes the server, then the process exits normally."""
    raise KeyboardInterrupt


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    ``larger`` gives some paths (the upload route) a limit of their own. Checks
    ``Content-Length`` up front and counts the bytes of bodies sent without one
    (chunked), so neither way can make the server buffer more.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", "").rstrip("/"), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, self._reason(limit))
            return message

        await self.app(scope, counted, send)

    @staticmethod
    def _reason(limit: int) -> str:
        return f"request body too large: the limit is {limit:,} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await PlainTextResponse(self._reason(limit), status_code=413)(scope, receive, send)
