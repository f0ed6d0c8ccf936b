"""The web page (Gradio) and the HTTP API (FastAPI) of the assistant; see :func:`webapp.app.create_app`."""
from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):  # imported lazily: gradio is heavy
    from webapp.app import create_app as _create_app

    return _create_app(*args, **kwargs)
