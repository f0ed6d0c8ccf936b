"""Opening Chroma: the embedded client or a Chroma server's, the collections on it, and the swap a rebuild
killed half-way left behind (finished or undone when a writer opens the index)."""
from __future__ import annotations

import contextlib
from pathlib import Path

import chromadb
import chromadb.errors
import httpx
from chromadb.config import Settings as ChromaClientSettings

from vectorstore.chroma.registry import registry_name
from vectorstore.chroma.sync import http_client
from vectorstore.errors import IndexMissingError, unavailable
from vectorstore.settings import StoreConfig

NETWORK_ERRORS = (httpx.TransportError, ConnectionError)  # a Chroma server away or frozen
REBUILD_SUFFIX = "__rebuild"  # the collections a rebuild writes before it swaps them in


def open_client(settings: StoreConfig, create: bool, timeout: float | None = None) -> chromadb.ClientAPI:
    """The embedded client, or an HTTP client whose calls give up after ``timeout`` (default: the read timeout)."""
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if (server := settings.store.server) is not None:
        try:
            return http_client(*server, timeout or settings.store.chroma_timeout, client_settings)
        except Exception as exc:  # connection refused, bad host, timeout…
            raise unavailable(settings.store.chroma_host, settings.store.chroma_port, exc) from exc
    index_dir = Path(settings.store.index_dir)
    if not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir), settings=client_settings)


def open_write_client(settings: StoreConfig, client: chromadb.ClientAPI, create: bool) -> chromadb.ClientAPI:
    """The client writes go through: ``client`` itself for the embedded store.  Writes to a Chroma server may take
    seconds (1,000 vectors: ~1 s to add, ~2.5 s to update): they get their own client and timeout; reads answer
    in milliseconds or the server is stuck."""
    return open_client(settings, create, settings.store.chroma_write_timeout) if settings.store.server_mode else client


def exists(client: chromadb.ClientAPI, name: str) -> bool:
    return name in {c.name for c in client.list_collections()}


def drop(client: chromadb.ClientAPI, name: str) -> None:
    """Delete the collection if there is one."""
    with contextlib.suppress(ValueError, chromadb.errors.NotFoundError):
        client.delete_collection(name)


def drop_collection(settings: StoreConfig) -> bool:
    """Delete the collection (and its registry) whatever model built it; False if there was none."""
    try:
        client = open_client(settings, create=False)
        client.delete_collection(settings.store.collection)
    except (IndexMissingError, ValueError, chromadb.errors.NotFoundError):
        return False
    with contextlib.suppress(ValueError, chromadb.errors.NotFoundError):
        client.delete_collection(registry_name(settings.store.collection))
    return True


def recover_interrupted_rebuild(client: chromadb.ClientAPI, name: str) -> None:
    """Finish or undo a rebuild a killed process left behind (writers call this when they open the index)."""
    tmp = name + REBUILD_SUFFIX
    if exists(client, tmp):
        done = not (client.get_collection(tmp).metadata or {}).get("building", True)
        if done and not exists(client, name):
            client.get_collection(tmp).modify(name=name)
        else:
            drop(client, tmp)
    if exists(client, registry_name(tmp)):
        if (
            not exists(client, tmp)
            and exists(client, name)
            and not (client.get_collection(name).metadata or {}).get("building")
        ):
            drop(client, registry_name(name))  # the chunks were swapped in; their registry follows
            client.get_collection(registry_name(tmp)).modify(name=registry_name(name))
        else:
            drop(client, registry_name(tmp))
