"""Work a server does beside its questions (embedding new documents, updating the kept keyword index,
cutting texts in a pool) runs at a lower CPU priority: on a machine of two cores the questions go first."""
from __future__ import annotations

import contextlib
import os
import sys
import threading

NICENESS = 10  # added to the default 0; 19 is the lowest priority


def lower_thread_priority() -> None:
    """This thread, and the threads it starts afterwards, yield the CPU to the process's other threads.

    Linux keeps a nice value per thread (``setpriority`` on the thread id); elsewhere nothing changes."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def lower_process_priority() -> None:
    """This whole process yields the CPU (a pool process working for a server)."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
