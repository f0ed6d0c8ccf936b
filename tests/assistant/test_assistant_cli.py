"""`python -m assistant` as scripts use it: real subprocesses on a real index."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from settings import Settings

from common import REPO

pytestmark = pytest.mark.slow  # the command line end to end: a process per test, the model loaded in each

BATCH_KEYS = {"id", "question", "answer", "no_answer", "citations", "retrieved", "timings_ms"}
CITATION_KEYS = {"ref", "doc_id", "source", "title", "section", "text", "start", "end"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=300
    )


def test_ask_prints_answer_and_sources(built_index: Settings) -> None:
    p = run("ask", "二七区2020年的地区生产总值是多少?", "--index-dir", str(built_index.store.index_dir))
    assert p.returncode == 0, p.stderr
    assert "760亿元" in p.stdout and "[1]" in p.stdout and "参考来源" in p.stdout


def test_ask_json(built_index: Settings) -> None:
    p = run("ask", "福华颐养院有多少张床位?", "--json", "--index-dir", str(built_index.store.index_dir))
    data = json.loads(p.stdout)
    assert data["no_answer"] is False and "317张" in data["answer"]
    assert CITATION_KEYS <= set(data["citations"][0])


def test_batch_contract(built_index: Settings) -> None:
    lines = [
        {"id": "a", "question": "二七区2020年的地区生产总值是多少?"},
        {"id": "b", "question": "二七区的区长是谁?", "task": "ask"},
        "this is not json",
        {"id": "c", "question": ""},
        {
            "id": "d",
            "question": "它能服务多少人?",
            "history": [
                {"role": "user", "content": "福华颐养院有多少张床位?"},
                {"role": "assistant", "content": "317张"},
            ],
        },
        {"id": "e", "question": "x", "task": "translate"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    p = run("batch", "--index-dir", str(built_index.store.index_dir), stdin=stdin)
    assert p.returncode == 0, p.stderr
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(out) == len(lines)
    assert [o["id"] for o in out] == ["a", "b", None, "c", "d", "e"]
    for o in out:
        assert BATCH_KEYS <= set(o)
    assert "760亿元" in out[0]["answer"] and not out[0]["error"]
    assert len(out[0]["retrieved"]) >= 5 and {"chunk_id", "source", "text", "score"} <= set(out[0]["retrieved"][0])
    assert out[1]["no_answer"] is True
    assert out[2]["error"] and out[3]["error"] and out[5]["error"]
    assert "6万余人" in out[4]["answer"]


def test_eval_reports_metrics(built_index: Settings, tmp_path: Path) -> None:
    gold = REPO / "data" / "eval" / "gold.jsonl"
    sample = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()[:6]]
    small = tmp_path / "gold.jsonl"
    small.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in sample), encoding="utf-8")
    p = run("eval", str(small), "--out", str(tmp_path / "out"), "--index-dir", str(built_index.store.index_dir))
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    for key in (
        "hit@5",
        "mrr@10",
        "answer_accuracy",
        "refusal_accuracy",
        "false_refusal_rate",
        "numbers_grounded",
        "latency_ms_p50",
        "latency_ms_p95",
    ):
        assert key in report["metrics"]
    assert report["metrics"]["answer_accuracy"] > 0.5
    assert (tmp_path / "out" / "report.md").read_text(encoding="utf-8").startswith("# Evaluation")


@pytest.mark.parametrize("question", ["", "   ", "问" * 2001, "a\x07b"])
def test_bad_question_exit_code(built_index: Settings, question: str) -> None:
    p = run("ask", question, "--index-dir", str(built_index.store.index_dir))
    assert p.returncode == 2
    assert "error" in p.stderr and p.stdout == ""


def test_empty_claim_says_claim(built_index: Settings) -> None:
    p = run("check", "  ", "--index-dir", str(built_index.store.index_dir))
    assert p.returncode == 2 and "待核查的说法不能为空" in p.stderr and p.stdout == ""


def test_missing_index_exit_code(tmp_path: Path) -> None:
    p = run("ask", "二七区的GDP?", "--index-dir", str(tmp_path / "none"))
    assert p.returncode == 3
    assert "python -m ingest" in p.stderr
    assert not (tmp_path / "none").exists()


def test_check_command_and_batch_task(built_index: Settings) -> None:
    p = run("check", "二七区2020年地区生产总值为800亿元", "--json", "--index-dir", str(built_index.store.index_dir))
    data = json.loads(p.stdout)
    assert data["verdict"] == "contradicted" and any("760亿元" in d for d in data["differences"])
    line = json.dumps({"id": "c1", "question": "福华颐养院设立了371张床位", "task": "check"}, ensure_ascii=False)
    out = json.loads(run("batch", "--index-dir", str(built_index.store.index_dir), stdin=line + "\n").stdout)
    assert out["id"] == "c1" and out["verdict"] == "contradicted"


def test_output_piped_into_a_reader_that_stops_early(built_index: Settings) -> None:
    """`python -m assistant ask … | head -1`: the closed pipe ends the command quietly."""
    cmd = [
        sys.executable,
        "-m",
        "assistant",
        "ask",
        "二七区有哪些重点板块?",
        "--index-dir",
        str(built_index.store.index_dir),
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    p.stdout.close()  # the reader is gone before the answer is written
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0
    assert b"Traceback" not in err
