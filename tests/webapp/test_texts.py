"""The page's strings need only a CJK font: no emoji (they render as empty boxes where no emoji font is installed)."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import webapp.texts

WEBAPP = Path(webapp.texts.__file__).parent


def emoji_in(text: str) -> list[str]:
    return sorted({ch for ch in text if ord(ch) >= 0x1F000 or ch == "\ufe0f" or unicodedata.category(ch) == "So"})


def test_no_emoji_in_the_web_layer() -> None:
    found = {path.name: emoji_in(path.read_text(encoding="utf-8")) for path in sorted(WEBAPP.glob("*.py"))}
    assert not {name: chars for name, chars in found.items() if chars}


def test_every_verdict_has_a_text_label() -> None:
    assert set(webapp.texts.UI_CHECK_MARKS) == set(webapp.texts.VERDICT_LABELS)
