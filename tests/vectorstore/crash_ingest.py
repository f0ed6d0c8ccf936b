"""`python tests/vectorstore/crash_ingest.py POINT N [python -m ingest arguments…]`: `python -m ingest` that kills
itself with SIGKILL at the N-th call of one of its writes, as a power cut or the OOM killer would.

POINT: ``upsert`` (a page of a document's chunks), ``commit`` (the registry record, after all
chunks), ``delete`` (removing a document's old chunks), ``update`` (a batch of embeddings),
``swap`` (replacing the collection in a rebuild).  Used by tests/vectorstore/test_index_integrity.py.
"""
from __future__ import annotations

import os
import signal
import sys

from chromadb.api.models.Collection import Collection

import vectorstore.chroma.maintenance as maintenance
from ingest.__main__ import main
from vectorstore.chroma.registry import SUFFIX


def killer(original, point: str, n: int, chunks_only: bool = True):
    calls = 0

    def wrapper(self, *args, **kwargs):
        nonlocal calls
        relevant = not chunks_only or not self.name.endswith(SUFFIX)
        if point == "commit":
            relevant = self.name.endswith(SUFFIX)
        if relevant:
            calls += 1
            if calls == n:
                os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)

    return wrapper


def kill_on_swap(n: int):
    original, calls = maintenance.drop, 0

    def drop(client, name):
        nonlocal calls
        if not name.endswith("__rebuild") and not name.endswith("__rebuild" + SUFFIX):
            calls += 1
            if calls == n:
                os.kill(os.getpid(), signal.SIGKILL)
        return original(client, name)

    maintenance.drop = drop


if __name__ == "__main__":
    point, n = sys.argv[1], int(sys.argv[2])
    if point == "swap":
        kill_on_swap(n)
    else:
        method = {"upsert": "upsert", "commit": "upsert", "delete": "delete", "update": "update"}[point]
        setattr(Collection, method, killer(getattr(Collection, method), point, n))
    sys.exit(main(sys.argv[3:]))
