"""The web process: FastAPI (the JSON API, the OpenAI-compatible route, /docs) with the Gradio page mounted at /."""
from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from assistant import texts
from vectorstore.settings import Settings
from webapp.api import api_router, install_error_handlers
from webapp.backend import Backend
from webapp.openai_api import openai_router
from webapp.page import CSS, THEME, build_blocks

log = logging.getLogger("webapp")

QUEUE_CONCURRENCY = 8  # answers computed at the same time (each takes a few ms to ~0.1 s of CPU)
QUEUE_MAX_SIZE = 256  # waiting requests before new ones are turned away


def create_app(settings: Settings | None = None, backend: Backend | None = None, warm_up: bool = True) -> FastAPI:
    """One Backend (index + model loaded once) shared by the page and the API."""
    settings = settings or Settings()
    backend = backend or Backend(settings)
    if warm_up:
        backend.warm_up()
    # /docs and /redoc with Swagger UI and ReDoc served from the installed package, not a CDN (offline machines).
    app = FastAPIOffline(
        title=texts.UI_TITLE + " API",
        description="Answers quote the indexed reports verbatim, with numbered citations. "
        "The web page is at `/`; an OpenAI-compatible endpoint is at `/v1/chat/completions`.",
        version="0.1.0",
        static_url="/docs-assets",
    )
    app.state.backend = backend
    install_error_handlers(app)
    app.include_router(api_router(backend))
    app.include_router(openai_router(backend))
    demo = build_blocks(backend)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return gr.mount_gradio_app(
        app, demo, path="/", theme=THEME, css=CSS, ssr_mode=False, show_error=True,
        max_file_size=settings.max_upload_bytes, footer_links=["api"],
    )

