"""The optional LLM backend: any OpenAI-compatible chat model through ``langchain_openai.ChatOpenAI``.

Configured by ``Settings.llm`` (:class:`assistant.settings.LLMSettings`: ``base_url`` of vLLM, Ollama,
llama.cpp's ``llama-server``, DeepSeek, Qwen…, ``api_key``, ``model``, ``timeout``).  The model is
asked to answer from numbered passages with an [n] after every sentence (the prompt
is in :mod:`assistant.texts`); :mod:`assistant.verify` then checks the reply.

Every failure of the call — timeout, refused connection, an HTTP error, a reply that
cannot be parsed or is empty — is raised as :class:`LLMError` with a short Chinese
reason, so that the caller can fall back to the extractive answer and say why.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

from assistant import texts
from assistant.settings import LLMSettings
from vectorstore.records import Chunk, ScoredChunk

REASON_MAX_CHARS = 160  # a malformed reply's description is cut to this
ANSWER_PROMPT = ChatPromptTemplate.from_messages(
    [("system", texts.LLM_ANSWER_SYSTEM), ("human", texts.LLM_ANSWER_USER)]
)


class LLMError(Exception):
    """The LLM call failed; ``reason`` is shown to the user (AssistantResponse.notice)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Passage:
    """One numbered passage of the prompt: ``[ref]`` in the model's reply points at ``chunk``."""

    ref: int
    chunk: Chunk

    @property
    def prompt_text(self) -> str:
        c = self.chunk
        section = texts.LLM_PASSAGE_SECTION.format(section=c.section) if c.section else ""
        return texts.LLM_PASSAGE.format(ref=self.ref, title=c.title, section=section, text=c.text.strip())

    @property
    def check_text(self) -> str:
        """What the model was shown of this passage: a cited value or name must occur here."""
        return f"{self.chunk.title}\n{self.chunk.section}\n{self.chunk.text}"


def passages_from(evidence: list[ScoredChunk], limit: int) -> list[Passage]:
    """The first ``limit`` evidence chunks, numbered in retrieval order: [n] is ``retrieved[n-1]``.  A passage
    flagged as planted text (shown to an admin in ``retrieved``) is never sent: its number is skipped."""
    return [Passage(i, s.chunk) for i, s in enumerate(evidence[: max(limit, 1)], start=1) if not s.chunk.suspicious]


def format_passages(passages: list[Passage]) -> str:
    return "\n\n".join(p.prompt_text for p in passages)


def chat_model(settings: LLMSettings, max_tokens: int | None = None) -> ChatOpenAI:
    """The chat model of the settings: deterministic (temperature 0), no retries, bounded by its ``timeout``."""
    if not settings.base_url:
        raise ValueError("the LLM base_url is not set")
    return ChatOpenAI(
        base_url=settings.base_url,
        api_key=settings.api_key,
        model=settings.model,
        timeout=settings.timeout,
        max_retries=0,
        temperature=0,
        max_tokens=max_tokens or settings.max_tokens,
    )


def describe(exc: BaseException, settings: LLMSettings) -> str:
    """A short Chinese reason for a failed call (timeout / connection / HTTP status / malformed reply)."""
    if isinstance(exc, LLMError):
        return exc.reason
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException, TimeoutError)):
        return texts.LLM_REASON_TIMEOUT.format(seconds=settings.timeout)
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return texts.LLM_REASON_CONNECTION.format(url=settings.base_url)
    if isinstance(exc, openai.APIStatusError):
        return texts.LLM_REASON_STATUS.format(status=exc.status_code)
    detail = f"{type(exc).__name__}: {exc}".strip()
    return texts.LLM_REASON_MALFORMED.format(detail=detail[:REASON_MAX_CHARS])


class LLMAnswerer:
    """``prompt | ChatOpenAI | str``: the passages and the question in, the model's reply text out."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.model = chat_model(settings)
        self.chain: Runnable = ANSWER_PROMPT | self.model | StrOutputParser()

    @staticmethod
    def inputs(question: str, passages: list[Passage]) -> dict[str, str]:
        return {"question": question, "passages": format_passages(passages)}

    def generate(self, question: str, passages: list[Passage]) -> str:
        """The whole reply; raises LLMError."""
        try:
            reply = self.chain.invoke(self.inputs(question, passages))
        except Exception as exc:  # noqa: BLE001 - every failure means: fall back, with the reason
            raise LLMError(describe(exc, self.settings)) from exc
        if not isinstance(reply, str) or not reply.strip():
            raise LLMError(texts.LLM_REASON_EMPTY)
        return reply

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str]:
        """The reply token by token (server-sent events); raises LLMError, also for an empty reply."""
        got = False
        try:
            for piece in self.chain.stream(self.inputs(question, passages)):
                if piece:
                    got = got or bool(piece.strip())
                    yield piece
        except Exception as exc:  # noqa: BLE001
            raise LLMError(describe(exc, self.settings)) from exc
        if not got:
            raise LLMError(texts.LLM_REASON_EMPTY)
