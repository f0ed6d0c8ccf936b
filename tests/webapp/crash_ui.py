"""`python tests/webapp/crash_ui.py MODE [ui.py arguments…]`: `python ui.py` with one seam, as a crash or a large
index would make it.  Used by tests/webapp/test_crash_recovery.py.

MODE ``kill``: the process kills itself with SIGKILL once a write of the collection is committed, before the kept
keyword index follows it (as a power cut or the OOM killer would in the middle of an upload).
MODE ``hold=FILE``: every update of the kept keyword index waits until FILE exists (an update that takes long, as
cutting the text again does on a 100k-chunk index).  MODE ``plain``: `python ui.py` as it is.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vectorstore.keyword.builder import Builder  # noqa: E402
from vectorstore.keyword.service import LexicalStore  # noqa: E402


def kill_after_the_write() -> None:
    def killed(self: LexicalStore, store: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    LexicalStore.after_write = killed  # type: ignore[method-assign]


def hold_updates(flag: Path) -> None:
    original = Builder.update

    def held(self, *args, **kwargs):
        while not flag.exists():
            time.sleep(0.1)
        return original(self, *args, **kwargs)

    Builder.update = held  # type: ignore[method-assign]


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "kill":
        kill_after_the_write()
    elif mode.startswith("hold="):
        hold_updates(Path(mode.removeprefix("hold=")))
    from ui import main

    sys.exit(main(sys.argv[2:]))
