"""Errors the store raises, each with a message a user can act on (中文 + English)."""
from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base class: the message is meant for the user."""


class IndexMissingError(StoreError):
    def __init__(self, index_dir: Path | str) -> None:
        super().__init__(
            f"索引不存在或为空({index_dir}),请先运行 `python -m ingest`。"
            f" / The index at {index_dir} is missing or empty: run `python -m ingest` first."
        )


class ModelMismatchError(StoreError):
    def __init__(self, built_with: str, configured: str) -> None:
        super().__init__(
            f"索引由嵌入模型 {built_with} 建立,当前配置为 {configured};请运行 `python -m ingest --rebuild` 重建索引,"
            f"或设置 ERQI_EMBEDDING_MODEL 为原模型。 / The index was built with {built_with} but {configured} is configured:"
            " re-index with `python -m ingest --rebuild`, or set ERQI_EMBEDDING_MODEL back."
        )


class StoreUnavailableError(StoreError):
    """The Chroma server cannot be reached."""
