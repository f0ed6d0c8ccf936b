"""The settings groups of the assistant: how answers are chosen, and the optional LLM."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

from pydantic import Field

from vectorstore.settings import RetrievalConfig, SettingsGroup, Share


class AnsweringSettings(SettingsGroup):
    """Questions, answers and refusals (``Settings.answering``; ``ERQI_ANSWER_MIN_CONFIDENCE``…)."""

    FLAT_NAMES: ClassVar[dict[str, str]] = {
        "model": "answer_model", "min_confidence": "answer_min_confidence", "hint_confidence": "answer_hint_confidence",
        "extra_ratio": "answer_extra_ratio", "other_orientation_ratio": "answer_other_orientation_ratio",
        "min_list_coverage": "answer_min_coverage",
    }

    max_question_chars: int = Field(2000, description="Longer questions are refused with an error.")
    max_history_messages: int = Field(40, description="Most earlier messages a question's history may carry.")
    max_history_message_chars: int = Field(
        4_000,
        description="Longest single history message, in characters (a long message costs every user time: 300,000 "
        "characters took 8 s under a process-wide lock).",
    )
    max_history_chars: int = Field(20_000, description="Most characters of all history messages together.")
    max_answer_sentences: int = Field(3, description="Sentences quoted for an ordinary (non-list) question.")
    max_list_sentences: int = Field(8, description="Sentences quoted for a list question.")
    min_list_coverage: float = Field(
        0.4,
        description="For list questions: the share of the question's key terms a list found through the document "
        "outline (its parent heading and items) must cover to be offered as the answer.",
    )
    related_k: int = Field(3, description="Closest passages listed as 'related' when no answer is found.")
    model: Path | None = Field(
        None,
        description="The answer model file (sentence scorer and answerability, JSON); empty means the bundled "
        "assistant/answer_model.json written by `make train`.",
    )
    min_confidence: Share | None = Field(
        None,
        description="Answers whose confidence (the model's calibrated probability that the answer is right) is below "
        "this are refused; empty means the model's own threshold, chosen on validation data by `make train`.",
    )
    hint_confidence: Share | None = Field(
        None,
        description="A refused answer whose confidence reaches this still shows the closest passage, with a hint that "
        "the documents may not answer directly; empty means the model's own value.",
    )
    extra_ratio: Share = Field(
        0.2,
        description="A further sentence is quoted when the model rates it at least this share of the best sentence's "
        "probability (up to max_answer_sentences). On validation data: 0.5 gives 1.3 quotes and DRCD gold in answer "
        "0.85; 0.2 gives 1.6 quotes and 0.89; 0.15 gives 1.9 quotes and 0.91.",
    )
    other_orientation_ratio: Share = Field(
        0.5,
        description="For a question naming no year, the best target is added to an answer of results (or a result to "
        "targets) when rated at least this share of the best sentence.",
    )


class LLMSettings(SettingsGroup):
    """The optional OpenAI-compatible LLM (``Settings.llm``; ``ERQI_LLM_BASE_URL``…)."""

    FLAT_NAMES: ClassVar[dict[str, str]] = {
        "base_url": "llm_base_url", "api_key": "llm_api_key", "model": "llm_model", "timeout": "llm_timeout",
        "max_tokens": "llm_max_tokens", "passages": "llm_passages", "condense": "llm_condense",
    }

    base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, DeepSeek…). None = extractive "
        "answers only.",
    )
    api_key: str = Field("not-needed", description="API key sent to the LLM endpoint.")
    model: str = Field("default", description="Model name sent to the LLM endpoint.")
    timeout: float = Field(
        30.0, description="Seconds before an LLM call is abandoned and the extractive answer is used."
    )
    max_tokens: int = Field(512, description="Most tokens the LLM may generate for an answer.")
    passages: int = Field(
        8,
        description="Retrieved passages given to the LLM, numbered [1]…[n] in retrieval order (so [n] is "
        "retrieved[n-1]).",
    )
    condense: bool = Field(
        True,
        description="With an LLM: rewrite follow-ups (and questions with 去年/明年/今年底…) as standalone questions "
        "before retrieval; otherwise the rule-based follow-up resolution is used.",
    )
    report_date: str = Field(
        "2021-09",
        description="Date of the reports (YYYY-MM): 去年/今年/明年/今年底 in questions are resolved relative to it by "
        "the LLM condense step.",
    )


class AssistantConfig(RetrievalConfig, Protocol):
    """What the assistant reads of the one settings object: the store's and retrieval's groups and its own."""

    @property
    def answering(self) -> AnsweringSettings: ...

    @property
    def llm(self) -> LLMSettings: ...
