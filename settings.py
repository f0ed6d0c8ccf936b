"""The one settings object: ``Settings()`` reads every setting from ``ERQI_`` environment variables or ``.env``.

The settings come in groups, each defined by the layer that reads it:

========== ============================ ==========================================================
group      defined in                   what
========== ============================ ==========================================================
store      ``vectorstore/settings.py``  where the index lives, Chroma server, timeouts, compaction
embedding  ``vectorstore/settings.py``  the embedding model and engine
retrieval  ``vectorstore/settings.py``  top-k, fusion, de-duplication
chunking   ``ingest/settings.py``       chunk size and overlap, heading length
ingest     ``ingest/settings.py``       the corpus folder, per-document limits, the parser's caps
answering  ``assistant/settings.py``    question and history bounds, answer length, confidence
llm        ``assistant/settings.py``    the optional OpenAI-compatible LLM
web        ``webapp/settings.py``       admin token, origins, rate limits, request size
========== ============================ ==========================================================

Every setting has two spellings.  The flat one, unique across groups, is the one the README lists
(``ERQI_CHUNK_MAX_CHARS=300``, ``ERQI_ANSWER_MIN_CONFIDENCE=0.5``, ``ERQI_INDEX_DIR=…``); the nested
one is the group, two underscores and the field (``ERQI_CHUNKING__MAX_CHARS=300``,
``ERQI_ANSWERING__MIN_CONFIDENCE=0.5``), or a whole group as JSON (``ERQI_CHUNKING='{"max_chars": 300}'``).
Keyword arguments come first, then environment variables (nested before flat), then ``.env`` (nested
before flat), then the defaults.  In code: ``Settings(index_dir=…)`` takes flat names too, and
``settings.replace(chunk_max_chars=300)`` is a copy with some settings changed.

This module sits above every layer; only the entry points (``python -m ingest``, ``python -m assistant``,
``ui.py``, the web app, benchmarks, tests) build a ``Settings``.  Below it, code asks for the groups it
reads (``vectorstore.settings.StoreConfig``, ``ingest.settings.IngestConfig``,
``assistant.settings.AssistantConfig``) or takes one group.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from assistant.settings import AnsweringSettings, LLMSettings
from ingest.settings import ChunkingParams, IngestSettings
from vectorstore.settings import EmbeddingSettings, RetrievalSettings, SettingsGroup, StoreSettings
from webapp.settings import WebSettings

ENV_PREFIX = "ERQI_"
GROUPS: dict[str, type[SettingsGroup]] = {
    "store": StoreSettings,
    "embedding": EmbeddingSettings,
    "retrieval": RetrievalSettings,
    "chunking": ChunkingParams,
    "ingest": IngestSettings,
    "answering": AnsweringSettings,
    "llm": LLMSettings,
    "web": WebSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    """Flat name → (group, field), for every setting."""
    out: dict[str, tuple[str, str]] = {}
    for group, cls in GROUPS.items():
        for flat, field in cls.flat_names().items():
            if flat in out or flat in GROUPS:
                raise TypeError(f"the flat setting name {flat!r} is not unique")
            out[flat] = (group, field)
    return out


FLAT = _flat_names()


class _FlatBase(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")


# Every setting under its flat name: what the flat environment variables are read as.
_FlatNames: type[BaseSettings] = create_model(  # type: ignore[call-overload]
    "_FlatNames",
    __base__=_FlatBase,
    **{flat: (GROUPS[group].model_fields[field].annotation, None) for flat, (group, field) in FLAT.items()},
)


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """``{"chunk_max_chars": 300, "store": {...}}`` → ``{"chunking": {"max_chars": 300}, "store": {...}}``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FLAT:
            out[key] = value
    for key, value in values.items():
        if key in FLAT:
            group, field = FLAT[key]
            current = out.get(group)
            merged = current.model_dump() if isinstance(current, BaseModel) else dict(current or {})
            out[group] = merged | {field: value}
    return out


class _FlatSource(PydanticBaseSettingsSource):
    """The flat variables found by ``inner`` (an env or .env source of :data:`_FlatNames`), put into their groups."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # not used: __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        return nested({k: v for k, v in self.inner().items() if k in FLAT})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", env_nested_delimiter="__", extra="ignore")

    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    chunking: ChunkingParams = Field(default_factory=ChunkingParams)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    def __init__(self, **values: Any) -> None:
        super().__init__(**nested(values))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = dotenv_settings.env_file if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        encoding = dotenv_settings.env_file_encoding if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        flat_env = _FlatSource(settings_cls, EnvSettingsSource(_FlatNames))
        flat_dotenv = _FlatSource(
            settings_cls, DotEnvSettingsSource(_FlatNames, env_file=env_file, env_file_encoding=encoding)
        )
        return init_settings, env_settings, flat_env, dotenv_settings, flat_dotenv, file_secret_settings

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, by flat name (``chunk_max_chars=300``) or whole group (``store=…``)."""
        groups: dict[str, Any] = {}
        for key, value in nested(changes).items():
            if key not in GROUPS:
                raise TypeError(f"unknown setting {key!r}")
            current = getattr(self, key)
            groups[key] = (
                value if isinstance(value, BaseModel) else GROUPS[key].model_validate(current.model_dump() | value)
            )
        return self.model_copy(update=groups)
