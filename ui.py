"""`python ui.py [--host H] [--port P] [--index-dir DIR]`: the web page and the HTTP API in one process."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from webapp import texts

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
    args = parser.parse_args(argv)

    import uvicorn

    from settings import Settings
    from webapp.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: v for k, v in {"index_dir": args.index_dir, "corpus_dir": args.corpus_dir}.items() if v is not None}
    app = create_app(Settings(**overrides))
    print(texts.BANNER.format(host=args.host, port=args.port), flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
