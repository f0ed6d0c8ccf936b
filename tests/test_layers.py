"""Data flows one way: zhtext ← ingest / vectorstore ← assistant ← webapp, ui.py and the command lines.

Every import of every product module is read (function-level and type-checking imports too)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from common import REPO

TOP = {"zhtext", "ingest", "vectorstore", "assistant", "webapp", "settings", "ui", "bench"}
# package → the top-level modules of this repository it may not import (``settings``: the entry points' object)
FORBIDDEN = {
    "zhtext": TOP - {"zhtext"},
    "vectorstore": TOP - {"vectorstore", "zhtext"},
    "ingest": {"assistant", "webapp", "settings", "ui", "bench"},
    "assistant": {"ingest", "webapp", "settings", "ui", "bench"},
    "webapp": {"ui", "bench"},
}
ENTRY_POINTS = {"ingest/__main__.py", "assistant/__main__.py"}  # command lines: they build the one Settings


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & TOP


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_flow(package: str) -> None:
    wrong = {}
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        allowed = {"settings"} if rel in ENTRY_POINTS else set()
        bad = imported(path) & (FORBIDDEN[package] - allowed)
        if bad:
            wrong[rel] = sorted(bad)
    assert not wrong


def test_webapp_reads_its_strings_from_its_own_module() -> None:
    for path in sorted((REPO / "webapp").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "assistant" and path.name != "texts.py":
                assert all(a.name != "texts" for a in node.names), path


def test_no_numeral_character_class_outside_the_language_module() -> None:
    import re

    numeral_class = re.compile(r"\[[^\]]*[一二三四五六七八九十两零百千万][^\]]*\]")
    found = []
    for package in ("ingest", "vectorstore", "assistant", "webapp"):
        for path in sorted((REPO / package).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if numeral_class.search(code) and ("re." in code or 'r"' in code or "rf\"" in code):
                    found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
