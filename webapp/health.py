"""The state of the index, for /api/health and the page's status line."""
from __future__ import annotations

from vectorstore.chroma.maintenance import check
from vectorstore.errors import IndexDamagedError, IndexMissingError, StoreError
from vectorstore.records import DocumentInfo
from webapp.answers import AnswerService
from webapp.documents import DocumentService
from webapp.index import IndexService
from webapp.types import EmbeddingStatus, Health, HealthStatus, KeywordIndexStatus


class HealthService:
    def __init__(self, index: IndexService, answers: AnswerService, documents: DocumentService) -> None:
        self.index, self.answers, self.documents = index, answers, documents
        self.settings = index.settings

    def report(self, documents: list[DocumentInfo] | None = None, verify: bool = False) -> Health:
        """``documents``: the caller's fresh list, so the registry is read once; ``verify``: also read a stored
        vector (the index check)."""
        progress = self.documents.embedding
        state: dict = {
            "status": "ok", "ready": False, "documents": 0, "chunks": 0, "embedding_model": None,
            "answer_mode": self.answers.mode, "index_dir": str(self.settings.store.index_dir),
            "corpus_dir": str(self.index.corpus_dir), "message": None, "problems": [],
            "embedding": EmbeddingStatus(done=progress.done, total=progress.total, running=progress.running),
            "writes": "token" if self.settings.web.admin_token else "loopback",
        }
        try:
            assistant = self.index.require()
        except StoreError as exc:
            return self._reply(state, "damaged" if self.index.damaged else "error", exc)
        state["embedding_model"] = assistant.store.embeddings.model_id
        state["keyword_index"] = KeywordIndexStatus.of(assistant.retriever.lexical.status())
        try:
            state["chunks"] = assistant.store.count()
            if state["chunks"]:
                state["documents"] = len(documents if documents is not None else assistant.store.documents())
            if verify:
                result = check(assistant.store)
                state["problems"] = result.problems()
                if result.damaged:
                    damaged = IndexDamagedError(self.settings.store.index_dir, result.damaged)
                    return self._reply(state, "damaged", damaged)
        except StoreError as exc:
            return self._reply(state, "damaged" if isinstance(exc, IndexDamagedError) else "error", exc)
        state["ready"] = state["chunks"] > 0
        if not state["ready"]:
            return self._reply(state, "index_missing", IndexMissingError(self.settings.store.index_dir))
        return Health(**state)

    @staticmethod
    def _reply(state: dict, status: HealthStatus, failure: StoreError) -> Health:
        return Health(**(state | {"status": status, "message": str(failure)}))
