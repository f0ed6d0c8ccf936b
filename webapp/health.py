"""The state of the index, for /api/health and the page's status line.

Two views.  The public one says whether questions can be answered, how much is indexed, and what to do when
something is wrong, without folders, host names, ports or library error text.  The admin view (callers who may
write: the admin token, or loopback when none is set) adds where the index and the corpus folder are, the full
error and what the index check found.
"""
from __future__ import annotations

from pathlib import Path

from vectorstore.chroma.maintenance import check
from vectorstore.errors import IndexDamagedError, IndexMissingError, StoreError
from vectorstore.records import DocumentInfo
from webapp.answers import AnswerService
from webapp.documents import DocumentService
from webapp.errors import public_message
from webapp.index import IndexService
from webapp.types import AdminHealth, EmbeddingStatus, Health, HealthStatus, KeywordIndexStatus


def public_model_name(model_id: str) -> str:
    """A model given as a local path is shown by its name only (the path is the machine's)."""
    return Path(model_id).name if "/" in model_id or "\\" in model_id else model_id


class HealthService:
    def __init__(self, index: IndexService, answers: AnswerService, documents: DocumentService) -> None:
        self.index, self.answers, self.documents = index, answers, documents
        self.settings = index.settings

    def report(
        self, admin: bool = False, documents: list[DocumentInfo] | None = None, verify: bool = False
    ) -> Health | AdminHealth:
        """``documents``: the caller's fresh list, so the registry is read once; ``verify``: also read a stored
        vector (the index check)."""
        progress = self.documents.embedding
        state: dict = {
            "status": "ok", "ready": False, "documents": 0, "chunks": 0, "embedding_model": None,
            "answer_mode": self.answers.mode, "message": None,
            "embedding": EmbeddingStatus(done=progress.done, total=progress.total, running=progress.running),
            "writes": "token" if self.settings.web.admin_token else "loopback",
        }
        problems: list[str] = []
        failure: StoreError | None = None
        try:
            assistant = self.index.require()
        except StoreError as exc:
            return self._reply(state, admin, "damaged" if self.index.damaged else "error", exc, problems)
        model = assistant.store.embeddings.model_id
        state["embedding_model"] = model if admin else public_model_name(model)
        state["keyword_index"] = KeywordIndexStatus.of(assistant.retriever.lexical.status(), admin)
        try:
            state["chunks"] = assistant.store.count()
            if state["chunks"]:
                state["documents"] = len(documents if documents is not None else assistant.store.documents())
            if verify:
                result = check(assistant.store)
                problems = result.problems()
                if result.damaged:
                    failure = IndexDamagedError(self.settings.store.index_dir, result.damaged)
                    return self._reply(state, admin, "damaged", failure, problems)
        except StoreError as exc:
            return self._reply(state, admin, "damaged" if isinstance(exc, IndexDamagedError) else "error", exc,
                               problems)
        state["ready"] = state["chunks"] > 0
        if not state["ready"]:
            return self._reply(state, admin, "index_missing", IndexMissingError(self.settings.store.index_dir),
                               problems)
        return self._reply(state, admin, "ok", None, problems)

    def _reply(
        self, state: dict, admin: bool, status: HealthStatus, failure: StoreError | None, problems: list[str]
    ) -> Health | AdminHealth:
        state = state | {"status": status, "message": public_message(failure) if failure else None}
        if not admin:
            return Health(**state)
        return AdminHealth(
            **state, index_dir=str(self.settings.store.index_dir), corpus_dir=str(self.index.corpus_dir),
            detail=str(failure) if failure else None, problems=problems,
        )
