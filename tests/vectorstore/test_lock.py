"""vectorstore.lock.FileLock, the one flock of the package: re-entrant in a process, shared by its threads or
keeping them out, and two locks on one file (two processes, or two objects) keep each other out."""
from __future__ import annotations

import threading
from pathlib import Path

from vectorstore.lock import FileLock, IndexLock, read_holder


def held_elsewhere(lock: FileLock, wait: float | None = 0.0) -> bool:
    """Whether another thread could take ``lock`` within ``wait`` seconds (it lets it go at once)."""
    result: list[bool] = []

    def take() -> None:
        with lock.held(wait) as held:
            result.append(held)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(10)
    return result == [True]


def test_re_entrant_and_shared_by_threads(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "a" / ".lock")
    with lock.held(0) as outer:
        assert outer
        with lock.held(0) as inner:
            assert inner
        assert held_elsewhere(lock), "another thread of the process holds it too"
        assert not FileLock(tmp_path / "a" / ".lock").acquire(0), "another lock on the file is kept out"
    other = FileLock(tmp_path / "a" / ".lock")
    with other.held(0) as held:
        assert held, "released by the last hold"


def test_keeping_the_other_threads_out(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / ".lock", threads="exclude")
    with lock.held(None) as held:
        assert held
        with lock.held(0) as again:
            assert again, "re-entrant in the holding thread"
        assert not held_elsewhere(lock, 0.1)
    assert held_elsewhere(lock)


def test_an_index_lock_names_its_holder_while_held(tmp_path: Path) -> None:
    with IndexLock(tmp_path):
        with IndexLock(tmp_path):  # re-entrant in the process
            assert read_holder(tmp_path)["command"]
        assert read_holder(tmp_path), "still held by the outer one"
    assert read_holder(tmp_path) == {}
