"""The assistant: one object per process that loads the index and model once and answers.

The answering pipeline is a LangChain Runnable chain
``prepare (validate, resolve follow-ups) → retrieve → answer``; every caller
(CLI, batch, web page, HTTP API) gets the same :class:`AssistantResponse`.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant import texts
from assistant.compose import answer_text, check_text, cite, related
from assistant.evidence import TermStats
from assistant.extractive import ExtractiveAnswerer
from assistant.factcheck import FactChecker
from assistant.followup import resolve
from assistant.lists import as_evidence, find_list, promote_enumerations
from assistant.response import AssistantResponse, RetrievedItem
from assistant.validation import InvalidRequest, clean_history, clean_question
from vectorstore.embeddings import load_embeddings
from vectorstore.errors import IndexMissingError
from vectorstore.lexical import LexicalIndex
from vectorstore.retriever import HybridRetriever
from vectorstore.settings import Settings
from vectorstore.store import ChunkStore

RETRIEVED_MIN = 5


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class Assistant:
    def __init__(self, settings: Settings, store: ChunkStore | None = None) -> None:
        self.settings = settings
        self.store = store or ChunkStore(settings, load_embeddings(settings))
        self.retriever = HybridRetriever.from_settings(self.store, settings)
        self.answerer = ExtractiveAnswerer(settings)
        self._stats: tuple[LexicalIndex, TermStats] | None = None
        self._lock = threading.Lock()
        self.checker = FactChecker(settings.answer_min_coverage)
        self.chain: Runnable = RunnableLambda(self._prepare) | RunnableLambda(self._retrieve) | RunnableLambda(self._answer)
        self.check_chain: Runnable = RunnableLambda(self._prepare) | RunnableLambda(self._retrieve) | RunnableLambda(self._verdict)

    # --- public ---------------------------------------------------------------
    def ask(self, question: Any, history: Any = None, id: str | None = None) -> AssistantResponse:
        """Answer one question; raises InvalidRequest for bad input, IndexMissingError for an empty index."""
        return self.chain.invoke({"question": question, "history": history, "id": id})

    def check(self, claim: Any, id: str | None = None) -> AssistantResponse:
        """Fact-check a claim: the response carries ``verdict`` and, if contradicted, ``differences``."""
        return self.check_chain.invoke({"question": claim, "history": None, "id": id})

    def warm_up(self) -> None:
        """Build the BM25 index and term statistics now rather than on the first question."""
        self.term_stats()
        self.store.embeddings.embed_query("预热")

    def term_stats(self) -> TermStats:
        index = self.retriever.lexical_index()
        with self._lock:
            if self._stats is None or self._stats[0] is not index:
                self._stats = (index, TermStats(index.chunks))
            return self._stats[1]

    # --- chain steps ------------------------------------------------------------
    def _prepare(self, state: dict) -> dict:
        started = time.perf_counter()
        question = clean_question(state["question"], self.settings.max_question_chars)
        history = clean_history(state.get("history"))
        analysed, standalone = resolve(question, history)
        return state | {"question": question, "analysed": analysed, "standalone": standalone, "t0": started}

    def _retrieve(self, state: dict) -> dict:
        started = time.perf_counter()
        if self.store.count() == 0:
            raise IndexMissingError(self.settings.index_dir)
        analysed = state["analysed"]
        k = max(self.settings.top_k, RETRIEVED_MIN)
        pool = self.retriever.search(analysed.retrieval_query(), self.settings.candidate_k if analysed.kind == "list" else k)
        items = find_list(analysed, self.retriever.all_chunks(), self.term_stats(), self.settings.answer_min_coverage)
        evidence = as_evidence(items, promote_enumerations(analysed, pool, k), k)
        return state | {"evidence": evidence, "list_items": items, "t_retrieve": _ms(started)}

    def _answer(self, state: dict) -> AssistantResponse:
        started = time.perf_counter()
        evidence = state["evidence"]
        stats = self.term_stats()
        extraction = self.answerer.extract(state["analysed"], evidence, stats, state["list_items"])
        response = AssistantResponse(
            id=state.get("id"),
            question=state["question"],
            standalone_question=state["standalone"],
            answer=texts.NO_ANSWER,
            no_answer=extraction.no_answer,
            retrieved=[RetrievedItem.of(s) for s in evidence],
            notice=extraction.reason or None,
        )
        if extraction.no_answer:
            response.related = related(evidence, self.settings.related_k)
        else:
            response.citations = cite(extraction.quotes)
            response.answer = answer_text(response.citations, extraction.is_list)
        response.timings_ms = {"retrieve": state["t_retrieve"], "answer": _ms(started), "total": _ms(state["t0"])}
        return response


    def _verdict(self, state: dict) -> AssistantResponse:
        started = time.perf_counter()
        evidence = state["evidence"]
        result = self.checker.check(state["analysed"], evidence, self.term_stats())
        response = AssistantResponse(
            id=state.get("id"),
            question=state["question"],
            task="check",
            verdict=result.verdict,
            differences=result.differences,
            no_answer=result.verdict == "not_found",
            citations=cite(result.quotes),
            retrieved=[RetrievedItem.of(s) for s in evidence],
            notice=result.reason or None,
            answer="",
        )
        response.answer = check_text(result.verdict, result.differences, response.citations)
        if result.verdict == "not_found":
            response.related = related(evidence, self.settings.related_k)
        response.timings_ms = {"retrieve": state["t_retrieve"], "answer": _ms(started), "total": _ms(state["t0"])}
        return response


def error_response(id: str | None, question: Any, message: str) -> AssistantResponse:
    """The batch contract's line for input that could not be answered."""
    return AssistantResponse(id=id, question=question if isinstance(question, str) else "", answer="", error=message)


__all__ = ["Assistant", "InvalidRequest", "error_response"]
