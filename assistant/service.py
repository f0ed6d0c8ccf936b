"""The assistant: one object per process that loads the index and model once and answers.

The answering pipeline is a LangChain Runnable chain
``prepare (validate, resolve follow-ups) → retrieve → answer``; every caller
(CLI, batch, web page, HTTP API) gets the same :class:`AssistantResponse`.

With ``Settings.llm.base_url`` set, follow-ups are condensed by the LLM
(:mod:`assistant.condense`) and ``answer`` asks the LLM (:mod:`assistant.llm`),
verifies every sentence of its reply (:mod:`assistant.verify`) and falls back to
the extractive answer, with a ``notice``, when the call fails or nothing verifies.
Without it, nothing of the LLM path runs.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda

from assistant import texts
from assistant.compose import answer_text, check_text, cite, related, tentative_text
from assistant.condense import Condenser
from assistant.corpus import CorpusView
from assistant.evidence import Quote
from assistant.extractive import ExtractiveAnswerer
from assistant.factcheck import FactChecker, question_form
from assistant.followup import resolve
from assistant.lists import as_evidence, find_list, promote_enumerations
from assistant.llm import LLMAnswerer, LLMError, Passage, passages_from
from assistant.question import Question, analyse
from assistant.response import AssistantResponse, RetrievedItem, SentenceCheck
from assistant.settings import AssistantConfig
from assistant.validation import InvalidRequest, clean_history, clean_question
from assistant.verify import Verifier, citations_for
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.errors import IndexMissingError
from vectorstore.keyword.snapshot import Snapshot
from vectorstore.records import ScoredChunk
from vectorstore.retriever import HybridRetriever

RETRIEVED_MIN = 5
STREAM_PIECE_CHARS = 6  # extractive answers are streamed in pieces of about this many characters
Task = Literal["ask", "check"]


@dataclass(frozen=True)
class Request:
    """What a caller asks: the chain's input."""

    question: Any  # validated by the first step
    history: Any = None
    id: str | None = None
    task: Task = "ask"
    condense: bool = True  # with an LLM, rewrite a follow-up as a standalone question (asking, not checking)


@dataclass
class Turn:
    """One question on its way through the chain: what each step adds for the next."""

    question: str  # as asked, validated
    analysed: Question  # with follow-up context carried in, read with the index's dictionary
    standalone: str | None  # the standalone wording of a follow-up, else None
    started: float
    view: CorpusView  # one snapshot of the index for the whole question
    id: str | None = None
    task: Task = "ask"
    evidence: list[ScoredChunk] = field(default_factory=list)
    list_items: list[Quote] = field(default_factory=list)
    vector: np.ndarray | None = None  # the question's embedding (retrieval and sentence similarity)
    t_retrieve: float = 0.0

    @property
    def query_vector(self) -> np.ndarray:
        """The question's embedding, which the retrieve step sets before any answer step reads it."""
        if self.vector is None:
            raise RuntimeError("the answer steps run after the retrieve step")
        return self.vector


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class Assistant:
    def __init__(self, settings: AssistantConfig, store: ChunkStore | None = None) -> None:
        self.settings = settings
        self.store = store or ChunkStore(settings, load_embeddings(settings))
        self.retriever = HybridRetriever.from_settings(self.store, settings)
        self.answerer = ExtractiveAnswerer(settings.answering, self.store.embeddings)
        self._view: CorpusView | None = None
        self._lock = threading.Lock()
        self.checker = FactChecker()
        self.llm = LLMAnswerer(settings.llm) if settings.llm.base_url else None
        self.condenser = Condenser(settings) if settings.llm.base_url and settings.llm.condense else None
        self.retrieve_chain: Runnable = RunnableLambda(self._prepare) | RunnableLambda(self._retrieve)
        self.chain: Runnable = self.retrieve_chain | RunnableLambda(self._answer)
        self.check_chain: Runnable = self.retrieve_chain | RunnableLambda(self._verdict)

    # --- public ---------------------------------------------------------------
    def ask(self, question: Any, history: Any = None, id: str | None = None) -> AssistantResponse:
        """Answer one question; raises InvalidRequest for bad input, IndexMissingError for an empty index."""
        return self.chain.invoke(Request(question, history, id))

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
        turn = self.retrieve_chain.invoke(Request(question, history, id))
        return self._stream(turn)

    def check(self, claim: Any, id: str | None = None) -> AssistantResponse:
        """Fact-check a claim: the response carries ``verdict`` and, if contradicted, ``differences``."""
        return self.check_chain.invoke(Request(claim, None, id, task="check", condense=False))

    def evidence_for(self, question: Any, history: Any = None) -> Turn:
        """The question prepared and its evidence retrieved, before any answer is chosen."""
        return self.retrieve_chain.invoke(Request(question, history))

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
    def _prepare(self, request: Request | Mapping[str, Any]) -> Turn:
        """``request``: a :class:`Request`, or its fields as a dict (``chain.invoke({"question": …})``: without
        ``condense``, a follow-up is resolved by the rules, not the LLM)."""
        started = time.perf_counter()
        if not isinstance(request, Request):
            request = Request(**({"condense": False} | dict(request)))
        empty = texts.ERR_EMPTY_CLAIM if request.task == "check" else texts.ERR_EMPTY
        question = clean_question(request.question, self.settings.answering.max_question_chars, empty)
        history = clean_history(request.history, self.settings.answering)
        view = self.corpus_view()  # the question is read with the index's dictionary
        # Full-width digits and punctuation (２０２０年, ？) read like the reports' half-width ones.
        plain = unicodedata.normalize("NFKC", question)
        if self.condenser is not None and request.condense:
            analysed, standalone = self.condenser.resolve(plain, history, view.segmenter)
        else:
            analysed, standalone = resolve(plain, history, view.segmenter)
        return Turn(question, analysed, standalone, started, view, id=request.id, task=request.task)

    def _retrieve(self, turn: Turn) -> Turn:
        started = time.perf_counter()
        view = turn.view
        if not view.index.chunks:
            raise IndexMissingError(self.settings.store.index_dir)
        analysed = turn.analysed
        k = max(self.settings.retrieval.top_k, RETRIEVED_MIN)
        query = analysed.retrieval_query()
        vector = np.asarray(self.store.embeddings.embed_query(query), dtype=np.float32)
        pool_size = self.settings.retrieval.candidate_k if analysed.kind == "list" else k
        pool = self.retriever.search(query, pool_size, index=view.index, vector=vector.tolist())
        items = find_list(
            analysed, [s.chunk for s in pool], view.outline, view.stats, self.settings.answering.min_list_coverage
        )
        turn.evidence = as_evidence(items, promote_enumerations(analysed, pool, k), k)
        turn.list_items, turn.vector = items, vector
        turn.t_retrieve = _ms(started)
        return turn

    def _answer(self, turn: Turn) -> AssistantResponse:
        if self.llm is None:
            return self._extractive(turn)
        started = time.perf_counter()
        passages = passages_from(turn.evidence, self.settings.llm.passages)
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
        passages = passages_from(turn.evidence, self.settings.llm.passages)
        parts: list[str] = []
        try:
            for piece in self.llm.stream(self._llm_question(turn), passages):
                parts.append(piece)
                yield piece
        except LLMError as exc:
            response = self._extractive(
                turn, notice=texts.LLM_NOTICE_ERROR.format(reason=exc.reason), t_llm=_ms(started)
            )
            if not parts:
                yield from _pieces(response.answer)
            yield response
            return
        yield self._from_reply(turn, passages, "".join(parts), started)

    def _respond(self, turn: Turn, started: float, t_llm: float | None = None, **fields: Any) -> AssistantResponse:
        """The one place a response is made: the turn's question and evidence, the answer's ``fields``, the timings
        (``started``: when the answer step began; ``t_llm``: how long the LLM took, if it was asked)."""
        timings = {"retrieve": turn.t_retrieve} | ({"llm": t_llm} if t_llm is not None else {})
        return AssistantResponse(
            id=turn.id,
            question=turn.question,
            standalone_question=turn.standalone,
            task=turn.task,
            retrieved=[RetrievedItem.of(s) for s in turn.evidence],
            timings_ms=timings | {"answer": _ms(started), "total": _ms(turn.started)},
            **fields,
        )

    # --- the LLM path -------------------------------------------------------------
    @staticmethod
    def _llm_question(turn: Turn) -> str:
        return turn.standalone or turn.question

    def _from_reply(self, turn: Turn, passages: list[Passage], reply: str, started: float) -> AssistantResponse:
        """Verify the reply; answer with its verified sentences, or refuse, or fall back to the extractive answer."""
        t_llm = _ms(started)
        view = turn.view
        verification = Verifier(passages, self._llm_question(turn), view.documents, view.segmenter).verify(reply)
        if not verification.sentences:
            return self._extractive(
                turn, notice=texts.LLM_NOTICE_ERROR.format(reason=texts.LLM_REASON_EMPTY), t_llm=t_llm
            )
        if not verification.refused and not verification.answered:
            return self._extractive(
                turn, notice=texts.LLM_NOTICE_UNVERIFIED, sentences=verification.sentences, t_llm=t_llm
            )
        fields: dict[str, Any] = {"mode": "llm", "sentences": verification.sentences}
        if verification.refused:
            fields |= {
                "answer": texts.NO_ANSWER,
                "no_answer": True,
                "related": related(turn.evidence, self.settings.answering.related_k),
            }
        else:
            fields |= {"answer": verification.answer, "citations": citations_for(verification.answered, passages)}
        if verification.dropped:
            fields["notice"] = texts.LLM_NOTICE_DROPPED.format(n=verification.dropped)
        return self._respond(turn, started, t_llm, **fields)

    # --- the extractive path --------------------------------------------------------
    def _extractive(
        self,
        turn: Turn,
        notice: str | None = None,
        sentences: list[SentenceCheck] | None = None,
        t_llm: float | None = None,
    ) -> AssistantResponse:
        """The default answer; with an LLM, the fallback (``notice`` says why, ``sentences`` keeps what failed)."""
        started = time.perf_counter()
        extraction = self.answerer.extract(turn.analysed, turn.evidence, turn.view, turn.query_vector, turn.list_items)
        fields: dict[str, Any] = {
            "no_answer": extraction.no_answer,
            "confidence": round(extraction.confidence, 4),
            "conflict": extraction.conflict,
            "notice": notice,
            "reason": extraction.reason or None,
            "sentences": sentences,
        }
        if extraction.closest:
            citations = cite(extraction.closest)
            fields |= {"answer": tentative_text(citations), "citations": citations, "tentative": True}
        elif extraction.no_answer:
            fields |= {"answer": texts.NO_ANSWER, "related": related(turn.evidence, self.settings.answering.related_k)}
        else:
            citations = cite(extraction.quotes)
            fields |= {
                "answer": answer_text(citations, extraction.is_list, extraction.conflict),
                "citations": citations,
            }
        return self._respond(turn, started, t_llm, **fields)

    def _verdict(self, turn: Turn) -> AssistantResponse:
        started = time.perf_counter()
        view, evidence = turn.view, turn.evidence
        asked = self.answerer.extract(
            analyse(question_form(turn.analysed.text), view.segmenter), evidence, view, turn.query_vector
        )
        result = self.checker.check(
            turn.analysed, evidence, view.stats, answerable=not asked.no_answer, segmenter=view.segmenter
        )
        citations = cite(result.quotes)
        not_found = result.verdict == "not_found"
        return self._respond(
            turn, started,
            answer=check_text(result.verdict, result.differences, citations), verdict=result.verdict,
            differences=result.differences, no_answer=not_found, citations=citations, reason=result.reason or None,
            related=related(evidence, self.settings.answering.related_k) if not_found else [],
        )


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


__all__ = ["Assistant", "InvalidRequest", "Request", "Turn", "error_response"]
