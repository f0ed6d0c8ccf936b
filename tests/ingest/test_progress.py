"""ingest.progress: in a log, a short line every few seconds instead of a bar redrawn per update."""
from __future__ import annotations

import io

from ingest.progress import LogProgress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_few_seconds_and_one_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    bar = LogProgress(256, "files", "file", out, every=5.0, clock=clock)
    for _ in range(256):
        bar.set_postfix_str("report.pdf")
        bar.update()
        clock.now += 0.1  # 25.6 s in all
    bar.close()
    lines = out.getvalue().splitlines()
    assert 5 <= len(lines) <= 7, lines
    assert lines[0].startswith("files: ") and " file" in lines[0] and "report.pdf" in lines[0]
    assert lines[-1] == "files: 256/256 files (100%), 26 s"


def test_nothing_for_a_bar_that_never_moved() -> None:
    out = io.StringIO()
    with LogProgress(10, "embeddings (dense index)", "chunk", out, clock=Clock()):
        pass
    assert out.getvalue() == ""
