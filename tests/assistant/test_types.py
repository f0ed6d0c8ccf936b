"""The records of the assistant: one types module for what the answer steps share, and names no other module of
the repository gives to anything of its own."""
from __future__ import annotations

import ast
import dataclasses

from assistant import types

from common import REPO

PACKAGES = ("zhtext", "ingest", "vectorstore", "assistant", "webapp", "training", "bench")


def _defined(path) -> set[str]:
    """Classes and type aliases (``X = Literal[...]``) a module defines at its top level."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name) and t.id[:1].isupper()}
    return names


def test_the_names_of_assistant_and_zhtext_records_are_unique_in_the_repository() -> None:
    where: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for name in _defined(path):
                where.setdefault(name, []).append(path.relative_to(REPO).as_posix())
    clashes = {
        name: paths for name, paths in where.items()
        if len(paths) > 1 and any(p.startswith(("assistant/", "zhtext/")) for p in paths)
    }
    assert not clashes


def test_the_shared_records_are_plain_data() -> None:
    for record in (types.Term, types.AnalysedQuestion, types.Value, types.Quote, types.Candidate, types.CheckResult):
        assert dataclasses.is_dataclass(record)
        assert record.__module__ == "assistant.types"
