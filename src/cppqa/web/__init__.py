"""Serving: the Gradio app, its page and rendering, the HTTP API, feedback votes."""
