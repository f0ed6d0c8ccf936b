"""Turn an AssistantResponse into chat messages.

Document text is never trusted: every piece of it goes through :func:`md_escape`,
so ``<script>`` or ``*`` in a report is shown literally and never becomes HTML
or formatting.  The only markup in the messages is the project's own
(bold labels, block quotes and the ``<mark>`` around the cited sentence).
"""
from __future__ import annotations

import html
import re

from gradio import ChatMessage

from assistant.response import AssistantResponse, Citation, RetrievedItem, ShortAnswer
from webapp import texts
from webapp.document_view import view_link

# Characters that can start emphasis, code, links, images, footnotes, math, strikethrough, tables or
# e-mail autolinks anywhere in a line.  With [ and ] escaped, ( ) ! ^ and : cannot form a link.
_INLINE = re.compile(r"([\\`*_\[\]$~|@])")
# Block syntax that only matters at the start of a line: headings, lists, rules, setext underlines
# (a leading ">" becomes &gt; below and can no longer start a quote).
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # indented lines would become code blocks
_LINE_START = re.compile(r"^([#+=-]|\d+(?=[.)]))", re.MULTILINE)
_URL = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")
_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")  # a citation marker [n] as md_escape leaves it: \[n\]
RELATED_CHARS = 220


def md_escape(text: str) -> str:
    """Text → Markdown that renders as exactly this text (no HTML, links, emphasis, lists or math)."""
    escaped = _INLINE.sub(r"\\\1", _INDENT.sub("", text))
    escaped = _URL.sub(lambda m: m.group(0).replace(":", "\\:").replace(".", "\\."), escaped)
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), escaped)
    escaped = html.escape(escaped, quote=False)  # & < > as entities: never a tag, never an autolink
    return escaped.replace("\n", "  \n")


def _quote_block(markdown: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in markdown.split("\n"))


def _where(title: str, section: str) -> str:
    return f"{md_escape(title)} › {md_escape(section or texts.UI_NO_SECTION)}"


def highlighted_context(c: Citation, short: ShortAnswer | None = None) -> str:
    """The chunk the quote comes from, with the quoted sentence marked (and in it, in bold, the direct answer)."""
    begin = c.start - c.context_start
    end = begin + len(c.text)
    if begin >= 0 and c.context[begin:end] == c.text:
        before, cited, after = c.context[:begin], c.text, c.context[end:]
    else:  # defensive: quote not found at its offset, show the quote alone
        before, cited, after = "", c.text, ""
    return f"{md_escape(before)}<mark>{_with_short(cited, c, short)}</mark>{md_escape(after)}"


def _with_short(cited: str, c: Citation, short: ShortAnswer | None) -> str:
    if short is None or short.doc_id != c.doc_id or not (c.start <= short.start and short.end <= c.end):
        return md_escape(cited)
    a, b = short.start - c.start, short.end - c.start
    return f"{md_escape(cited[:a])}<strong>{md_escape(cited[a:b])}</strong>{md_escape(cited[b:])}"


def _view_link(c: Citation | RetrievedItem) -> str:
    """The document view with this passage marked (relative to the page: it works behind a path prefix)."""
    return view_link(c.doc_id, c.start, c.end, relative=True)


def _source_line(c: Citation | RetrievedItem) -> str:
    location = texts.UI_SOURCE_LOCATION.format(source=md_escape(c.source), start=c.start, end=c.end)
    origin = getattr(c, "origin", "bundled")
    if origin != "bundled":  # anything but the official reports says where it came from
        location += texts.UI_SOURCE_ORIGIN.format(origin=texts.UI_ORIGINS.get(origin, origin))
    return f"<small>{location} · [{texts.UI_VIEW_LINK}]({_view_link(c)})</small>"


def linked_markers(markdown: str, citations: list[Citation]) -> str:
    """Escaped answer text whose citation markers [n] open the cited passage in its document (a document's own
    「[1]」 is shown as ［1］ in an answer, so every \\[n\\] left is a marker)."""
    by_ref = {c.ref: c for c in citations}

    def link(m: re.Match[str]) -> str:
        c = by_ref.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        title = texts.UI_VIEW_LINK_TITLE.format(ref=c.ref)
        return f'[\\[{c.ref}\\]]({_view_link(c)} "{title}")'

    return _ESCAPED_MARKER.sub(link, markdown)


def sources_markdown(citations: list[Citation], short: ShortAnswer | None = None) -> str:
    parts = []
    for c in citations:
        heading = f"**\\[{c.ref}\\] {_where(c.title, c.section)}**"
        parts.append(f"{heading}\n\n{_quote_block(highlighted_context(c, short))}\n\n{_source_line(c)}")
    return "\n\n---\n\n".join(parts)


def related_markdown(items: list[RetrievedItem]) -> str:
    parts = []
    for item in items:
        text = item.text if len(item.text) <= RELATED_CHARS else item.text[:RELATED_CHARS] + "…"
        quoted = _quote_block(md_escape(text))
        parts.append(f"**{_where(item.title, item.section)}**\n\n{quoted}\n\n{_source_line(item)}")
    return "\n\n---\n\n".join(parts)


def answer_prefix(response: AssistantResponse) -> str:
    lines = []
    if response.standalone_question:
        lines.append("*" + md_escape(texts.UI_UNDERSTOOD_AS.format(question=response.standalone_question)) + "*")
    if response.no_answer and not response.tentative:  # a tentative reply opens with its own hint
        lines.append(texts.UI_NO_ANSWER_PREFIX)
    return "\n\n".join(lines) + ("\n\n" if lines else "")


def answer_suffix(response: AssistantResponse) -> str:
    return "\n\n" + md_escape(texts.UI_NO_ANSWER_HINT) if response.no_answer else ""


def partial_message(streamed: str) -> ChatMessage:
    """The answer bubble while its text is still arriving."""
    return ChatMessage(role="assistant", content=md_escape(streamed))


def answer_message(response: AssistantResponse) -> ChatMessage:
    """The final answer bubble (a no-answer reply has its own heading and hint)."""
    notice = f"\n\n*{texts.UI_NOTICE_PREFIX}{md_escape(response.notice)}*" if response.notice else ""
    return ChatMessage(
        role="assistant",
        content=answer_prefix(response) + _answer_markdown(response) + answer_suffix(response) + notice,
    )


def _answer_markdown(response: AssistantResponse) -> str:
    """The answer text; its first line in bold when it is the direct answer (the reader's span)."""
    if response.short_answer is None or response.no_answer:
        return linked_markers(md_escape(response.answer), response.citations)
    first, _, rest = response.answer.partition("\n")
    text = f"**{md_escape(first)}**" + ("  \n" + md_escape(rest) if rest else "")
    return linked_markers(text, response.citations)


def detail_messages(response: AssistantResponse) -> list[ChatMessage]:
    """Collapsible blocks under the answer: its sources, or the related passages of a no-answer reply."""
    if response.citations:
        title = texts.UI_SOURCES_TITLE.format(n=len(response.citations))
        content = sources_markdown(response.citations, response.short_answer)
    elif response.related:
        title, content = texts.UI_RELATED_TITLE.format(n=len(response.related)), related_markdown(response.related)
    else:
        return []
    return [ChatMessage(role="assistant", content=content, metadata={"title": title, "status": "done"})]


def check_markdown(response: AssistantResponse) -> str:
    """A fact-check result: the verdict, what differs, and the evidence (or the closest passages)."""
    verdict = response.verdict or "not_found"
    lines = [f"### {texts.UI_CHECK_MARKS.get(verdict, '')}{md_escape(texts.VERDICT_LABELS.get(verdict, verdict))}"]
    if response.conflict and verdict != "conflicting":
        lines.append(md_escape(texts.UI_CHECK_SOURCES_DISAGREE))
    if response.differences:
        lines.append("**" + md_escape(";".join(response.differences)) + "**")
    lines.append("*" + md_escape(texts.UI_CHECK_CLAIM.format(claim=response.question)) + "*")
    if response.citations:
        lines += [texts.UI_CHECK_EVIDENCE, sources_markdown(response.citations)]
    elif response.related:
        lines += [texts.UI_CHECK_RELATED, related_markdown(response.related)]
    return "\n\n".join(lines)


def error_message(message: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=texts.UI_ERROR_PREFIX + md_escape(message))
