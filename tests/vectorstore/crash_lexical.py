"""`python tests/vectorstore/crash_lexical.py POINT N [python -m ingest arguments…]`: `python -m ingest` that
kills itself with SIGKILL in the middle of its keyword-index update, as a power cut or the OOM killer would.

POINT: ``segment`` (at the N-th file of a new segment: the segment is half written), ``generation``
(at the N-th file of a new generation: its documents file written, its manifest not),
``current`` (the N-th generation written, CURRENT not yet moved to it), ``written`` (the N-th write of the
collection committed, its keyword update not begun).  Used by tests/vectorstore/test_lexstore.py.
"""

from __future__ import annotations

import os
import signal
import sys

import vectorstore.keyword.folder as folder
import vectorstore.keyword.segment as segment
from ingest.__main__ import main
from vectorstore.keyword.service import LexicalStore


def kill_at(module, name: str, n: int, when=lambda *args: True) -> None:
    original, calls = getattr(module, name), 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        if when(*args):
            calls += 1
            if calls == n:
                os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(module, name, wrapper)


if __name__ == "__main__":
    point, n = sys.argv[1], int(sys.argv[2])
    if point == "segment":
        kill_at(segment, "_write_file", n)
    elif point == "generation":
        kill_at(
            folder, "_atomic_write", n, lambda path, data: not path.name.startswith("gen-") and path.name != "CURRENT"
        )
    elif point == "written":
        kill_at(LexicalStore, "after_write", n)
    else:
        kill_at(folder, "_atomic_write", n, lambda path, data: path.name == "CURRENT")
    sys.exit(main(sys.argv[3:]))
