"""Sources with standing (issue 20): an uploaded bulletin beside the bundled reports adds a view, it never replaces
the official one.  Both orders of upload; ask and check; every interface (the response object, `python -m
assistant check --json`, a batch line with ``task: check``, ``/api/check``).

Before the fix, with a bulletin saying 820亿元 uploaded, checking 「…9999亿元」 answered contradicted, 「资料记载为
820亿元」, citing only the bulletin, and ``conflict`` was false even when the verdict was conflicting."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import texts
from assistant.response import AssistantResponse
from settings import Settings

from common import CORPUS_DIR, REVIEW, copy_embedding_cache, make_settings

BULLETIN_NAME = "统计公报.txt"
BULLETIN = "二七区统计公报\n\n2020年，二七区地区生产总值为820亿元。\n\n2020年，二七区共举办城市马拉松比赛3场。\n"
QUESTION = "二七区2020年的地区生产总值是多少?"
OFFICIAL = "760亿元"
UPLOADED = "820亿元"


def _upload(settings: Settings, folder: Path) -> None:
    """What the web page's upload does: the file into a folder, indexed with the provenance of an upload."""
    from ingest.pipeline import Ingestor, IngestReport
    from vectorstore.records import Provenance

    path = folder / BULLETIN_NAME
    path.write_text(BULLETIN, encoding="utf-8")
    report = IngestReport()
    Ingestor(settings, show_progress=False).ingest([path], report, provenance=lambda _: Provenance(
        "upload", "test", str(folder)))
    assert report.added == [BULLETIN_NAME], report.summary()


@pytest.fixture(scope="module", params=["bulletin-after-reports", "bulletin-before-reports"])
def indexed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, built_index: Settings):
    """The bundled reports (from the repository's data/corpus: official) and an uploaded bulletin, in either order."""
    from ingest.pipeline import run_ingest

    home = tmp_path_factory.mktemp(request.param)
    uploads = home / "uploads"
    uploads.mkdir()
    copy_embedding_cache(Path(built_index.store.index_dir), home / "index")
    settings = make_settings(home / "index", corpus_dir=uploads)
    if request.param == "bulletin-before-reports":
        _upload(settings, uploads)
    run_ingest(settings, [CORPUS_DIR], show_progress=False)
    if request.param == "bulletin-after-reports":
        _upload(settings, uploads)
    return settings


@pytest.fixture(scope="module")
def assistant(indexed: Settings):
    from assistant.service import Assistant

    return Assistant(indexed)


def _sources(r: AssistantResponse) -> list[str]:
    return [c.source for c in r.citations]


def _assert_both_official_first(r: AssistantResponse) -> None:
    assert r.conflict, (r.verdict, r.answer)
    assert _sources(r)[0] == REVIEW and BULLETIN_NAME in _sources(r), _sources(r)
    assert r.citations[0].origin == "bundled" and r.citations[_sources(r).index(BULLETIN_NAME)].origin == "upload"
    short = texts.SHORT_ANSWER.split("{")[0]
    quoted = [  # the passages, in order (not the direct answer above them)
        line for line in r.answer.splitlines() if ("[1]" in line or "[2]" in line) and not line.startswith(short)
    ]
    assert OFFICIAL in quoted[0] and UPLOADED in quoted[1], r.answer
    assert f"上传的资料「{BULLETIN_NAME}」" in r.answer, "the upload is named by its standing"


def test_a_claim_both_sources_deny_names_each_official_first(assistant) -> None:
    r = assistant.check("二七区2020年地区生产总值为9999亿元")
    assert r.verdict == "contradicted", (r.verdict, r.answer)
    _assert_both_official_first(r)
    assert r.differences == [f"官方资料记载为{OFFICIAL}", f"上传的资料「{BULLETIN_NAME}」记载为{UPLOADED}"]
    assert texts.CHECK_SOURCES_DISAGREE in r.answer


@pytest.mark.parametrize("claim", ["二七区2020年地区生产总值为760亿元", "二七区2020年地区生产总值为820亿元"])
def test_a_claim_one_source_supports_and_the_other_denies_is_conflicting(assistant, claim: str) -> None:
    r = assistant.check(claim)
    assert r.verdict == "conflicting", (r.verdict, r.answer)
    _assert_both_official_first(r)
    said = OFFICIAL if "820" in claim else UPLOADED
    assert len(r.differences) == 1 and r.differences[0].endswith(f"记载为{said}"), r.differences


def test_the_answer_lists_both_sources_official_first(assistant) -> None:
    r = assistant.ask(QUESTION)
    assert not r.no_answer
    _assert_both_official_first(r)
    assert r.answer.startswith(texts.CONFLICT_NOTE) or r.answer.split("\n", 1)[1].startswith(texts.CONFLICT_NOTE)
    if r.short_answer is not None:  # the direct answer may only come from the passage cited first: the official one
        assert r.short_answer.source == REVIEW and UPLOADED not in r.short_answer.text


def test_conflict_is_said_on_every_interface(indexed: Settings, assistant, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.__main__ import main
    from assistant.batch import BatchItem, answer_item

    claim = "二七区2020年地区生产总值为9999亿元"
    batch = answer_item(assistant, BatchItem(claim, id="c1", task="check"))
    assert (batch.verdict, batch.conflict, _sources(batch)[0]) == ("contradicted", True, REVIEW)
    assert main(["check", claim, "--json", "--index-dir", str(indexed.store.index_dir)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert (cli["verdict"], cli["conflict"], cli["citations"][0]["source"]) == ("contradicted", True, REVIEW)
    assert cli["differences"] == batch.differences


def test_an_upload_alone_decides_what_no_official_source_speaks_to_and_is_named(assistant) -> None:
    r = assistant.check("二七区2020年共举办城市马拉松比赛3场")
    assert (r.verdict, r.conflict, _sources(r)) == ("supported", False, [BULLETIN_NAME]), r.answer
    assert r.citations[0].origin == "upload" and f"上传的资料「{BULLETIN_NAME}」" in r.answer
    r = assistant.check("福华颐养院设立床位317张")  # the reports alone: as before, no label needed
    assert (r.verdict, r.conflict, _sources(r)) == ("supported", False, [REVIEW]), r.answer
    assert r.citations[0].origin == "bundled" and "来源" not in r.answer


def test_api_check_says_conflict(indexed: Settings) -> None:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from webapp.api import api_router
    from webapp.services import Services

    services = Services.build(indexed)
    app = FastAPI()
    app.include_router(api_router(services))
    try:
        with TestClient(app) as client:
            body = client.post("/api/check", json={"claim": "二七区2020年地区生产总值为760亿元"}).json()
    finally:
        services.close()
    assert (body["verdict"], body["conflict"]) == ("conflicting", True), body
    assert [c["origin"] for c in body["citations"]][:2] == ["bundled", "upload"]
