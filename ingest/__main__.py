"""`python -m ingest [PATH ...]`: index documents into Chroma (default: data/corpus)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ingest import texts
from ingest.pipeline import IngestError, IngestReport, run_ingest
from ingest.repair import run_repair
from settings import Settings
from vectorstore.errors import StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=texts.CLI_DESCRIPTION)

    def flag(*names: str, help: str) -> None:
        parser.add_argument(*names, action="store_true", help=help)

    parser.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the corpus folder from settings, data/corpus)"
    )
    parser.add_argument("--index-dir", type=Path, help="index directory (default: ERQI_INDEX_DIR or var/index)")
    flag("--prune", help="remove indexed documents whose files are not among PATHS any more")
    parser.add_argument("--remove", action="append", metavar="NAME",
                        help="drop one document (file name or doc id) from the index; repeatable")
    flag("--rebuild", help="drop the whole index first (e.g. after changing the embedding model)")
    flag("--repair", help="rebuild a damaged index from its stored texts (or the source files, PATHS included) and "
         "compact it")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another process writing the index (default: fail at once, naming it)")
    flag("-q", "--quiet", help="no progress bars")
    return parser


def print_report(report: IngestReport) -> None:
    for name, reason in report.skipped:
        print(texts.CLI_SKIPPED.format(name=name, reason=reason), file=sys.stderr)
    for name, warning in report.warnings:
        print(texts.CLI_WARNING.format(name=name, warning=warning), file=sys.stderr)
    for name, count, phrase in report.suspicious:
        print(texts.CLI_SUSPICIOUS.format(name=name, count=count, phrase=phrase), file=sys.stderr)
    for line in report.repaired:
        print(texts.CLI_REPAIRED.format(line=line), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    overrides = {"index_dir": args.index_dir} if args.index_dir else {}
    settings = Settings(**overrides)
    paths = args.paths or [settings.ingest.corpus_dir]
    try:
        if args.repair:
            repaired = run_repair(settings, args.paths, show_progress=not args.quiet, wait=args.wait)
            print_report(repaired.ingest)
            print(repaired.summary())
            return 1 if repaired.lost or repaired.ingest.skipped else 0
        report = run_ingest(settings, paths, prune=args.prune, remove=args.remove, rebuild=args.rebuild,
                            show_progress=not args.quiet, wait=args.wait)
    except (IngestError, StoreError) as exc:
        print(texts.CLI_ERROR.format(message=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(texts.CLI_INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a message, not a traceback (the log has the details)
        logging.getLogger("ingest").debug("unexpected error", exc_info=exc)
        print(texts.CLI_ERROR.format(message=texts.unexpected(exc)), file=sys.stderr)
        return 2
    print_report(report)
    print(report.summary())
    return 1 if report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
