"""The document view: a document as its chunks lay it out, section by section, with a cited passage marked.

``/view/{doc_id}?start=…&end=…`` is the stable, shareable link of a passage (the document id and the offsets a
citation carries); the page's citation markers, its sources, the indicators table and the documents tab all open
it.  ``/api/documents/{doc_id}/view`` gives the same as JSON.  Every piece of the document is the original text,
escaped here and never rewritten; the marked passage is scrolled into view, its section path shown above it.
"""
from __future__ import annotations

import html

from vectorstore.errors import StoreError
from vectorstore.layout import DocumentLayout, section_parts
from vectorstore.records import SECTION_SEP
from webapp import texts
from webapp.errors import UnknownDocument
from webapp.index import IndexService
from webapp.types import DocumentView, ViewBlock, ViewPassage

PASSAGE_ID = "passage"  # the marked passage's element id (the link's #fragment)


class InvalidPassage(ValueError):
    """Offsets that are not a passage of the document (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def view_link(doc_id: str, start: int | None = None, end: int | None = None, relative: bool = False) -> str:
    """The stable link of a document, or of one of its passages (relative: from the page at the site's root)."""
    path = ("" if relative else "/") + f"view/{doc_id}"
    return f"{path}?start={start}&end={end}#{PASSAGE_ID}" if start is not None and end is not None else path


class DocumentViewService:
    def __init__(self, index: IndexService) -> None:
        self.index = index

    def layout(self, doc_id: str) -> DocumentLayout:
        """The committed document's layout; UnknownDocument when the index has no such document."""
        store = self.index.store
        chunks = store.all_chunks(where={"doc_id": doc_id}) if doc_id.startswith("doc-") else []
        if not chunks:
            raise UnknownDocument(doc_id)
        return DocumentLayout.of(chunks)

    def view(self, doc_id: str, start: int | None = None, end: int | None = None) -> DocumentView:
        layout = self.layout(doc_id)
        passage = None
        if start is not None or end is not None:
            if start is None or end is None or not layout.covers(start, end):
                raise InvalidPassage(texts.ERR_VIEW_PASSAGE.format(start=start, end=end, length=len(layout.text)))
            passage = ViewPassage(start=start, end=end, text=layout.text[start:end], section=layout.section_at(start))
        blocks = [
            ViewBlock(kind=p.kind, section=p.section, start=p.start, end=p.end, text=layout.text[p.start:p.end])
            for p in layout.paragraphs()
        ]
        return DocumentView(doc_id=doc_id, source=layout.source, title=layout.title, blocks=blocks, passage=passage)

    def page(self, doc_id: str, start: int | None = None, end: int | None = None) -> tuple[int, str]:
        """(status, the HTML page): the document with the passage marked, or a page saying what is wrong."""
        try:
            return 200, render_page(self.view(doc_id, start, end))
        except UnknownDocument as exc:
            return 404, message_page(exc.message)
        except InvalidPassage as exc:
            return 400, message_page(exc.message, view_link(doc_id, relative=False))
        except StoreError:
            return 503, message_page(texts.ERR_VIEW_UNAVAILABLE)


# --- HTML -------------------------------------------------------------------------------------------------
_CSS = """
:root { color-scheme: light; --mark: #fde68a; --line: #e5e7eb; --muted: #4b5563; --accent: #b91c1c; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", system-ui,
  sans-serif; color: #111827; background: #fafaf9; line-height: 1.8; }
header.bar { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: 0.6rem 1.2rem;
  z-index: 1; }
header.bar h1 { font-size: 1.25rem; margin: 0.2rem 0; }
.meta, .where, .share { font-size: 0.9rem; color: var(--muted); margin: 0.1rem 0; overflow-wrap: anywhere; }
.where strong { color: #111827; }
a { color: var(--accent); }
a:focus-visible, mark:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.2rem 40vh; background: #fff; }
main h2 { font-size: 1.15rem; margin: 1.6rem 0 0.4rem; border-left: 4px solid var(--accent); padding-left: 0.5rem; }
main h3 { font-size: 1.05rem; margin: 1.2rem 0 0.3rem; }
main p { margin: 0.5rem 0; white-space: pre-wrap; }
main p.caption { color: var(--muted); font-size: 0.92rem; font-style: italic; }
mark { background: var(--mark); color: inherit; padding: 0 2px; border-radius: 3px; }
.passage-path { font-size: 0.85rem; color: var(--muted); margin: 0.8rem 0 -0.2rem; }
"""
_SCRIPT = (
    f"<script>(function(){{var m=document.getElementById('{PASSAGE_ID}');"
    "if(m){m.scrollIntoView({block:'center'});m.focus({preventScroll:true});}})();</script>"
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _path_html(title: str, section: str) -> str:
    parts = [title, *section_parts(section)] if title else section_parts(section)
    return f" {_e(SECTION_SEP.strip())} ".join(_e(p) for p in parts) or _e(texts.UI_NO_SECTION)


def _marked(block: ViewBlock, passage: ViewPassage | None, first: bool) -> tuple[str, bool]:
    """The block's text escaped, with the part inside the passage in <mark> (the first one the link's target)."""
    if passage is None or passage.end <= block.start or block.end <= passage.start:
        return _e(block.text), False
    a, b = max(passage.start, block.start) - block.start, min(passage.end, block.end) - block.start
    attrs = f' id="{PASSAGE_ID}" tabindex="-1"' if first else ""
    label = _e(texts.VIEW_PASSAGE_LABEL)
    marked = f'<mark{attrs} aria-label="{label}">{_e(block.text[a:b])}</mark>'
    return _e(block.text[:a]) + marked + _e(block.text[b:]), True


def render_page(view: DocumentView) -> str:
    passage = view.passage
    body: list[str] = []
    first = True
    for block in view.blocks:
        inner, marked = _marked(block, passage, first)
        if block.kind == "heading":
            level = "h2" if len(section_parts(block.section)) <= 1 else "h3"
            body.append(f"<{level}>{inner}</{level}>")
            continue
        if marked and first and passage is not None:
            path = _path_html("", passage.section)
            body.append(f'<p class="passage-path" id="passage-path">{_e(texts.VIEW_SECTION_LABEL)}{path}</p>')
        css = "caption" if block.kind == "caption" else "para"
        body.append(f'<p class="{css}" data-start="{block.start}" data-end="{block.end}">{inner}</p>')
        first = first and not marked
    header = [
        f'<p class="meta"><a href="../" id="back-link">{_e(texts.VIEW_BACK)}</a></p>',
        f"<h1>{_e(view.title or view.source)}</h1>",
        f'<p class="meta">{_e(texts.VIEW_META.format(source=view.source, doc_id=view.doc_id))}</p>',
    ]
    if passage is not None:
        link = view_link(view.doc_id, passage.start, passage.end)
        header += [
            f'<nav class="where" aria-label="{_e(texts.VIEW_WHERE_ARIA)}"><strong>{_e(texts.VIEW_WHERE)}</strong>'
            f"{_path_html(view.title, passage.section)} · "
            f"{_e(texts.VIEW_OFFSETS.format(start=passage.start, end=passage.end))}</nav>",
            f'<p class="share">{_e(texts.VIEW_SHARE)}<a id="passage-link" href="{_e(link)}">{_e(link)}</a></p>',
        ]
    title = _e(texts.VIEW_TITLE.format(title=view.title or view.source))
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body>"
        f'<header class="bar">{"".join(header)}</header>'
        f'<main id="document" aria-label="{_e(texts.VIEW_MAIN_ARIA)}">{"".join(body)}</main>'
        f"{_SCRIPT if passage is not None else ''}</body></html>"
    )


def message_page(message: str, document_link: str | None = None) -> str:
    more = f'<p><a href="{_e(document_link)}">{_e(texts.VIEW_WHOLE_DOCUMENT)}</a></p>' if document_link else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(texts.VIEW_ERROR_TITLE)}</title><style>{_CSS}</style></head><body>"
        f'<main><p class="meta"><a href="../">{_e(texts.VIEW_BACK)}</a></p><p role="alert">{_e(message)}</p>'
        f"{more}</main></body></html>"
    )
