"""LangChain's standard integration tests for retrievers, run on HybridRetriever
over the session index of the two reports."""
from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from vectorstore.chroma.store import ChunkStore
from vectorstore.retriever import HybridRetriever

# The standard suite reads its configuration from properties, which cannot take
# fixtures: the class fixture below puts the session store here first.
_STORE: dict[str, ChunkStore] = {}
# test_ainvoke_returns_documents is a coroutine: conftest.py marks unmarked
# coroutine tests for pytest-asyncio (strict mode).


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _session_store(self, built_store: ChunkStore) -> None:
        _STORE["store"] = built_store

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"store": _STORE["store"]}

    @property
    def retriever_query_example(self) -> str:
        return "二七区2020年的地区生产总值"


def test_standard_example_query_finds_the_evidence(built_store: ChunkStore) -> None:
    docs = HybridRetriever(store=built_store, k=3).invoke("二七区2020年的地区生产总值")
    assert any("760亿元" in d.page_content for d in docs)
