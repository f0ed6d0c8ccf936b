"""Characters: quotation marks and the terms they set apart, and overlapping character pairs."""
from __future__ import annotations

import re

QUOTE_OPEN = "“「『\""
QUOTE_CLOSE = "”」』\""


def quoted(shortest: int, longest: int, one_line: bool = False) -> re.Pattern[str]:
    """A term in quotation marks (“官方带娃”, 「六个区」), ``shortest`` to ``longest`` characters (group 1).

    Each reader keeps its own bounds: a corpus word the segmenter learns (2–8, :mod:`zhtext.words`),
    a question's quoted term (2–10), a name an LLM sentence quotes (1–40, on one line)."""
    inside = re.escape(QUOTE_CLOSE + ("\n" if one_line else ""))
    return re.compile(f"[{re.escape(QUOTE_OPEN)}]([^{inside}]{{{shortest},{longest}}})[{re.escape(QUOTE_CLOSE)}]")


def pairs(text: str) -> list[str]:
    """The overlapping pairs of characters of ``text``, in order (二七区 → 二七, 七区)."""
    return [text[i : i + 2] for i in range(len(text) - 1)]
