"""Progress of `python -m ingest`: a bar on a terminal, a short line every few seconds in a log.

A progress bar redraws itself with a carriage return; written to a file or a CI log, every redraw
is a line of its own (over 2,000 for 256 files).  When stderr is not a terminal, one line is written
every :data:`LOG_EVERY_SECONDS` instead, and one at the end.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from tqdm import tqdm

from ingest import texts

LOG_EVERY_SECONDS = 5.0


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str = "") -> Any: ...

    def close(self) -> Any: ...


class LogProgress:
    """``update``/``set_postfix_str``/``close`` like a tqdm bar, written as a line every ``every`` seconds."""

    def __init__(self, total: int, desc: str, unit: str, stream: TextIO | None = None, every: float = LOG_EVERY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.clock = every, clock
        self.done, self.note = 0, ""
        self.started = self.last = clock()
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.clock() - self.last >= self.every:
            self._write()

    def set_postfix_str(self, s: str = "") -> None:
        self.note = s

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.done:
                self._write()

    def _write(self) -> None:
        now = self.clock()
        self.last = now
        percent = 100 * self.done // self.total if self.total else 100
        note = f" {self.note}" if self.note and self.done < self.total else ""
        print(
            texts.PROGRESS_LINE.format(
                desc=self.desc,
                done=self.done,
                total=self.total,
                unit=self.unit,
                percent=percent,
                seconds=now - self.started,
                note=note,
            ),
            file=self.stream,
            flush=True,
        )

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True) -> Progress:
    """A tqdm bar on a terminal, a :class:`LogProgress` otherwise, nothing when not ``enabled``."""
    if enabled and not sys.stderr.isatty():
        return LogProgress(total, desc, unit)
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled)
