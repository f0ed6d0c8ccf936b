"""Parse and chunk files in a worker process with a memory cap and a time limit.

A decompression bomb, a 20,000-page PDF or a pathological HTML file then costs
one clear refusal (:class:`DocumentTooLarge`, HTTP 413, or
:class:`UnreadableFileError`, 422) instead of the memory of the server or of
`python -m ingest`.  The worker is a fresh interpreter (``python -c``, so it
never re-imports the caller's main module, torch or Chroma) that handles files
one after another over a socket pair, caps its own address space with
``RLIMIT_AS`` and is killed when a file takes longer than the limit; a new one
starts for the next file.
"""
from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

from ingest import texts
from ingest.chunker import ChunkingParams, chunk_text
from ingest.limits import DocumentTooLarge, ParseLimits, UnreadableFileError
from ingest.loaders import load_file
from vectorstore.records import Chunk

RECYCLE_AFTER = 200  # files per worker process, so memory fragmentation never accumulates


@dataclass(frozen=True)
class ParseJob:
    path: str
    source: str  # the file name the document is indexed under
    params: ChunkingParams
    limits: ParseLimits
    doc_hash: str = ""
    ingested_at: str = ""


@dataclass(frozen=True)
class ParsedDocument:
    chunks: list[Chunk]
    title: str | None
    fmt: str
    warnings: tuple[str, ...]


def parse_document(job: ParseJob) -> ParsedDocument:
    """File → chunks within the limits (runs in the worker; also callable in-process)."""
    loaded = load_file(job.path, limits=job.limits)
    # the planted-text flags as screened; the caller confirms them (ingest.planted.confirm): no torch here
    chunks = chunk_text(loaded.text, job.source, job.params, loaded.title, job.doc_hash, job.ingested_at,
                        confirmed=False)
    headings = sum(c.kind == "heading" for c in chunks)
    if headings > job.limits.max_headings:
        raise DocumentTooLarge(texts.TOO_MANY_HEADINGS.format(count=headings, limit=job.limits.max_headings))
    if len(chunks) > job.limits.max_chunks:
        raise DocumentTooLarge(texts.TOO_MANY_CHUNKS.format(count=len(chunks), limit=job.limits.max_chunks))
    return ParsedDocument(chunks, loaded.title, loaded.fmt, loaded.warnings)


def _out_of_memory(memory_mb: int) -> str:
    return texts.PARSE_OUT_OF_MEMORY.format(memory_mb=memory_mb)


def _main() -> None:
    """Entry point of the worker process: ``python -c '…_main()' FD MEMORY_MB``."""
    fd, memory_mb = int(sys.argv[1]), int(sys.argv[2])
    _serve(Connection(fd), memory_mb)


def _serve(conn: Connection, memory_mb: int) -> None:
    """The worker's loop: jobs in, ("ok", ParsedDocument) or ("refused", status, reason) out."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", parse_document(job)))
        except UnreadableFileError as exc:
            conn.send(("refused", exc.status, str(exc)))
        except MemoryError:
            conn.send(("refused", 413, _out_of_memory(memory_mb)))
            return  # start afresh: the heap is fragmented
        except RecursionError:
            conn.send(("refused", 422, texts.NESTED_TOO_DEEPLY))
        except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not stop the run
            conn.send(("refused", 422, f"cannot parse: {type(exc).__name__}: {str(exc)[:160]}"))


class ParserWorker:
    """One worker process, used by one thread at a time; restarted after a crash, a timeout or RECYCLE_AFTER files."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._jobs = 0
        self._lock = threading.Lock()

    def parse(self, job: ParseJob) -> ParsedDocument:
        with self._lock:
            conn = self._connection()
            self._jobs += 1
            try:
                conn.send(job)
                if not conn.poll(job.limits.timeout_s):
                    self.close(kill=True)
                    raise DocumentTooLarge(texts.PARSE_TIMEOUT.format(seconds=job.limits.timeout_s))
                reply = conn.recv()
            except (EOFError, OSError):
                code = self.close(kill=True)
                raise DocumentTooLarge(
                    texts.PARSER_STOPPED.format(reason=_out_of_memory(self.memory_mb), code=code)
                ) from None
            if self._jobs >= RECYCLE_AFTER or (reply[0] == "refused" and reply[1] == 413):
                self.close()
        if reply[0] == "ok":
            return reply[1]
        _, status, reason = reply
        raise (DocumentTooLarge if status == 413 else UnreadableFileError)(reason)

    def _connection(self) -> Connection:
        if self._process is None or self._process.poll() is not None or self._conn is None:
            self.close()
            mine, theirs = socket.socketpair()
            code = "from ingest.worker import _main; _main()"
            self._process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), str(self.memory_mb)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=os.environ | {"OMP_NUM_THREADS": "1"},
            )
            theirs.close()
            self._conn, self._jobs = Connection(mine.detach()), 0
        return self._conn

    def close(self, kill: bool = False) -> int | None:
        """Stop the worker (at once with ``kill``); its exit code (None if there was none)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()  # the worker's recv() ends: it exits
        if process is None:
            return None
        if kill:
            process.kill()
        try:
            return process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=5)


_workers: dict[int, ParserWorker] = {}
_workers_lock = threading.Lock()


def worker_for(limits: ParseLimits) -> ParserWorker:
    """The process-wide worker for this memory cap."""
    with _workers_lock:
        if limits.memory_mb not in _workers:
            _workers[limits.memory_mb] = ParserWorker(limits.memory_mb)
        return _workers[limits.memory_mb]
