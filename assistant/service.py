"""The assistant: one object per process that loads the index and model once and answers.

The answering pipeline is a LangChain Runnable chain
``prepare (validate, resolve follow-ups) → retrieve → answer``; every caller
(CLI, batch, web page, HTTP API) gets the same :class:`AssistantResponse`.

With ``Settings.llm_base_url`` set, follow-ups are condensed by the LLM
(:mod:`assistant.condense`) and ``answer`` asks the LLM (:mod:`assistant.llm`),
verifies every sentence of its reply (:mod:`assistant.verify`) and falls back to
the extractive answer, with a ``notice``, when the call fails or nothing verifies.
Without it, nothing of the LLM path runs.
"""
from __future__ import annotations

import re
import threading
import unicodedata
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from langchain_core.runnables import Runnable, RunnableLambda

from assistant import texts
from assistant.corpus import CorpusView
from assistant.compose import answer_text, check_text, cite, related, tentative_text
from assistant.condense import Condenser
from assistant.extractive import ExtractiveAnswerer
from assistant.factcheck import FactChecker, question_form
from assistant.followup import resolve
from assistant.lists import as_evidence, find_list, promote_enumerations
from assistant.evidence import Quote
from assistant.llm import LLMAnswerer, LLMError, Passage, passages_from
from assistant.question import Question, analyse
from assistant.response import AssistantResponse, RetrievedItem, SentenceCheck
from assistant.validation import InvalidRequest, clean_history, clean_question
from assistant.verify import Verifier, citations_for
from vectorstore.embeddings import load_embeddings
from vectorstore.errors import IndexMissingError
from vectorstore.lexstore import Snapshot
from vectorstore.records import ScoredChunk
from vectorstore.retriever import HybridRetriever
from vectorstore.settings import Settings
from vectorstore.store import ChunkStore

RETRIEVED_MIN = 5
STREAM_PIECE_CHARS = 6  # extractive answers are streamed in pieces of about this many characters


@dataclass
class Turn:
    """One question on its way through the chain: what each step adds for the next."""

    question: str  # as asked, validated
    analysed: Question  # with follow-up context carried in
    standalone: str | None  # the standalone wording of a follow-up, else None
    started: float
    id: str | None = None
    task: str = "ask"
    evidence: list[ScoredChunk] = field(default_factory=list)
    list_items: list[Quote] = field(default_factory=list)
    view: CorpusView | None = None
    vector: np.ndarray | None = None  # the question's embedding (retrieval and sentence similarity)
    t_retrieve: float = 0.0


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class Assistant:
    def __init__(self, settings: Settings, store: ChunkStore | None = None) -> None:
        self.settings = settings
        self.store = store or ChunkStore(settings, load_embeddings(settings))
        self.retriever = HybridRetriever.from_settings(self.store, settings)
        self.answerer = ExtractiveAnswerer(settings, self.store.embeddings)
        self._view: CorpusView | None = None
        self._lock = threading.Lock()
        self.checker = FactChecker()
        self.llm = LLMAnswerer(settings) if settings.llm_base_url else None
        self.condenser = Condenser(settings) if settings.llm_base_url and settings.llm_condense else None
        self.retrieve_chain: Runnable = RunnableLambda(self._prepare) | RunnableLambda(self._retrieve)
        self.chain: Runnable = self.retrieve_chain | RunnableLambda(self._answer)
        self.check_chain: Runnable = RunnableLambda(self._prepare) | RunnableLambda(self._retrieve) | RunnableLambda(self._verdict)

    # --- public ---------------------------------------------------------------
    def ask(self, question: Any, history: Any = None, id: str | None = None) -> AssistantResponse:
        """Answer one question; raises InvalidRequest for bad input, IndexMissingError for an empty index."""
        return self.chain.invoke({"question": question, "history": history, "id": id, "condense": True})

    def stream(self, question: Any, history: Any = None, id: str | None = None) -> Iterator[str | AssistantResponse]:
        """Answer one question as it is generated: text pieces (``str``), then the final :class:`AssistantResponse`.

        Input is validated and evidence retrieved before this returns, so bad input raises
        InvalidRequest (and an empty index IndexMissingError) here, not while iterating.
        With an LLM the pieces are the model's tokens as they arrive; the reply is verified
        once complete, so the final response is authoritative: its ``answer`` (verified
        sentences only, or the extractive fallback) may differ from the pieces streamed,
        and a caller should show ``response.answer`` once it arrives.  Without an LLM the
        pieces are the extractive answer cut into short runs (never splitting an [n]).
        """
        turn = self.retrieve_chain.invoke({"question": question, "history": history, "id": id, "condense": True})
        return self._stream(turn)

    def check(self, claim: Any, id: str | None = None) -> AssistantResponse:
        """Fact-check a claim: the response carries ``verdict`` and, if contradicted, ``differences``."""
        return self.check_chain.invoke({"question": claim, "history": None, "id": id, "task": "check"})

    def evidence_for(self, question: Any, history: Any = None) -> Turn:
        """The question prepared and its evidence retrieved, before any answer is chosen."""
        return self.retrieve_chain.invoke({"question": question, "history": history, "id": None, "condense": True})

    def warm_up(self) -> None:
        """Load the kept keyword index (BM25, term statistics, outline, vocabulary) and the query model now
        rather than on the first question."""
        self.corpus_view()
        self.store.embeddings.embed_query("预热")

    def corpus_view(self) -> CorpusView:
        """The corpus as the answer steps read it: the newest snapshot of the kept index (one metadata read;
        an update runs in the background while questions read the snapshot before it)."""
        index = self.retriever.lexical_index()
        with self._lock:
            if self._view is None or self._view.index is not index:
                if isinstance(index, Snapshot):
                    self._view = CorpusView.kept(index, self.store.embeddings)
                else:
                    origins = {d.doc_id: d.provenance.origin for d in self.store.documents()}
                    self._view = CorpusView.of(index, self.store.embeddings, origins)
            return self._view

    # --- chain steps ------------------------------------------------------------
    def _prepare(self, request: dict) -> Turn:
        started = time.perf_counter()
        task = request.get("task", "ask")
        empty = texts.ERR_EMPTY_CLAIM if task == "check" else texts.ERR_EMPTY
        question = clean_question(request["question"], self.settings.max_question_chars, empty)
        history = clean_history(request.get("history"))
        # Full-width digits and punctuation (２０２０年, ？) read like the reports' half-width ones.
        plain = unicodedata.normalize("NFKC", question)
        if self.condenser is not None and request.get("condense"):
            analysed, standalone = self.condenser.resolve(plain, history)
        else:
            analysed, standalone = resolve(plain, history)
        return Turn(question, analysed, standalone, started, id=request.get("id"), task=task)

    def _retrieve(self, turn: Turn) -> Turn:
        started = time.perf_counter()
        view = self.corpus_view()  # one snapshot of the index for the whole question
        if not view.index.chunks:
            raise IndexMissingError(self.settings.index_dir)
        analysed = turn.analysed
        k = max(self.settings.top_k, RETRIEVED_MIN)
        query = analysed.retrieval_query()
        vector = np.asarray(self.store.embeddings.embed_query(query), dtype=np.float32)
        pool = self.retriever.search(query, self.settings.candidate_k if analysed.kind == "list" else k, index=view.index, vector=vector.tolist())
        items = find_list(analysed, [s.chunk for s in pool], view.outline, view.stats, self.settings.answer_min_coverage)
        turn.evidence = as_evidence(items, promote_enumerations(analysed, pool, k), k)
        turn.list_items, turn.view, turn.vector = items, view, vector
        turn.t_retrieve = _ms(started)
        return turn

    def _answer(self, turn: Turn) -> AssistantResponse:
        if self.llm is None:
            return self._extractive(turn)
        started = time.perf_counter()
        passages = passages_from(turn.evidence, self.settings.llm_passages)
        try:
            reply = self.llm.generate(self._llm_question(turn), passages)
        except LLMError as exc:
            return self._extractive(turn, notice=texts.LLM_NOTICE_ERROR.format(reason=exc.reason), t_llm=_ms(started))
        return self._from_reply(turn, passages, reply, started)

    def _stream(self, turn: Turn) -> Iterator[str | AssistantResponse]:
        if self.llm is None:
            response = self._extractive(turn)
            yield from _pieces(response.answer)
            yield response
            return
        started = time.perf_counter()
        passages = passages_from(turn.evidence, self.settings.llm_passages)
        parts: list[str] = []
        try:
            for piece in self.llm.stream(self._llm_question(turn), passages):
                parts.append(piece)
                yield piece
        except LLMError as exc:
            response = self._extractive(turn, notice=texts.LLM_NOTICE_ERROR.format(reason=exc.reason), t_llm=_ms(started))
            if not parts:
                yield from _pieces(response.answer)
            yield response
            return
        yield self._from_reply(turn, passages, "".join(parts), started)

    # --- the LLM path -------------------------------------------------------------
    @staticmethod
    def _llm_question(turn: Turn) -> str:
        return turn.standalone or turn.question

    def _from_reply(self, turn: Turn, passages: list[Passage], reply: str, started: float) -> AssistantResponse:
        """Verify the reply; answer with its verified sentences, or refuse, or fall back to the extractive answer."""
        t_llm = _ms(started)
        verification = Verifier(passages, self._llm_question(turn), turn.view.documents).verify(reply)
        if not verification.sentences:
            return self._extractive(turn, notice=texts.LLM_NOTICE_ERROR.format(reason=texts.LLM_REASON_EMPTY), t_llm=t_llm)
        evidence = turn.evidence
        response = AssistantResponse(
            id=turn.id,
            question=turn.question,
            standalone_question=turn.standalone,
            answer=texts.NO_ANSWER,
            retrieved=[RetrievedItem.of(s) for s in evidence],
            mode="llm",
            sentences=verification.sentences,
        )
        if verification.refused:
            response.no_answer = True
            response.related = related(evidence, self.settings.related_k)
        elif not verification.answered:
            return self._extractive(turn, notice=texts.LLM_NOTICE_UNVERIFIED, sentences=verification.sentences, t_llm=t_llm)
        else:
            response.answer = verification.answer
            response.citations = citations_for(verification.answered, passages)
        if verification.dropped:
            response.notice = texts.LLM_NOTICE_DROPPED.format(n=verification.dropped)
        response.timings_ms = {"retrieve": turn.t_retrieve, "llm": t_llm, "answer": _ms(started), "total": _ms(turn.started)}
        return response

    # --- the extractive path --------------------------------------------------------
    def _extractive(
        self, turn: Turn, notice: str | None = None, sentences: list[SentenceCheck] | None = None, t_llm: float | None = None
    ) -> AssistantResponse:
        """The default answer; with an LLM, the fallback (``notice`` says why, ``sentences`` keeps what failed)."""
        started = time.perf_counter()
        evidence = turn.evidence
        extraction = self.answerer.extract(turn.analysed, evidence, turn.view, turn.vector, turn.list_items)
        response = AssistantResponse(
            id=turn.id,
            question=turn.question,
            standalone_question=turn.standalone,
            answer=texts.NO_ANSWER,
            no_answer=extraction.no_answer,
            confidence=round(extraction.confidence, 4),
            conflict=extraction.conflict,
            retrieved=[RetrievedItem.of(s) for s in evidence],
            notice=notice,
            reason=extraction.reason or None,
            sentences=sentences,
        )
        if extraction.closest:
            response.citations, response.tentative = cite(extraction.closest), True
            response.answer = tentative_text(response.citations)
        elif extraction.no_answer:
            response.related = related(evidence, self.settings.related_k)
        else:
            response.citations = cite(extraction.quotes)
            response.answer = answer_text(response.citations, extraction.is_list, extraction.conflict)
        response.timings_ms = {"retrieve": turn.t_retrieve, "answer": _ms(started), "total": _ms(turn.started)}
        if t_llm is not None:
            response.timings_ms["llm"] = t_llm
        return response


    def _verdict(self, turn: Turn) -> AssistantResponse:
        started = time.perf_counter()
        evidence = turn.evidence
        asked = self.answerer.extract(analyse(question_form(turn.analysed.text)), evidence, turn.view, turn.vector)
        result = self.checker.check(turn.analysed, evidence, turn.view.stats, answerable=not asked.no_answer)
        response = AssistantResponse(
            id=turn.id,
            question=turn.question,
            task="check",
            verdict=result.verdict,
            differences=result.differences,
            no_answer=result.verdict == "not_found",
            citations=cite(result.quotes),
            retrieved=[RetrievedItem.of(s) for s in evidence],
            reason=result.reason or None,
            answer="",
        )
        response.answer = check_text(result.verdict, result.differences, response.citations)
        if result.verdict == "not_found":
            response.related = related(evidence, self.settings.related_k)
        response.timings_ms = {"retrieve": turn.t_retrieve, "answer": _ms(started), "total": _ms(turn.started)}
        return response


def _pieces(text: str, size: int = STREAM_PIECE_CHARS) -> Iterator[str]:
    """``text`` in runs of about ``size`` characters; an [n] marker is never cut."""
    piece = ""
    for token in re.findall(r"\[\d+\]|[\s\S]", text):
        piece += token
        if len(piece) >= size:
            yield piece
            piece = ""
    if piece:
        yield piece


def error_response(id: str | None, question: Any, message: str) -> AssistantResponse:
    """The batch contract's line for input that could not be answered."""
    return AssistantResponse(id=id, question=question if isinstance(question, str) else "", answer="", error=message)


__all__ = ["Assistant", "InvalidRequest", "error_response"]
