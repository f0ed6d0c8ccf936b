"""Answering for every interface (the JSON API, the OpenAI-compatible route, the page): questions, streamed
answers and fact-checks through the one :class:`assistant.service.Assistant` of the process."""
from __future__ import annotations

from collections.abc import Iterator

from assistant.response import AssistantResponse
from assistant.validation import clean_history, clean_question
from webapp import texts
from webapp.feedback import FeedbackService
from webapp.index import IndexService
from webapp.types import AnswerQuery


class AnswerService:
    """Every answer given is remembered by ``feedback`` (its ``answer_id`` can then be rated); nothing of the
    feedback is read back: a rating never changes an answer."""

    def __init__(self, index: IndexService, feedback: FeedbackService | None = None) -> None:
        self.index = index
        self.settings = index.settings
        self.feedback = feedback

    @property
    def mode(self) -> str:
        """'llm' when an LLM endpoint is configured (answers verified, extractive fallback), else 'extractive'."""
        return "llm" if self.settings.llm.base_url else "extractive"

    def query(self, text: object, history: object = None, id: str | None = None, claim: bool = False,
              flagged: bool = False) -> AnswerQuery:
        """The request within this server's bounds (question or claim length, control characters, history size),
        checked once at the edge before anything is computed; InvalidRequest (400) otherwise.  ``flagged``: the
        caller is an admin who asked to see passages flagged as planted text (the route checks the credential)."""
        bounds = self.settings.answering
        empty = texts.ERR_EMPTY_CLAIM if claim else texts.ERR_EMPTY_QUESTION
        turns = [] if history is None else clean_history(history, bounds)  # the history first, as it always was
        return AnswerQuery(clean_question(text, bounds.max_question_chars, empty), turns, id, flagged)

    def ask(self, query: AnswerQuery) -> AssistantResponse:
        """StoreError (IndexMissingError) when there is nothing to search."""
        response = self.index.require().ask(query.text, query.history, id=query.id, flagged=query.flagged)
        return self._remembered(query, response)

    def stream(self, query: AnswerQuery) -> Iterator[str | AssistantResponse]:
        """Text pieces, then the final response; a missing index raises before the first piece."""
        pieces = self.index.require().stream(query.text, query.history, id=query.id, flagged=query.flagged)

        def remembered() -> Iterator[str | AssistantResponse]:
            for piece in pieces:
                yield piece if isinstance(piece, str) else self._remembered(query, piece)

        return remembered()

    def check(self, query: AnswerQuery) -> AssistantResponse:
        """Fact-check a claim: the response has ``verdict`` (supported / contradicted / not_found) and its evidence."""
        response = self.index.require().check(query.text, id=query.id, flagged=query.flagged)
        return self._remembered(query, response)

    def _remembered(self, query: AnswerQuery, response: AssistantResponse) -> AssistantResponse:
        if self.feedback is not None:
            self.feedback.remember(query, response)
        return response
