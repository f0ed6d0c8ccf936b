"""Chroma's results and arguments as this package reads and writes them.

Chroma types every field of a ``get`` result as optional (whatever ``include`` asked for), a metadata
value as a union of scalars, vectors and lists, and embedding arguments as a union of array and list
shapes.  These helpers say once what the store relies on: the fields it asked for are there, and its
own metadata holds the scalars its records wrote (``Chunk.metadata``, ``DocumentInfo.metadata``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from chromadb.api.types import GetResult, PyEmbeddings, Where

Meta = Mapping[str, Any]
_T = TypeVar("_T")


def _asked(value: _T | None, field: str) -> _T:
    if value is None:
        raise ValueError(f"Chroma returned no {field}: the call must include them")
    return value


def metadatas(result: GetResult) -> list[Meta]:
    """The metadatas of a result that included them, one per id."""
    return list(_asked(result["metadatas"], "metadatas"))


def documents(result: GetResult) -> list[str]:
    """The texts of a result that included them, one per id."""
    return list(_asked(result["documents"], "documents"))


def embeddings(result: GetResult) -> list[Any]:
    """The vectors of a result that included them, one per id."""
    return list(_asked(result["embeddings"], "embeddings"))


def vectors(rows: Iterable[Sequence[float]]) -> PyEmbeddings:
    """Vectors as Chroma's write calls take them."""
    return list(rows)


def of_documents(doc_ids: Sequence[str]) -> Where:
    """The filter for the chunks of these documents."""
    if len(doc_ids) == 1:
        return {"doc_id": doc_ids[0]}
    among: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": list(doc_ids)}
    return {"doc_id": among}
