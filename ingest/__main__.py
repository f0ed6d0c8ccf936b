"""`python -m ingest [PATH ...]`: index documents into Chroma (default: data/corpus)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.pipeline import IngestError, run_ingest
from vectorstore.errors import StoreError
from vectorstore.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Index .txt .md .html .docx .pdf files into the assistant's Chroma index.")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder from settings, data/corpus)")
    parser.add_argument("--index-dir", type=Path, help="index directory (default: ERQI_INDEX_DIR or var/index)")
    parser.add_argument("--prune", action="store_true", help="remove indexed documents whose files are not among PATHS any more")
    parser.add_argument("--remove", action="append", metavar="NAME", help="drop one document (file name or doc id) from the index; repeatable")
    parser.add_argument("--rebuild", action="store_true", help="drop the whole index first (e.g. after changing the embedding model)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {"index_dir": args.index_dir} if args.index_dir else {}
    settings = Settings(**overrides)
    paths = args.paths or [settings.corpus_dir]
    try:
        report = run_ingest(settings, paths, prune=args.prune, remove=args.remove, rebuild=args.rebuild, show_progress=not args.quiet)
    except (IngestError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, reason in report.skipped:
        print(f"skipped: {name}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
