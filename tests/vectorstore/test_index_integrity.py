"""One writer, atomic documents, damaged files repaired: real `python -m ingest` processes, real kill -9, real Chroma
files.

The corpus has a document of more than 1,000 chunks (it spans two Chroma writes) made of
repeated report sentences, so its embeddings come from the cache and every build is quick.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import run_ingest
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.keyword.folder import KEEP_GENERATIONS
from vectorstore.lock import IndexLock

from common import CORPUS_DIR, REPO, make_settings

pytestmark = pytest.mark.slow  # a 1,100-chunk reference index, kill -9 at every write, repairs, 50 cycles

TESTS = Path(__file__).resolve().parent
BIG = "big.txt"
SENTENCES = (
    "2020年,二七区地区生产总值达到760亿元。",
    "福华颐养院设立床位317张,可服务周边6万余人。",
    "二七区持续推进老旧小区改造。",
)


def big_text(extra: str = "") -> str:
    """About 770,000 characters in one section: 1,100+ chunks whose texts repeat (cached embeddings)."""
    body = "".join(SENTENCES) * 8000
    return "二七区资料汇编\n\n" + body + extra + "\n"


def cli(
    *args: str | Path, env: dict[str, str] | None = None, script: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = (
        {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")} | {"PYTHONPATH": str(REPO)} | (env or {})
    )
    command = [sys.executable, *(script or ["-m", "ingest"]), *map(str, args)]
    return subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)


def crash(point: str, n: int, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return cli(*args, script=[str(TESTS / "crash_ingest.py"), point, str(n)])


def snapshot(settings: Settings) -> tuple[dict, dict]:
    """Every chunk (text, place, flags, vector) and every committed document, times left out."""
    store = ChunkStore(settings, load_embeddings(settings))
    chunks = {}
    offset = 0
    while True:
        page = store.collection.get(include=["documents", "metadatas", "embeddings"], limit=1000, offset=offset)
        for cid, text, meta, vec in zip(
            page["ids"], page["documents"], page["metadatas"], page["embeddings"], strict=False
        ):
            meta = {k: v for k, v in meta.items() if k != "ingested_at"}
            chunks[cid] = (text, tuple(sorted(meta.items())), tuple(np.round(np.asarray(vec, dtype=np.float32), 4)))
        if len(page["ids"]) < 1000:
            break
        offset += 1000
    docs = {
        d.doc_id: (d.source, d.title, d.chunks, d.doc_hash, d.provenance.origin, d.suspicious)
        for d in store.documents()
    }
    return chunks, docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("integrity") / "corpus"
    shutil.copytree(CORPUS_DIR, folder)
    (folder / BIG).write_text(big_text(), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, corpus: Path, built_index: Settings
) -> tuple[Path, tuple[dict, dict]]:
    """A clean build of the corpus: what every interrupted-and-resumed build must equal."""
    index = tmp_path_factory.mktemp("reference") / "index"
    index.mkdir()
    shutil.copyfile(Path(built_index.store.index_dir) / "embedding_cache.sqlite", index / "embedding_cache.sqlite")
    report = run_ingest(make_settings(index), [corpus], show_progress=False)
    assert sorted(report.added) == sorted([BIG, *[p.name for p in CORPUS_DIR.glob("*.txt")]])
    state = snapshot(make_settings(index))
    assert len(state[0]) > 1000 and len(state[1]) == 3
    return index, state


def fresh_index(tmp_path: Path, reference: tuple[Path, tuple]) -> Path:
    """An empty index dir whose embedding cache holds every vector of the corpus."""
    index = tmp_path / "index"
    index.mkdir()
    shutil.copyfile(reference[0] / "embedding_cache.sqlite", index / "embedding_cache.sqlite")
    return index


# --- one writer ------------------------------------------------------------------------------------
def test_second_writer_fails_at_once_naming_the_holder_and_can_wait(tmp_path: Path, corpus: Path, reference) -> None:
    index = fresh_index(tmp_path, reference)
    lock = IndexLock(index).acquire()
    try:
        started = time.perf_counter()
        refused = cli("--index-dir", index, "-q", CORPUS_DIR)
        assert refused.returncode == 2 and time.perf_counter() - started < 30
        assert (
            f"PID {os.getpid()}" in refused.stderr
            and "--wait" in refused.stderr
            and "ERQI_CHROMA_HOST" in refused.stderr
        )
        assert "正被另一个进程写入" in refused.stderr and "Traceback" not in refused.stderr
        threading.Timer(3.0, lock.release).start()
        waited = cli("--index-dir", index, "-q", "--wait", "60", CORPUS_DIR)
        assert waited.returncode == 0, waited.stderr
        assert "added 2" in waited.stdout
    finally:
        lock.release()


# --- atomic documents: kill -9 at every phase ------------------------------------------------------------
@pytest.mark.parametrize("point, n, before", [
    ("upsert", 2, None),  # mid-document: the first 1,000 chunks of big.txt are written, the rest are not
    ("commit", 1, None),  # all chunks written, the document not committed
    ("update", 3, None),  # mid-embedding
    ("delete", 1, "old"),  # re-indexing a changed document: uncommitted, old chunks half removed
    ("swap", 1, "built"),  # compaction (--repair): the old collection dropped, the new one not yet in place
    ("swap", 2, "built"),  # compaction: the chunks swapped in, the registry not yet
], ids=["mid-document", "before-commit", "mid-embedding", "mid-update", "swap-chunks", "swap-registry"])
def test_kill_9_at_every_phase_then_ingest_gives_a_clean_build(
    tmp_path: Path, corpus: Path, reference, point: str, n: int, before: str | None
) -> None:
    """Was: kill -9 between the two writes of a 1,341-chunk document left 341 chunks missing for good
    (the re-run said "unchanged"), and questions about the lost part got a wrong answer with a citation."""
    index = fresh_index(tmp_path, reference)
    folder = tmp_path / "corpus"
    shutil.copytree(corpus, folder)
    if before == "old":
        (folder / BIG).write_text(big_text("旧版本的最后一句。"), encoding="utf-8")
    if before:
        assert cli("--index-dir", index, "-q", folder).returncode == 0
        (folder / BIG).write_text(big_text(), encoding="utf-8")
    args = ["--index-dir", index, "-q", *(["--repair"] if point == "swap" else [folder])]
    killed = crash(point, n, *args)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])

    resumed = cli("--index-dir", index, "-q", folder)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(make_settings(index)) == reference[1]


# --- damaged files ----------------------------------------------------------------------------------------
def damage(index: Path, how: str) -> None:
    segments = [p for p in index.iterdir() if p.is_dir() and len(p.name) == 36]
    vector_segments = [p for p in segments if (p / "header.bin").exists()]
    assert vector_segments, "the HNSW files exist once more than a thousand vectors are written"
    if how == "hnsw-garbage":
        for folder in vector_segments:
            for f in folder.iterdir():
                f.write_bytes(os.urandom(max(f.stat().st_size, 64)))
    elif how == "hnsw-deleted":
        for folder in vector_segments:
            shutil.rmtree(folder)
    elif how == "cache-garbage":
        (index / "embedding_cache.sqlite").write_bytes(os.urandom(8192))
    elif how == "sqlite-garbage":
        (index / "chroma.sqlite3").write_bytes(os.urandom(1 << 20))


@pytest.mark.parametrize("how", ["hnsw-garbage", "hnsw-deleted", "cache-garbage", "sqlite-garbage"])
def test_damaged_index_gives_a_clear_message_and_repair_restores_it(
    tmp_path: Path, corpus: Path, reference, how: str
) -> None:
    """Was: raw tracebacks; a deleted HNSW folder made ingest say "unchanged" without repairing; a garbage cache
    made every upload a 500."""
    index = tmp_path / "index"
    shutil.copytree(reference[0], index)
    damage(index, how)
    if how == "cache-garbage":  # only a cache: set aside and started afresh the first time it is needed
        note = tmp_path / "通知.txt"
        note.write_text("二七区社区通知\n\n建中街社区新设便民食堂。\n", encoding="utf-8")
        added = cli("--index-dir", index, "-q", note)
        assert added.returncode == 0 and "added 1" in added.stdout, added.stderr
        assert (index / "embedding_cache.sqlite.damaged").exists()
        assert cli("--index-dir", index, "--remove", note.name).returncode == 0
    else:
        checked = cli("--index-dir", index, "-q", corpus)
        assert checked.returncode == 2, checked.stdout
        assert "--repair" in checked.stderr and ("已损坏" in checked.stderr or "无法读取" in checked.stderr)
        assert "Traceback" not in checked.stderr, checked.stderr
        repaired = cli("--index-dir", index, "-q", "--repair", corpus)
        assert repaired.returncode == 0, repaired.stderr
        assert "repaired" in repaired.stdout
    again = cli("--index-dir", index, "-q", corpus)
    assert again.returncode == 0 and "unchanged 3" in again.stdout, again.stdout + again.stderr
    assert snapshot(make_settings(index)) == reference[1]


@pytest.mark.parametrize("how", ["hnsw-garbage", "hnsw-deleted"])
def test_server_on_a_damaged_index_starts_and_says_what_to_do(tmp_path: Path, reference, how: str) -> None:
    """Was: overwritten HNSW files stopped the server from starting (no page, no message);
    a deleted HNSW folder gave health "ok" while every question was a 500."""
    import httpx

    from webapp_fixtures import serve, web_settings_for

    index = tmp_path / "index"
    shutil.copytree(reference[0], index)
    damage(index, how)
    live = serve(web_settings_for(index, tmp_path / "corpus"))
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            assert client.get("/").status_code == 200
            health = client.get("/api/health").json()
            assert health["status"] == "damaged" and "--repair" in health["message"], health
            answer = client.post("/api/ask", json={"question": "二七区2020年的地区生产总值是多少?"})
            assert answer.status_code == 503 and "--repair" in answer.json()["error"]["message"]
            assert client.get("/v1/models").status_code == 200
    finally:
        live.stop()


# --- deleted vectors are reclaimed ---------------------------------------------------------------------
def test_50_upload_delete_cycles_stay_within_20_percent_of_a_fresh_build(tmp_path: Path, built_index: Settings) -> None:
    """Was: after 50 upload/delete cycles of one document the index was 51 MB instead of 1.4 MB and the server's RSS
    1.35 GB instead of 0.87 GB.  Chroma's part stays within 20 % of a fresh build; the kept keyword index keeps its
    last KEEP_GENERATIONS generations for readers still opening them (one older segment stays beside the current
    one, a fifth of the fresh index now that it keeps no bridging vocabulary), so it is bounded by that instead."""
    from bench.security import index_bytes, ui_server, wait_embedded

    from webapp_fixtures import indexed_copy

    settings = indexed_copy(tmp_path, Path(built_index.store.index_dir))
    index = Path(settings.store.index_dir)
    fresh_size, fresh_kept = index_bytes(index), index_bytes(index / "lexical")
    document = (CORPUS_DIR / "erqi-plan-2021-2026.txt").read_bytes()
    with ui_server(index, Path(settings.ingest.corpus_dir)) as (client, process):
        def cycle() -> None:
            created = client.post("/api/documents", files={"file": ("规划副本.txt", document, "text/plain")})
            assert created.status_code == 201, created.text
            wait_embedded(client)
            assert (
                "1200亿元"
                in client.post("/api/ask", json={"question": "到2025年地区生产总值的目标是多少?"}).json()["answer"]
            )
            assert client.delete(f"/api/documents/{created.json()['document']['doc_id']}").status_code == 200
            wait_embedded(client)

        cycle()  # everything a cycle uses is loaded once
        fresh_rss = process.memory_info().rss
        for _ in range(50):
            cycle()
        time.sleep(1.0)
        rss, size, kept = process.memory_info().rss, index_bytes(index), index_bytes(index / "lexical")
        assert client.get("/api/health").json()["problems"] == []
    assert fresh_kept > 0 and size - kept <= 1.2 * (fresh_size - fresh_kept), (size - kept, fresh_size - fresh_kept)
    assert kept <= KEEP_GENERATIONS * fresh_kept, (kept, fresh_kept)
    assert rss <= 1.2 * fresh_rss, (rss >> 20, fresh_rss >> 20)
