"""`python ui.py [--host H] [--port P] [--index-dir DIR] [--workers N]`: the web page and the HTTP API (one process,
or N worker processes sharing a Chroma server: see docs/deploy.md)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from webapp import texts

if TYPE_CHECKING:
    from settings import Settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no network calls home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python ui.py", description=texts.CLI_DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index-dir", type=Path, help="index directory (default: ERQI_INDEX_DIR or var/index)")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        help="folder uploads are stored in and re-indexing reads (default: ERQI_CORPUS_DIR or data/corpus)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1); more than one needs a Chroma server (ERQI_CHROMA_HOST, see docs/deploy.md)",
    )
    args = parser.parse_args(argv)

    from settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Workers are new processes that read their settings from the environment: the options go there.
    for name, value in (("ERQI_INDEX_DIR", args.index_dir), ("ERQI_CORPUS_DIR", args.corpus_dir)):
        if value is not None:
            os.environ[name] = str(Path(value).resolve())
    settings = Settings()
    if args.workers == 1:  # the embedding model loads while the web stack is imported (about 2 s of a cold start)
        threading.Thread(target=_preload, args=(settings,), name="erqi-preload", daemon=True).start()

    import uvicorn

    from webapp.app import create_app
    from webapp.connections import WORKER_PROTOCOL, config

    print(texts.BANNER.format(host=args.host, port=args.port), flush=True)
    if args.workers > 1:
        if not settings.store.server_mode:
            print(f"error: {texts.ERR_WORKERS_NEED_SERVER}", file=sys.stderr)
            return 2
        uvicorn.run(
            "webapp.app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            http=WORKER_PROTOCOL,  # slow and idle clients bounded in each worker (webapp/connections.py)
            timeout_keep_alive=settings.web.idle_timeout,
        )
        return 0
    uvicorn.Server(config(create_app(settings), args.host, args.port, settings.web, log_level="info")).run()
    return 0


def _preload(settings: Settings) -> None:
    from vectorstore.embedding.embeddings import preload

    try:
        preload(settings.embedding)
    except Exception:  # noqa: BLE001 - the server loads it again and reports what fails
        logging.getLogger("webapp").exception("preloading the embedding model failed")


if __name__ == "__main__":
    raise SystemExit(main())
