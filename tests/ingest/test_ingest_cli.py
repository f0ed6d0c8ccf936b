"""`python -m ingest` as a user runs it: a real subprocess, exit codes, stdout/stderr."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.__main__ import main
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings, load_embeddings
from vectorstore.records import doc_id_for

from common import PLAN, REVIEW, copy_embedding_cache, make_settings


def run_cli(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingest", *map(str, args)],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def index_dir(tmp_path: Path, built_index: Settings) -> Path:
    """An empty index dir whose embedding cache already holds the corpus passages."""
    target = tmp_path / "index"
    copy_embedding_cache(Path(built_index.store.index_dir), target)
    return target


def sources(index_dir: Path) -> list[str]:
    settings = make_settings(index_dir)
    return [d.source for d in ChunkStore(settings, load_embeddings(settings)).documents()]


def revision(index_dir: Path) -> tuple[int, int]:
    settings = make_settings(index_dir)
    return ChunkStore(settings, load_embeddings(settings)).revision()


@pytest.mark.slow  # python -m ingest as a process
def test_ingest_then_unchanged_then_prune_then_remove(tmp_path: Path, index_dir: Path, docs_dir: Path) -> None:
    first = run_cli("--index-dir", index_dir, "-q", docs_dir, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "added 2, updated 0, unchanged 0" in first.stdout
    assert (index_dir / "chroma.sqlite3").is_file()
    assert sources(index_dir) == [PLAN, REVIEW]
    before = revision(index_dir)

    second = run_cli("--index-dir", index_dir, "-q", docs_dir, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "added 0, updated 0, unchanged 2" in second.stdout and "0 chunks written" in second.stdout
    assert revision(index_dir) == before, "an unchanged run writes nothing"

    (docs_dir / REVIEW).unlink()
    pruned = run_cli("--index-dir", index_dir, "-q", "--prune", docs_dir, cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert "removed 1" in pruned.stdout
    assert sources(index_dir) == [PLAN]

    removed = run_cli("--index-dir", index_dir, "--remove", PLAN, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "removed 1" in removed.stdout
    assert sources(index_dir) == []


@pytest.mark.slow  # python -m ingest as a process
def test_bad_files_are_reported_and_the_rest_is_ingested(tmp_path: Path, index_dir: Path, docs_dir: Path) -> None:
    (docs_dir / "binary.txt").write_bytes(b"\x00\xff\x10\x80\x01\x02" * 500)
    (docs_dir / "table.xyz").write_text("二七区。", encoding="utf-8")
    result = run_cli("--index-dir", index_dir, "-q", docs_dir, cwd=tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert len(lines) == 2, result.stderr
    binary = next(line for line in lines if "binary.txt" in line)
    assert "encoding" in binary
    xyz = next(line for line in lines if "table.xyz" in line)
    assert "unsupported" in xyz and ".xyz" in xyz
    assert "added 2" in result.stdout and "skipped 2" in result.stdout
    assert sources(index_dir) == [PLAN, REVIEW]


@pytest.mark.slow  # python -m ingest as a process
def test_missing_path_exits_2_and_creates_no_index(tmp_path: Path) -> None:
    index_dir = tmp_path / "index-not-created"
    result = run_cli("--index-dir", index_dir, tmp_path / "does-not-exist", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    assert "does-not-exist" in result.stderr and "path not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert not index_dir.exists()


# ----------------------------------------------------------------------- in-process (fast) variants of main()


def test_main_model_mismatch_exits_2_and_rebuild_fixes_it(
    tmp_path: Path, index_dir: Path, docs_dir: Path, embeddings: CachedEmbeddings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(index_dir)
    other = CachedEmbeddings(embeddings.inner, "model-from-elsewhere", tmp_path / "other.sqlite")
    ChunkStore(settings, other, create=True)

    assert main(["--index-dir", str(index_dir), "-q", str(docs_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--rebuild" in err and "model-from-elsewhere" in err

    assert main(["--index-dir", str(index_dir), "-q", "--rebuild", str(docs_dir)]) == 0
    out = capsys.readouterr().out
    assert "added 2" in out
    assert sources(index_dir) == [PLAN, REVIEW]


def test_main_remove_unknown_document(index_dir: Path, docs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--index-dir", str(index_dir), "-q", str(docs_dir)]) == 0
    capsys.readouterr()
    assert main(["--index-dir", str(index_dir), "--remove", "nope.txt"]) == 2
    err = capsys.readouterr().err
    assert "nope.txt" in err and "not in the index" in err
    assert main(["--index-dir", str(index_dir), "--remove", doc_id_for(REVIEW), "--remove", PLAN]) == 0
    assert "removed 2" in capsys.readouterr().out
    assert sources(index_dir) == []


def test_main_remove_from_missing_index_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "no-index"
    assert main(["--index-dir", str(index_dir), "--remove", PLAN]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "python -m ingest" in err
    assert not index_dir.exists()


def test_main_default_paths_and_index_dir_come_from_settings(
    tmp_path: Path,
    index_dir: Path,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERQI_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("ERQI_CORPUS_DIR", str(corpus_dir))
    assert main(["-q"]) == 0
    assert "added 2" in capsys.readouterr().out
    assert sources(index_dir) == [PLAN, REVIEW]
    assert not (tmp_path / "var").exists()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--index-dir", "--prune", "--remove", "--rebuild", "--quiet"):
        assert option in out
