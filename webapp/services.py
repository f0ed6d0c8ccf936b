"""The services of one web process, built once and handed to every interface (API routers, the OpenAI-compatible
route, the page).

=========== =============================== =================================================================
service     module                          what
=========== =============================== =================================================================
index       :mod:`webapp.index`             opens, checks and holds the index (writer lock); the assistant
answers     :mod:`webapp.answers`           validates a question once, then asks, streams or checks
documents   :mod:`webapp.documents`         list, upload, delete, re-index; the background embedder
health      :mod:`webapp.health`            the index's state: a public view and an admin view
=========== =============================== =================================================================
"""
from __future__ import annotations

from dataclasses import dataclass

from settings import Settings
from webapp.answers import AnswerService
from webapp.documents import DocumentService
from webapp.health import HealthService
from webapp.index import IndexService


@dataclass
class Services:
    settings: Settings
    index: IndexService
    answers: AnswerService
    documents: DocumentService
    health: HealthService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Every service, and the index opened (its failure kept, never raised: the page still starts)."""
        index = IndexService(settings)
        answers = AnswerService(index)
        documents = DocumentService(index)
        health = HealthService(index, answers, documents)
        index.open()
        return cls(settings, index, answers, documents, health)

    def close(self) -> None:
        self.index.close()
