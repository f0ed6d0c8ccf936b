"""Messages of `python -m ingest` for failures nobody anticipated: what happened and what to try, in Chinese and English."""
from __future__ import annotations

import sqlite3


def unexpected(exc: BaseException) -> str:
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"索引文件无法读取({detail});请运行 `python -m ingest --repair`。"
                f" / The index files cannot be read ({detail}): run `python -m ingest --repair`.")
    if isinstance(exc, OSError):
        return f"文件系统错误({detail});请检查路径与权限。 / File system error ({detail}): check the paths and permissions."
    return (f"意外错误({detail});请重试,若索引异常请运行 `python -m ingest --repair`。"
            f" / Unexpected error ({detail}); try again, and if the index misbehaves run `python -m ingest --repair`.")
