"""Feedback on answers that becomes tests: every answer the web process gives is remembered by its ``answer_id``;
a rating names it (helpful or not, and a comment), is stored, and staff export the rated questions in the
evaluation's input format (`python -m assistant eval FILE` runs them as a regression set).

Both live in one SQLite file under the index directory (``INDEX_DIR/feedback.sqlite3``, WAL; every rating synced
to disk before its 201, so a rating the client was told about survives a kill -9 and a power cut).  The feedback
table is append-only: triggers refuse any UPDATE or DELETE.  Nothing here is read by the answerer: a rating never
changes an answer, it only becomes a test once staff export it.  Answers nobody rated are forgotten after
``ERQI_FEEDBACK_KEEP_DAYS`` days (and beyond ``ERQI_FEEDBACK_MAX_ANSWERS``), so a flood of questions cannot fill the
disk; rated ones are kept with their rating.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.response import AssistantResponse
from webapp.settings import WebSettings
from webapp.types import AnswerQuery, EvalItem, FeedbackEntry, FeedbackReceipt

log = logging.getLogger("webapp")

FEEDBACK_FILE = "feedback.sqlite3"
PRUNE_EVERY = 600.0  # seconds between two clean-ups of unrated answers
EVAL_TYPES = {True: "feedback-helpful", False: "feedback-unhelpful"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
  answer_id TEXT PRIMARY KEY, created TEXT NOT NULL, task TEXT NOT NULL, question TEXT NOT NULL,
  history TEXT NOT NULL, answer TEXT NOT NULL, no_answer INTEGER NOT NULL, verdict TEXT,
  short_answer TEXT, citations TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers(created);
CREATE TABLE IF NOT EXISTS feedback (
  feedback_id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL, helpful INTEGER NOT NULL,
  comment TEXT NOT NULL, created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
CREATE TRIGGER IF NOT EXISTS feedback_no_update BEFORE UPDATE ON feedback
  BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
CREATE TRIGGER IF NOT EXISTS feedback_no_delete BEFORE DELETE ON feedback
  BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
"""


class UnknownAnswer(KeyError):
    """Feedback naming an answer this server never gave (or forgot, unrated, after the retention time)."""


class FeedbackUnavailable(RuntimeError):
    """The feedback file cannot be written (a full or read-only disk): the detail goes to the log."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FeedbackService:
    def __init__(self, index_dir: Path, settings: WebSettings) -> None:
        self.path = Path(index_dir) / FEEDBACK_FILE
        self.settings = settings
        self._ready = False
        self._lock = threading.Lock()
        self._pruned = 0.0

    # --- the file -----------------------------------------------------------------------------------------------
    @contextmanager
    def _db(self, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction, committed on leaving: synced to disk (synchronous=FULL), or, for the
        answers remembered on every question, left to the OS (NORMAL: in WAL mode that survives a kill -9 of the
        process, only not a power cut, and costs no fsync on the question's way)."""
        try:
            self._prepare()
            with closing(sqlite3.connect(str(self.path), timeout=10)) as con:
                con.execute(f"PRAGMA synchronous={'FULL' if synced else 'NORMAL'}")
                with con:
                    yield con
        except sqlite3.Error as exc:
            log.warning("feedback store %s: %s", self.path, exc)
            raise FeedbackUnavailable(str(exc)) from exc

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(str(self.path), timeout=10)) as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
            self._ready = True

    # --- answers ------------------------------------------------------------------------------------------------
    def remember(self, query: AnswerQuery, response: AssistantResponse) -> None:
        """Keep what feedback on this answer needs (never fails the answer: a write error is logged)."""
        if response.error:
            return
        citations = [
            {"ref": c.ref, "doc_id": c.doc_id, "source": c.source, "text": c.text, "start": c.start, "end": c.end}
            for c in response.citations
        ]
        row = (response.answer_id, _now(), response.task, response.question, json.dumps(query.history,
               ensure_ascii=False), response.answer, int(response.no_answer), response.verdict,
               response.short_answer.text if response.short_answer else None, json.dumps(citations,
               ensure_ascii=False))
        try:
            with self._db(synced=False) as con:
                con.execute("INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                self._prune(con)
        except FeedbackUnavailable:
            pass  # logged; the answer is given all the same

    def _prune(self, con: sqlite3.Connection) -> None:
        now = time.monotonic()
        if now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        cutoff = (datetime.now(UTC) - timedelta(days=self.settings.feedback_keep_days)).isoformat()
        unrated = "answer_id NOT IN (SELECT answer_id FROM feedback)"
        con.execute(f"DELETE FROM answers WHERE created < ? AND {unrated}", (cutoff,))
        con.execute(
            f"DELETE FROM answers WHERE answer_id IN (SELECT answer_id FROM answers WHERE {unrated}"
            " ORDER BY created DESC LIMIT -1 OFFSET ?)", (self.settings.feedback_max_answers,)
        )

    # --- feedback -----------------------------------------------------------------------------------------------
    def add(self, answer_id: str, helpful: bool, comment: str | None) -> FeedbackReceipt:
        """Store one rating of an answer this server gave; UnknownAnswer otherwise."""
        created = _now()
        with self._db() as con:
            if con.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone() is None:
                raise UnknownAnswer(answer_id)
            cursor = con.execute(
                "INSERT INTO feedback (answer_id, helpful, comment, created) VALUES (?, ?, ?, ?)",
                (answer_id, int(helpful), (comment or "").strip(), created),
            )
            feedback_id = int(cursor.lastrowid or 0)
        return FeedbackReceipt(feedback_id=feedback_id, answer_id=answer_id, helpful=helpful, created=created)

    def entries(self, limit: int | None = None) -> list[FeedbackEntry]:
        """Every rating, the newest first, with the answer it rates."""
        sql = (
            "SELECT f.feedback_id, f.answer_id, f.helpful, f.comment, f.created, a.task, a.question, a.history,"
            " a.answer, a.no_answer, a.verdict, a.short_answer, a.citations"
            " FROM feedback f JOIN answers a ON a.answer_id = f.answer_id ORDER BY f.feedback_id DESC"
        )
        with self._db() as con:
            rows = con.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [_entry(row) for row in rows]

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._db() as con:
            return int(con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def _entry(row: tuple[Any, ...]) -> FeedbackEntry:
    (feedback_id, answer_id, helpful, comment, created, task, question, history, answer, no_answer, verdict,
     short, citations) = row
    return FeedbackEntry(
        feedback_id=feedback_id, answer_id=answer_id, helpful=bool(helpful), comment=comment, created=created,
        task=task, question=question, history=json.loads(history), answer=answer, no_answer=bool(no_answer),
        verdict=verdict, short_answer=short, citations=json.loads(citations),
    )


def eval_item(entry: FeedbackEntry) -> EvalItem:
    """A rating as a line of the evaluation's input (`python -m assistant eval`, the batch's fields and the gold
    set's): a helpful answer must keep its direct answer (or first quote), a helpful refusal must stay a refusal,
    a helpful check its verdict; a refusal rated unhelpful says the question is answerable; an answer rated
    unhelpful is kept for review (``review``: its ``expect`` is for staff to write)."""
    first = entry.citations[0] if entry.citations else None
    expect: list[str] = []
    if entry.helpful and not entry.no_answer and entry.task == "ask":
        wanted = entry.short_answer or (first or {}).get("text") or ""
        expect = [wanted] if wanted and "[" not in wanted else []
    answerable = not entry.no_answer if entry.helpful else True
    return EvalItem(
        id=f"feedback-{entry.feedback_id}",
        type=EVAL_TYPES[entry.helpful],
        task=entry.task if entry.task in ("ask", "check") else "ask",
        question=entry.question,
        history=entry.history or None,
        answerable=answerable,
        expect=expect,
        evidence=[first["text"]] if entry.helpful and first else [],
        source=(first or {}).get("source", ""),
        verdict=entry.verdict if entry.task == "check" and entry.helpful else None,
        review=not entry.helpful and not entry.no_answer,
        feedback={"answer_id": entry.answer_id, "helpful": entry.helpful, "comment": entry.comment,
                  "answer": entry.answer, "created": entry.created},
    )


def eval_lines(entries: list[FeedbackEntry]) -> str:
    """The ratings as JSON Lines in the evaluation's format, the oldest first."""
    items = [eval_item(e) for e in sorted(entries, key=lambda e: e.feedback_id)]
    return "".join(i.model_dump_json(exclude_none=True) + "\n" for i in items)
