"""What the tests share besides fixtures (those are in conftest.py): where the repository and the
bundled corpus are, settings in a folder of the test's, the embedding cache copied, a free port.

Imported as ``from common import …`` (pytest puts tests/ on sys.path for tests/conftest.py).
"""
from __future__ import annotations

import socket
import sqlite3
from pathlib import Path
from typing import Any

from settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO / "data" / "corpus"
PLAN = "erqi-plan-2021-2026.txt"
REVIEW = "erqi-review-2016-2021.txt"
CACHE_FILE = "embedding_cache.sqlite"


def make_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings that ignore any .env file of the working directory."""
    params: dict[str, Any] = {"index_dir": index_dir, "corpus_dir": CORPUS_DIR}
    return Settings(_env_file=None, **(params | overrides))  # type: ignore[call-arg]


def copy_embedding_cache(source_index: Path, target_index: Path) -> None:
    """Copy the passage-vector cache of one index dir into another (sqlite backup API)."""
    target_index.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(Path(source_index) / CACHE_FILE))
    dst = sqlite3.connect(str(target_index / CACHE_FILE))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
