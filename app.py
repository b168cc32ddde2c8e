"""Start the cppqa web chat: ``python app.py`` (Hugging Face Spaces runs this file).

Listens on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 127.0.0.1:7860;
Spaces sets 0.0.0.0:7860). The index is loaded once, here, before serving.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> None:
    # Before gradio is imported: it reads these at import time.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # Spaces installs requirements.txt, not this package: import it from src/.
    if importlib.util.find_spec("cppqa") is None:
        sys.path.insert(0, str(ROOT / "src"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("cppqa").setLevel(logging.INFO)

    from cppqa.qa import QA
    from cppqa.web.app import build_app
    from cppqa.web.server import launch

    host = os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    launch(build_app(QA.load()), host, port)


if __name__ == "__main__":
    main()
