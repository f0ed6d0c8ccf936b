"""The web process: FastAPI (the JSON API, the OpenAI-compatible route, /docs) with the Gradio page mounted at /,
behind the guard (:mod:`webapp.guard`: origin, rate limits, body limits, the page's upload and file routes, errors).

The services (:mod:`webapp.services`) are built once here and handed to the routers and the page.  Served by
uvicorn with the connection bounds of :mod:`webapp.connections` (``ui.py``, or :func:`webapp.connections.config`).
"""
from __future__ import annotations

import logging
import threading

import gradio as gr
from fastapi_offline import FastAPIOffline

from settings import Settings
from webapp import texts
from webapp.api import api_router
from webapp.errors import install_error_handlers
from webapp.guard import Guard
from webapp.openai_api import openai_router
from webapp.page import CSS, THEME, build_blocks
from webapp.services import Services

log = logging.getLogger("webapp")

QUEUE_CONCURRENCY = 8  # answers computed at the same time (each takes a few ms to ~0.1 s of CPU)
QUEUE_MAX_SIZE = 256  # waiting requests before new ones are turned away


def page_functions(demo: gr.Blocks):
    """(API names, function ids) of the page's events: calls naming anything else are refused by the guard."""
    names = {fn.api_name for fn in demo.fns.values() if isinstance(fn.api_name, str)}
    ids = set(demo.fns)
    return lambda: (names, ids)


def create_app(settings: Settings | None = None, services: Services | None = None, warm_up: bool = True) -> Guard:
    """The services (index + model loaded once) shared by the page and the API; the FastAPI app is ``.app`` of the
    result, the services ``.services``."""
    settings = settings or Settings()
    services = services or Services.build(settings)
    # the query model and the index's first read load while the page is built (about 2 s each on 2 cores)
    warming = threading.Thread(target=services.index.warm_up, name="erqi-warm-up") if warm_up else None
    if warming is not None:
        warming.start()
    # /docs and /redoc with Swagger UI and ReDoc served from the installed package, not a CDN (offline machines).
    app = FastAPIOffline(
        title=texts.UI_TITLE + " API",
        description="Answers quote the indexed reports verbatim, with numbered citations. "
        "The web page is at `/`; an OpenAI-compatible endpoint is at `/v1/chat/completions`. "
        "Uploading, deleting and re-indexing need `Authorization: Bearer "
        "<ERQI_ADMIN_TOKEN>` (or, with no token set, loopback).",
        version="0.1.0",
        static_url="/docs-assets",
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(api_router(services))
    app.include_router(openai_router(services))
    demo = build_blocks(services)
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    # show_error=False: an unexpected error in a page event is "Error", never internal object text.
    app = gr.mount_gradio_app(
        app, demo, path="/", theme=THEME, css=CSS, ssr_mode=False, show_error=False,
        max_file_size=settings.ingest.max_upload_bytes, footer_links=["api"],
    )
    if warming is not None:
        warming.join()
    return Guard(app, settings, page_functions(demo))


def app_from_environment() -> Guard:
    """One worker of `ui.py --workers N` (uvicorn's factory): settings from the environment (ERQI_*)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(Settings())
