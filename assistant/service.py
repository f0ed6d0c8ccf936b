"""The assistant: one object per process that loads the index, the reader and the models once, and answers.

Every caller (CLI, batch, web page, HTTP API) gets the same :class:`AssistantResponse` through plain calls::

    turn = assistant.prepare(request)        # validate, read the question, resolve a follow-up
    evidence = assistant.retrieve(turn)      # hybrid retrieval (and a list found through the outline)
    return assistant.answer(turn, evidence)  # the reader, the decision, the response

``ask`` and ``stream`` share those steps and one answer step (:meth:`Assistant._reply`): with
``Settings.llm.base_url`` set, follow-ups are condensed by the LLM (:mod:`assistant.condense`) and the answer
is the LLM's reply, every sentence verified (:mod:`assistant.verify`), with the extractive answer as the
fallback, with a ``notice``, when the call fails or nothing verifies.  Without it, nothing of the LLM path runs.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from assistant import texts
from assistant.compose import answer_text, check_text, cite, related, tentative_text
from assistant.condense import Condenser
from assistant.corpus import CorpusView
from assistant.extractive import ExtractiveAnswerer
from assistant.factcheck import FactChecker, question_form
from assistant.followup import previous_question, resolve
from assistant.lists import as_evidence, find_list, promote_enumerations
from assistant.llm import LLMAnswerer, LLMError, Passage, passages_from
from assistant.question import analyse
from assistant.reader import available as reader_available
from assistant.reader import load_reader
from assistant.response import AssistantResponse, Citation, RetrievedItem, SentenceCheck, ShortAnswer
from assistant.settings import AssistantConfig
from assistant.types import AnalysedQuestion, Quote
from assistant.validation import InvalidRequest, clean_history, clean_question
from assistant.verify import Verifier, citations_for
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.embedding.local_model import ensure as local_model
from vectorstore.errors import IndexMissingError
from vectorstore.keyword.snapshot import Snapshot
from vectorstore.records import ScoredChunk
from vectorstore.retriever import HybridRetriever

RETRIEVED_MIN = 5
STREAM_PIECE_CHARS = 6  # extractive answers are streamed in pieces of about this many characters
Task = Literal["ask", "check"]


@dataclass(frozen=True)
class Request:
    """What a caller asks."""

    question: Any  # validated by prepare
    history: Any = None
    id: str | None = None
    task: Task = "ask"
    condense: bool = True  # with an LLM, rewrite a follow-up as a standalone question (asking, not checking)
    flagged: bool = False  # passages flagged as planted text kept in ``retrieved`` (an admin's request), never quoted


@dataclass(frozen=True)
class Turn:
    """One question, validated and read: what the later steps need of it."""

    question: str  # as asked, validated
    analysed: AnalysedQuestion  # with follow-up context carried in, read with the index's dictionary
    standalone: str | None  # the standalone wording of a follow-up, else None
    previous: str | None  # the user's question before this one (the reader reads it with a follow-up)
    started: float
    view: CorpusView  # one snapshot of the index for the whole question
    id: str | None = None
    task: Task = "ask"
    flagged: bool = False  # see Request.flagged


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a turn."""

    chunks: list[ScoredChunk]
    list_items: list[Quote] = field(default_factory=list)  # a list found through the document outline
    ms: float = 0.0


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class Assistant:
    def __init__(self, settings: AssistantConfig, store: ChunkStore | None = None) -> None:
        self.settings = settings
        self.store = store or ChunkStore(settings, load_embeddings(settings))
        self.retriever = HybridRetriever.from_settings(self.store, settings)
        reader = load_reader(local_model(settings.embedding.local_model_dir)) if reader_available() else None
        self.answerer = ExtractiveAnswerer(settings.answering, reader)
        self._view: CorpusView | None = None
        self._lock = threading.Lock()
        self.checker = FactChecker()
        self.llm = LLMAnswerer(settings.llm) if settings.llm.base_url else None
        self.condenser = Condenser(settings) if settings.llm.base_url and settings.llm.condense else None

    # --- public ---------------------------------------------------------------
    def ask(self, question: Any, history: Any = None, id: str | None = None, flagged: bool = False
            ) -> AssistantResponse:
        """Answer one question; raises InvalidRequest for bad input, IndexMissingError for an empty index.
        ``flagged``: passages flagged as planted text are listed in ``retrieved`` (for an admin; never quoted)."""
        turn = self.prepare(Request(question, history, id, flagged=flagged))
        return self.answer(turn, self.retrieve(turn))

    def stream(self, question: Any, history: Any = None, id: str | None = None, flagged: bool = False
               ) -> Iterator[str | AssistantResponse]:
        """Answer one question as it is generated: text pieces (``str``), then the final :class:`AssistantResponse`.

        Input is validated and evidence retrieved before this returns, so bad input raises
        InvalidRequest (and an empty index IndexMissingError) here, not while iterating.
        With an LLM the pieces are the model's tokens as they arrive; the reply is verified
        once complete, so the final response is authoritative: its ``answer`` (verified
        sentences only, or the extractive fallback) may differ from the pieces streamed,
        and a caller should show ``response.answer`` once it arrives.  Without an LLM the
        pieces are the extractive answer cut into short runs (never splitting an [n]).
        """
        turn = self.prepare(Request(question, history, id, flagged=flagged))
        return self._reply(turn, self.retrieve(turn), streaming=True)

    def check(self, claim: Any, id: str | None = None, flagged: bool = False) -> AssistantResponse:
        """Fact-check a claim: the response carries ``verdict``, ``conflict`` when the sources disagree, and, if
        contradicted, ``differences``."""
        turn = self.prepare(Request(claim, None, id, task="check", condense=False, flagged=flagged))
        return self.verdict(turn, self.retrieve(turn))

    def evidence_for(self, question: Any, history: Any = None) -> tuple[Turn, Evidence]:
        """The question prepared and its evidence retrieved, before any answer is chosen."""
        turn = self.prepare(Request(question, history, condense=False))
        return turn, self.retrieve(turn)

    def warm_up(self) -> None:
        """Load the kept keyword index (BM25, term statistics, outline) and the query model now
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

    def indexing(self, view: CorpusView) -> tuple[str, ...]:
        """The listed documents the keyword index this question reads does not hold yet (still being indexed)."""
        index = view.index
        return self.retriever.lexical.indexing(self.store, index) if isinstance(index, Snapshot) else ()

    # --- the steps ------------------------------------------------------------------
    def prepare(self, request: Request) -> Turn:
        started = time.perf_counter()
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
        previous = previous_question(history) if history else None
        return Turn(question, analysed, standalone, previous, started, view, id=request.id, task=request.task,
                    flagged=request.flagged)

    def retrieve(self, turn: Turn) -> Evidence:
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
        # Passages flagged as planted text (ingest.planted) never leave the server: not quoted, not listed, not
        # sent to an LLM (evidence.candidates, compose.related, llm.passages_from skip them); an admin may ask to see
        # them listed in ``retrieved``, marked ``suspicious``.
        if not turn.flagged:
            pool = [s for s in pool if not s.chunk.suspicious]
        items = find_list(
            analysed, [s.chunk for s in pool if not s.chunk.suspicious], view.outline, view.stats,
            self.settings.answering.min_list_coverage,
        )
        items = [q for q in items if not q.chunk.suspicious]
        return Evidence(as_evidence(items, promote_enumerations(analysed, pool, k), k), items, _ms(started))

    def answer(self, turn: Turn, evidence: Evidence) -> AssistantResponse:
        *_, response = self._reply(turn, evidence, streaming=False)
        assert isinstance(response, AssistantResponse)
        return response

    def _reply(self, turn: Turn, evidence: Evidence, streaming: bool) -> Iterator[str | AssistantResponse]:
        """The answer step of ask and stream: the LLM's reply (streamed as it comes), verified, or the
        extractive answer (streamed in pieces); the response last."""
        if self.llm is None:
            response = self._extractive(turn, evidence)
            if streaming:
                yield from _pieces(response.answer)
            yield response
            return
        started = time.perf_counter()
        passages = passages_from(evidence.chunks, self.settings.llm.passages)
        parts: list[str] = []
        try:
            if streaming:
                for piece in self.llm.stream(self._llm_question(turn), passages):
                    parts.append(piece)
                    yield piece
            else:
                parts.append(self.llm.generate(self._llm_question(turn), passages))
        except LLMError as exc:
            response = self._extractive(
                turn, evidence, notice=texts.LLM_NOTICE_ERROR.format(reason=exc.reason), t_llm=_ms(started)
            )
            if streaming and not parts:
                yield from _pieces(response.answer)
            yield response
            return
        yield self._from_reply(turn, evidence, passages, "".join(parts), started)

    def _respond(self, turn: Turn, evidence: Evidence, started: float, t_llm: float | None = None, **fields: Any
                 ) -> AssistantResponse:
        """The one place a response is made: the turn's question and evidence, the answer's ``fields``, the timings
        (``started``: when the answer step began; ``t_llm``: how long the LLM took, if it was asked)."""
        timings = {"retrieve": evidence.ms} | ({"llm": t_llm} if t_llm is not None else {})
        indexing = self.indexing(turn.view)
        if indexing and fields.get("answer"):
            note = texts.INDEXING_NOTE.format(names="、".join(indexing), names_en=", ".join(indexing))
            fields |= {"answer": f"{fields['answer']}\n\n{note}", "indexing": list(indexing)}
        return AssistantResponse(
            id=turn.id,
            question=turn.question,
            standalone_question=turn.standalone,
            task=turn.task,
            retrieved=[RetrievedItem.of(s) for s in evidence.chunks],
            timings_ms=timings | {"answer": _ms(started), "total": _ms(turn.started)},
            **fields,
        )

    # --- the LLM path -------------------------------------------------------------
    @staticmethod
    def _llm_question(turn: Turn) -> str:
        return turn.standalone or turn.question

    def _from_reply(self, turn: Turn, evidence: Evidence, passages: list[Passage], reply: str, started: float
                    ) -> AssistantResponse:
        """Verify the reply; answer with its verified sentences, or refuse, or fall back to the extractive answer."""
        t_llm = _ms(started)
        view = turn.view
        verification = Verifier(passages, self._llm_question(turn), view.documents, view.segmenter).verify(reply)
        if not verification.sentences:
            return self._extractive(
                turn, evidence, notice=texts.LLM_NOTICE_ERROR.format(reason=texts.LLM_REASON_EMPTY), t_llm=t_llm
            )
        if not verification.refused and not verification.answered:
            return self._extractive(
                turn, evidence, notice=texts.LLM_NOTICE_UNVERIFIED, sentences=verification.sentences, t_llm=t_llm
            )
        fields: dict[str, Any] = {"mode": "llm", "sentences": verification.sentences}
        if verification.refused:
            fields |= {
                "answer": texts.NO_ANSWER,
                "no_answer": True,
                "related": related(evidence.chunks, self.settings.answering.related_k),
            }
        else:
            fields |= {"answer": verification.answer, "citations": citations_for(verification.answered, passages)}
        if verification.dropped:
            fields["notice"] = texts.LLM_NOTICE_DROPPED.format(n=verification.dropped)
        return self._respond(turn, evidence, started, t_llm, **fields)

    # --- the extractive path --------------------------------------------------------
    def _extractive(
        self,
        turn: Turn,
        evidence: Evidence,
        notice: str | None = None,
        sentences: list[SentenceCheck] | None = None,
        t_llm: float | None = None,
    ) -> AssistantResponse:
        """The default answer; with an LLM, the fallback (``notice`` says why, ``sentences`` keeps what failed)."""
        started = time.perf_counter()
        extraction = self.answerer.extract(turn.analysed, evidence.chunks, turn.view, evidence.list_items,
                                           asked=turn.question, previous=turn.previous)
        fields: dict[str, Any] = {
            "no_answer": extraction.no_answer,
            "confidence": round(extraction.confidence, 4),
            "conflict": extraction.conflict,
            "notice": notice,
            "reason": extraction.reason or None,
            "sentences": sentences,
        }
        origins = turn.view.origins
        if extraction.closest:
            citations = cite(extraction.closest, origins)
            fields |= {"answer": tentative_text(citations, extraction.other_side), "citations": citations,
                       "tentative": True}
        elif extraction.no_answer:
            closest = related(evidence.chunks, self.settings.answering.related_k)
            fields |= {"answer": texts.NO_ANSWER, "related": closest}
        else:
            citations = cite(extraction.quotes, origins)
            short = _short_answer(extraction.short, citations)
            fields |= {
                "answer": answer_text(citations, extraction.is_list, extraction.conflict, short),
                "citations": citations,
                "short_answer": short,
            }
        return self._respond(turn, evidence, started, t_llm, **fields)

    def verdict(self, turn: Turn, evidence: Evidence) -> AssistantResponse:
        """The fact-check of a claim (``turn.task == "check"``)."""
        started = time.perf_counter()
        view, chunks = turn.view, evidence.chunks
        asked = self.answerer.extract(analyse(question_form(turn.analysed.text), view.segmenter), chunks, view)
        result = self.checker.check(
            turn.analysed, chunks, view.stats, answerable=not asked.no_answer, segmenter=view.segmenter,
            origins=view.origins,
        )
        citations = cite(result.quotes, view.origins)
        not_found = result.verdict == "not_found"
        return self._respond(
            turn, evidence, started,
            answer=check_text(result.verdict, result.differences, citations, result.conflict),
            verdict=result.verdict, conflict=result.conflict, differences=result.differences, no_answer=not_found,
            citations=citations, reason=result.reason or None,
            related=related(chunks, self.settings.answering.related_k) if not_found else [],
        )


def _short_answer(span: Quote | None, citations: list[Citation]) -> ShortAnswer | None:
    """The reader's direct answer, if it lies in the first citation's passage: when sources disagree the official
    one is cited first, and a span read in an uploaded bulletin must not head the answer as if it were the answer."""
    if span is None or not citations:
        return None
    first = citations[0]
    inside = span.chunk.doc_id == first.doc_id and first.start <= span.start and span.end <= first.end
    return ShortAnswer.of(span) if inside else None


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


__all__ = ["Assistant", "Evidence", "InvalidRequest", "Request", "Turn", "error_response"]
