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
            f"或设置 ERQI_EMBEDDING_MODEL 为原模型。 / The index was built "
            f"with {built_with} but {configured} is configured:"
            " re-index with `python -m ingest --rebuild`, or set ERQI_EMBEDDING_MODEL back."
        )


class StoreUnavailableError(StoreError):
    """The Chroma server cannot be reached."""


class IndexBusyError(StoreError):
    """Another process holds the writer lock of an embedded index."""

    def __init__(self, index_dir: Path | str, holder: dict) -> None:
        who = (
            f"PID {holder.get('pid', '?')} on {holder.get('host', '?')} ({holder.get('command', '?')},"
            f" since {holder.get('since', '?')})"
        )
        self.holder = holder
        super().__init__(
            f"索引 {index_dir} 正被另一个进程写入:{who}。请等它结束(`python -m ingest --wait 秒数`),"
            "或在运行中的服务里用「文档」页/API 上传;多个进程需要同时写入时,请改用 Chroma 服务器(ERQI_CHROMA_HOST)。"
            f" / The index at {index_dir} is in use by another writer: {who}. "
            f"Wait for it (`python -m ingest --wait SECONDS`),"
            " add documents through the running server's page or API instead,"
            " or run a Chroma server (ERQI_CHROMA_HOST) for several writers."
        )


class IndexDamagedError(StoreError):
    """The index files cannot be read; `python -m ingest --repair` rebuilds them."""

    def __init__(self, index_dir: Path | str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"索引已损坏({index_dir}):{detail}。请停止服务后运行 `python -m "
            f"ingest --repair`,它会用已存的文本或源文件重建索引。"
            f" / The index at {index_dir} is damaged: {detail}. Stop the server and run `python -m ingest --repair`:"
            " it rebuilds the index from the stored texts or the source files."
        )


FAILED_A_MOMENT_AGO = "it failed a moment ago; retrying shortly"  # the reason while the circuit breaker is open


def unavailable(host: str | None, port: int | None, reason: object) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"Chroma 服务器 {host}:{port} 无法连接或无响应,请稍后再试 / the Chroma "
        f"server at {host}:{port} cannot be reached or does not answer: {reason}"
    )


class IndexPreparingError(StoreError):
    """The keyword index is being built for the first time; questions get this (503) until it is ready."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"关键词索引正在首次建立({detail}),请稍后再试。"
            f" / The keyword index is being built for the first time ({detail}); please try again shortly."
        )


def lexical_damaged(folder: Path | str, detail: str) -> str:
    """Log line for a kept keyword index that cannot be used (it is rebuilt from the collection)."""
    return (f"关键词索引 {folder} 已损坏或不完整({detail}),正在根据向量库重建。"
            f" / The keyword index at {folder} is damaged or incomplete ({detail}); rebuilding it from the collection.")
