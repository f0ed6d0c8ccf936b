"""The services of one web process, built once and handed to every interface (API routers, the OpenAI-compatible
route, the page).

=========== =============================== =================================================================
service     module                          what
=========== =============================== =================================================================
index       :mod:`webapp.index`             opens, checks and holds the index (writer lock); the assistant
answers     :mod:`webapp.answers`           validates a question once, then asks, streams or checks
documents   :mod:`webapp.documents`         list, upload, delete, re-index; the background embedder
health      :mod:`webapp.health`            the index's state: a public view and an admin view
indicators  :mod:`webapp.indicators`        every document's indicators: search, sort, pairs, CSV
views       :mod:`webapp.document_view`     a document with a cited passage marked (the shareable link)
feedback    :mod:`webapp.feedback`          the answers given, their ratings, the ratings as an eval set
=========== =============================== =================================================================
"""
from __future__ import annotations

from dataclasses import dataclass

from settings import Settings
from webapp.answers import AnswerService
from webapp.document_view import DocumentViewService
from webapp.documents import DocumentService
from webapp.feedback import FeedbackService
from webapp.health import HealthService
from webapp.index import IndexService
from webapp.indicators import IndicatorService


@dataclass
class Services:
    settings: Settings
    index: IndexService
    answers: AnswerService
    documents: DocumentService
    health: HealthService
    indicators: IndicatorService
    views: DocumentViewService
    feedback: FeedbackService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Every service, and the index opened (its failure kept, never raised: the page still starts)."""
        index = IndexService(settings)
        feedback = FeedbackService(settings.store.index_dir, settings.web)
        answers = AnswerService(index, feedback)
        documents = DocumentService(index)
        health = HealthService(index, answers, documents)
        index.open()
        return cls(settings, index, answers, documents, health, IndicatorService(index), DocumentViewService(index),
                   feedback)

    def close(self) -> None:
        self.index.close()
