"""The Gradio 6 page: 问答 (streamed, cited answers) and 文档 (list, upload, delete, re-index).

The page's events call the same services as the API (:mod:`webapp.services`).  The documents tab shows who added
a document only to a logged-in admin (everyone else sees where it came from: 随附资料, 上传 …); its upload widget is
served to those who may write (after the login when a token is set), the login also sets the session cookie that
the guard asks of the widget's upload route, and the widget's cached copies are removed once indexed or refused.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from assistant.validation import InvalidRequest, has_surrogate
from ingest.loaders import SUPPORTED_SUFFIXES
from settings import Settings
from vectorstore.errors import StoreError
from vectorstore.records import DocumentInfo
from webapp import texts
from webapp.access import AccessDenied, Caller, authorise_loopback, client_address, token_matches
from webapp.answers import AnswerService
from webapp.documents import DocumentService
from webapp.errors import UnknownDocument, public_message
from webapp.health import HealthService
from webapp.render import answer_message, check_markdown, detail_messages, error_message, md_escape, partial_message
from webapp.services import Services
from webapp.types import UploadResult
from webapp.uploads import UploadError, human_size, supported_list

log = logging.getLogger("webapp")

STREAM_DELAY = 0.02  # seconds between streamed pieces of an answer
WRITE_QUEUE = "index-write"  # uploads, deletes and re-indexing run one at a time
PROGRESS_SECONDS = 2.0  # how often the page shows the background embedding's progress (only while it runs)
LOGIN_FAILURE_DELAY = 1.0  # seconds a wrong admin token costs
CACHE_SWEEP = (900, 3600)  # every 15 min, widget copies older than an hour (never submitted) are removed
# Run in the browser before the login's Python handler: asks /api/session for the upload cookie (HttpOnly).
LOGIN_JS = """async (token) => {
  try {
    await fetch(new URL("api/session", window.location.href), {method: "POST", credentials: "same-origin",
      headers: {"Authorization": "Bearer " + (token || "").trim()}});
  } catch (e) {}
  return token;
}"""

THEME = gr.themes.Soft(
    primary_hue="red",
    secondary_hue="orange",
    neutral_hue="slate",
    font=["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"],
)

CSS = """
.gradio-container { max-width: 1080px !important; margin: 0 auto !important; }
#page-header h1 { font-size: 1.9rem; margin: 0.4rem 0 0.2rem; letter-spacing: 0.04em; }
#page-header p { color: var(--body-text-color-subdued); font-size: 0.95rem; line-height: 1.6; margin: 0; }
#index-status { font-size: 0.9rem; }
#index-status p { margin: 0.2rem 0; }
:is(#chat, #check-result) mark { background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px; }
:is(#chat, #check-result) blockquote {
  border-left: 3px solid #f59e0b; margin: 0.4rem 0; padding: 0.1rem 0.8rem; color: var(--body-text-color);
}
:is(#chat, #check-result) small { color: var(--body-text-color-subdued); }
#chat .thought-group .message-content :is(p, blockquote, li, mark) {
  font-size: 15px !important; line-height: 1.75 !important;
}
#chat .thought-group .message-content strong { font-size: 15px !important; }
#chat .thought-group .message-content small { font-size: 13px !important; }
#chat .thought-group .title { font-size: 14px !important; }
#examples-title p, #check-examples-title p {
  margin: 0.3rem 0 0; color: var(--body-text-color-subdued); font-size: 0.9rem;
}
#examples button, #check-examples button { flex: 0 1 auto !important; min-width: 0 !important; font-weight: normal; }
#send-button { min-width: 88px; }
"""


# --- helpers -----------------------------------------------------------------------------------
def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso or ""


def status_markdown(health: HealthService, docs: list[DocumentInfo] | None = None) -> str:
    report = health.report(admin=False, documents=docs)
    if report.status == "damaged":
        return texts.UI_STATUS_DAMAGED.format(message=md_escape(report.message or ""))
    if report.status == "error":
        return texts.UI_STATUS_ERROR.format(message=md_escape(report.message or ""))
    if not report.ready:
        return texts.UI_STATUS_EMPTY
    return texts.UI_STATUS_READY.format(docs=report.documents, chunks=report.chunks)


def _documents(documents: DocumentService) -> list[DocumentInfo]:
    try:
        return documents.all_documents()
    except StoreError:
        return []


def _origin(d: DocumentInfo, admin: bool) -> str:
    """Where a document came from; who added it (a user@host for the CLI) only for a logged-in admin."""
    label = texts.UI_ORIGINS.get(d.provenance.origin, d.provenance.origin)
    return f"{label}({d.provenance.by})" if admin and d.provenance.by else label


def table_rows(docs: list[DocumentInfo], admin: bool = False) -> list[list[Any]]:
    return [
        [d.title, d.source, d.chunks, _when(d.ingested_at), _origin(d, admin), d.suspicious or "", d.doc_id]
        for d in docs
    ]


def _choices(docs: list[DocumentInfo]) -> list[tuple[str, str]]:
    return [(f"{d.title}({d.source})", d.doc_id) for d in docs]


def refreshed(services: Services, admin: bool = False) -> tuple[str, list[list[Any]], Any]:
    docs = _documents(services.documents)
    return (status_markdown(services.health, docs), table_rows(docs, admin),
            gr.update(choices=_choices(docs), value=None))


def _not_ready_or(answers: AnswerService, exc: StoreError) -> str:
    log.warning("answering from the page: %s", exc)
    return texts.UI_NOT_READY_REPLY if answers.index.loaded and not answers.index.ready() else public_message(exc)


# --- chat --------------------------------------------------------------------------------------
def respond(
    answers: AnswerService, message: str, chat: list | None, conv: list | None
) -> Iterator[tuple[str, list, list]]:
    """Stream one answer: yields (textbox value, chat messages, conversation state)."""
    chat = list(chat or [])
    keep = max(answers.settings.answering.max_history_messages - 2, 0)  # a long conversation keeps its latest turns
    conv = list(conv or [])[-keep:] if keep else []
    question = (message or "").strip()
    if not question:
        yield "", chat, conv
        return
    if has_surrogate(question):  # cannot even be shown: refuse before echoing it
        yield "", chat + [error_message(texts.ERR_SURROGATE)], conv
        return
    chat.append(gr.ChatMessage(role="user", content=md_escape(question)))
    yield "", chat, conv
    extractive = answers.mode == "extractive"
    try:
        pieces = answers.stream(answers.query(question, conv))  # validates and retrieves before the first piece
        streamed, response = "", None
        for piece in pieces:
            if isinstance(piece, str):
                streamed += piece
                yield "", chat + [partial_message(streamed)], conv
                if extractive:
                    time.sleep(STREAM_DELAY)  # the extractive answer exists at once: show it progressively
            else:
                response = piece
    except InvalidRequest as exc:
        yield "", chat + [error_message(str(exc))], conv
        return
    except StoreError as exc:
        yield "", chat + [error_message(_not_ready_or(answers, exc))], conv
        return
    except Exception:  # noqa: BLE001 - the user gets a message, the log gets the trace
        log.exception("answering %r failed", question)
        yield "", chat + [error_message(texts.ERR_INTERNAL)], conv
        return
    if response is None:
        yield "", chat + [error_message(texts.ERR_INTERNAL)], conv
        return
    limit = answers.settings.answering.max_history_message_chars
    conv = conv + [{"role": "user", "content": question}, {"role": "assistant", "content": response.answer[:limit]}]
    yield "", chat + [answer_message(response)] + detail_messages(response), conv


def check_claim(answers: AnswerService, claim: str | None) -> str:
    """The 核查 tab: a claim → verdict with evidence, as Markdown."""
    claim = (claim or "").strip()
    if not claim:
        return texts.UI_CHECK_EMPTY
    if has_surrogate(claim):
        return texts.UI_ERROR_PREFIX + md_escape(texts.ERR_SURROGATE)
    try:
        return check_markdown(answers.check(answers.query(claim, claim=True)))
    except InvalidRequest as exc:
        return texts.UI_ERROR_PREFIX + md_escape(str(exc))
    except StoreError as exc:
        return texts.UI_ERROR_PREFIX + md_escape(_not_ready_or(answers, exc))
    except Exception:  # noqa: BLE001
        log.exception("checking %r failed", claim)
        return texts.UI_ERROR_PREFIX + md_escape(texts.ERR_INTERNAL)


# --- documents ---------------------------------------------------------------------------------
def page_actor(settings: Settings, admin: bool, request: gr.Request | None) -> str:
    """Who is writing from the page (recorded as the uploader); AccessDenied with the page's message otherwise."""
    if settings.web.admin_token:
        if admin:
            return "page-login"
        raise AccessDenied(403, texts.UI_NOT_AUTHORISED_LOGIN)
    client = request.client.host if request is not None and request.client else None
    headers = request.headers if request is not None else {}
    caller = Caller(client_address(settings, client, headers.get("x-forwarded-for")), headers.get("host"))
    try:
        return authorise_loopback(caller)
    except AccessDenied:
        raise AccessDenied(403, texts.UI_NOT_AUTHORISED_LOOPBACK) from None


def may_write(settings: Settings, admin: bool, request: gr.Request | None) -> bool:
    try:
        page_actor(settings, admin, request)
    except AccessDenied:
        return False
    return True


def login(settings: Settings, token: str | None) -> tuple[bool, str]:
    if token_matches(settings, (token or "").strip()):
        return True, texts.UI_LOGIN_OK
    time.sleep(LOGIN_FAILURE_DELAY)
    return False, texts.UI_LOGIN_FAILED


def discard_cached(paths: list[str] | None) -> None:
    """Remove the upload widget's copies (in Gradio's upload folder, one sub-folder per file) once they are used."""
    root = Path(get_upload_folder()).resolve()
    for name in paths or []:
        path = Path(name).resolve()
        if not path.is_relative_to(root) or path == root:
            continue  # never anything outside Gradio's own folder
        path.unlink(missing_ok=True)
        if path.parent != root:
            with suppress(OSError):  # not empty: another file of the same content
                path.parent.rmdir()


def _upload_line(result: UploadResult) -> str:
    doc = result.document
    lines = [
        texts.UI_UPLOAD_DONE.format(
            title=md_escape(doc.title),
            status=texts.UI_UPLOAD_STATUS[result.status],
            chunks=doc.chunks,
            name=md_escape(result.name),
        )
    ]
    lines += [texts.UI_SUSPICIOUS_NOTE.format(n=n, phrase=md_escape(phrase)) for n, phrase in result.suspicious]
    lines += [texts.UI_WARNING_NOTE.format(warning=md_escape(w)) for w in result.warnings]
    return "\n\n".join(lines)


def upload_files(
    documents: DocumentService, files: list[str] | None, actor: str, progress: gr.Progress | None = None
) -> str:
    """Index the widget's files; their cached copies are removed whatever the outcome."""
    if not files:
        return texts.UI_NO_FILES
    lines = []
    try:
        for i, path in enumerate(files):
            name = path.rsplit("/", 1)[-1]
            if progress is not None:
                progress(i / len(files), desc=texts.UI_PROGRESS_INDEXING)
            try:
                lines.append(_upload_line(documents.upload_path(path, name, actor)))
            except UploadError as exc:
                lines.append(texts.UI_UPLOAD_FAILED.format(name=md_escape(name), message=md_escape(exc.message)))
            except StoreError as exc:
                log.warning("page upload of %s: %s", name, exc)
                message = md_escape(public_message(exc))
                lines.append(texts.UI_UPLOAD_FAILED.format(name=md_escape(name), message=message))
    finally:
        discard_cached(files)
    return "\n\n".join(lines)


def delete_document(documents: DocumentService, doc_id: str | None) -> str:
    if not doc_id:
        return texts.UI_NO_SELECTION
    try:
        doc = documents.delete(doc_id)
    except UnknownDocument as exc:
        return texts.UI_FAILED_MARK + md_escape(exc.message)
    except StoreError as exc:
        log.warning("page delete of %s: %s", doc_id, exc)
        return texts.UI_FAILED_MARK + md_escape(public_message(exc))
    return texts.UI_DELETED.format(title=md_escape(doc.title), source=md_escape(doc.source))


def reindex_plan(documents: DocumentService) -> str:
    try:
        plan = documents.reindex_plan()
    except StoreError as exc:
        log.warning("page re-index plan: %s", exc)
        return texts.UI_FAILED_MARK + md_escape(public_message(exc))
    return texts.UI_REINDEX_PLAN.format(added=len(plan.added), updated=len(plan.updated), removed=len(plan.removed))


def reindex(documents: DocumentService) -> str:
    try:
        report = documents.reindex()
    except StoreError as exc:
        log.warning("page re-index: %s", exc)
        return texts.UI_FAILED_MARK + md_escape(public_message(exc))
    lines = [texts.UI_REINDEXED.format(
        added=len(report.added), updated=len(report.updated), unchanged=len(report.unchanged),
        removed=len(report.removed), skipped=len(report.skipped), seconds=report.seconds)]
    lines += [
        "- " + md_escape(texts.UI_REINDEX_SKIPPED.format(name=name.rsplit("/", 1)[-1], reason=reason))
        for name, reason in report.skipped
    ]
    lines += [
        "- " + texts.UI_SUSPICIOUS_NOTE.format(n=n, phrase=md_escape(phrase)) + f"({md_escape(name)})"
        for name, n, phrase in report.suspicious
    ]
    return "\n".join(lines)


def embedding_progress(documents: DocumentService) -> tuple[str, Any]:
    """The progress line, and the timer (kept running only while something is being embedded)."""
    p = documents.embedding
    if p.running:
        return texts.UI_EMBEDDING_PROGRESS.format(done=p.done, total=p.total), gr.Timer(active=True)
    return "", gr.Timer(active=False)


# --- the page ----------------------------------------------------------------------------------
def build_blocks(services: Services) -> gr.Blocks:
    answers = services.answers
    # delete_cache: the widget's copies never submitted are removed too (submitted ones at once, by upload_files)
    with gr.Blocks(title=texts.UI_TITLE, analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(f"# {texts.UI_TITLE}\n{texts.UI_SUBTITLE}", elem_id="page-header")
        status = gr.Markdown(status_markdown(services.health), elem_id="index-status")

        with gr.Tabs():
            with gr.Tab(texts.UI_TAB_CHAT, id="chat-tab"):
                chatbot = gr.Chatbot(
                    show_label=False,
                    elem_id="chat",
                    height=560,
                    placeholder=texts.UI_CHAT_PLACEHOLDER,
                    layout="bubble",
                    buttons=["copy"],
                    latex_delimiters=[],
                    feedback_options=None,
                    group_consecutive_messages=False,
                )
                conv = gr.State([])
                with gr.Row(equal_height=True):
                    box = gr.Textbox(placeholder=texts.UI_INPUT_PLACEHOLDER, show_label=False, scale=8, autofocus=True,
                                     elem_id="question-box", container=False)
                    send = gr.Button(texts.UI_SEND, variant="primary", scale=1, elem_id="send-button")
                    clear = gr.Button(texts.UI_CLEAR, variant="secondary", scale=1, elem_id="clear-button")
                gr.Markdown(f"{texts.UI_EXAMPLES_TITLE} {texts.UI_FOLLOWUP_HINT}", elem_id="examples-title")
                with gr.Row(elem_id="examples"):
                    example_buttons = [
                        (gr.Button(label, size="sm", variant="secondary"), question)
                        for label, question in texts.UI_EXAMPLES
                    ]

            with gr.Tab(texts.UI_TAB_CHECK, id="check-tab"):
                gr.Markdown(texts.UI_CHECK_INTRO)
                with gr.Row(equal_height=True):
                    claim_box = gr.Textbox(placeholder=texts.UI_CHECK_PLACEHOLDER, show_label=False, scale=8,
                                           elem_id="claim-box", container=False)
                    check_button = gr.Button(texts.UI_CHECK_BUTTON, variant="primary", scale=1, elem_id="check-button")
                gr.Markdown(texts.UI_CHECK_EXAMPLES_TITLE, elem_id="check-examples-title")
                with gr.Row(elem_id="check-examples"):
                    check_examples = [
                        (gr.Button(claim, size="sm", variant="secondary"), claim) for claim in texts.UI_CHECK_EXAMPLES
                    ]
                check_result = gr.Markdown(texts.UI_CHECK_PLACEHOLDER_RESULT, elem_id="check-result")

            with gr.Tab(texts.UI_TAB_DOCS, id="docs-tab") as docs_tab:
                _documents_tab(services, docs_tab, status, demo)

        # --- chat events ---
        def chat(message: str, chat_history: list, conversation: list):
            yield from respond(answers, message, chat_history, conversation)

        chat_io: dict[str, Any] = dict(inputs=[box, chatbot, conv], outputs=[box, chatbot, conv])
        box.submit(chat, **chat_io, api_name="chat", api_description=texts.API_CHAT_DESCRIPTION)
        send.click(chat, **chat_io, api_visibility="private")
        clear.click(lambda: ("", [], []), None, [box, chatbot, conv], queue=False, api_visibility="private")
        chatbot.clear(lambda: [], None, conv, queue=False, api_visibility="private")  # the chat's own trash button

        def example_handler(question: str):
            def run(chat_history: list, conversation: list):
                yield from respond(answers, question, chat_history, conversation)
            return run

        for button, question in example_buttons:
            button.click(example_handler(question), [chatbot, conv], [box, chatbot, conv], api_visibility="private")

        # --- fact-check events ---
        def check(claim: str) -> str:
            return check_claim(answers, claim)

        check_button.click(check, [claim_box], [check_result], api_name="check",
                           api_description=texts.API_CHECK_DESCRIPTION)
        claim_box.submit(check, [claim_box], [check_result], api_visibility="private")
        for button, claim in check_examples:
            button.click(
                lambda c=claim: (c, check_claim(answers, c)), None, [claim_box, check_result], api_visibility="private"
            )

    return demo


def _documents_tab(services: Services, docs_tab: gr.Tab, status: gr.Markdown, demo: gr.Blocks) -> None:
    """The 文档 tab's components and events (inside the tab's context)."""
    settings, documents = services.settings, services.documents
    token_set = bool(settings.web.admin_token)
    docs_now = _documents(documents)
    gr.Markdown(
        texts.UI_DOCS_INTRO.format(suffixes=supported_list(), limit=human_size(settings.ingest.max_upload_bytes))
    )
    admin = gr.State(False)
    if token_set:
        gr.Markdown(texts.UI_WRITE_LOGIN_NOTICE, elem_id="write-notice")
        with gr.Row(equal_height=True):
            token_box = gr.Textbox(
                label=texts.UI_LOGIN_LABEL, type="password", scale=4, elem_id="login-token"
            )
            login_button = gr.Button(texts.UI_LOGIN_BUTTON, scale=1, elem_id="login-button")
        login_message = gr.Markdown(elem_id="login-message")
    else:
        gr.Markdown(texts.UI_WRITE_LOOPBACK_NOTICE, elem_id="write-notice")
    table = gr.Dataframe(
        value=table_rows(docs_now),
        headers=list(texts.UI_DOCS_HEADERS),
        datatype="str",
        interactive=False,
        wrap=True,
        column_widths=["30%", "18%", "7%", "12%", "15%", "6%", "12%"],
        elem_id="documents-table",
        type="array",
    )
    with gr.Row():
        with gr.Column(scale=3):
            # served to those who may write: after the login, or (no token) to this machine's pages
            files = gr.File(label=texts.UI_UPLOAD_LABEL, file_count="multiple", visible=not token_set,
                            file_types=sorted(SUPPORTED_SUFFIXES), elem_id="upload-files")
        with gr.Column(scale=2):
            upload = gr.Button(texts.UI_UPLOAD_BUTTON, variant="primary", elem_id="upload-button")
            choose = gr.Dropdown(
                choices=_choices(docs_now), value=None, label=texts.UI_DELETE_LABEL, elem_id="delete-choice"
            )
            delete = gr.Button(texts.UI_DELETE_BUTTON, variant="stop", elem_id="delete-button")
    with gr.Row():
        reindex_button = gr.Button(texts.UI_REINDEX_BUTTON, elem_id="reindex-button")
        confirm_button = gr.Button(
            texts.UI_REINDEX_CONFIRM_BUTTON, variant="stop", visible=False, elem_id="reindex-confirm-button"
        )
        refresh = gr.Button(texts.UI_REFRESH_BUTTON, elem_id="refresh-button")
    gr.Markdown(texts.UI_REINDEX_HELP)
    docs_message = gr.Markdown(elem_id="documents-message")
    progress_line = gr.Markdown(elem_id="embedding-progress")
    timer = gr.Timer(PROGRESS_SECONDS, active=False)

    # --- document events ---
    doc_outputs = [docs_message, status, table, choose]
    busy = [progress_line, timer]
    listing = [status, table, choose]

    def writer(admin_state: bool, request: gr.Request | None) -> tuple[str | None, str]:
        """(who writes, "") or (None, why the page may not write)."""
        try:
            return page_actor(settings, admin_state, request), ""
        except AccessDenied as exc:
            return None, exc.message

    def on_upload(
        paths: list[str] | None,
        admin_state: bool,
        request: gr.Request,
        # Gradio hands its progress tracker over through this default
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ):
        actor, refusal = writer(admin_state, request)
        if actor:
            message = upload_files(documents, paths, actor, progress)
        else:
            discard_cached(paths)
            message = refusal
        return (message, *refreshed(services, admin_state), None, *embedding_progress(documents))

    def on_delete(doc_id: str | None, admin_state: bool, request: gr.Request):
        actor, refusal = writer(admin_state, request)
        return (
            delete_document(documents, doc_id) if actor else refusal,
            *refreshed(services, admin_state),
            *embedding_progress(documents),
        )

    def on_reindex_plan(admin_state: bool, request: gr.Request):
        actor, refusal = writer(admin_state, request)
        return (reindex_plan(documents), gr.Button(visible=True)) if actor else (refusal, gr.Button(visible=False))

    def on_reindex(admin_state: bool, request: gr.Request):
        actor, refusal = writer(admin_state, request)
        return (
            reindex(documents) if actor else refusal,
            *refreshed(services, admin_state),
            gr.Button(visible=False),
            *embedding_progress(documents),
        )

    def on_show(admin_state: bool, request: gr.Request):
        """The listing (who added what: a logged-in admin only) and the upload widget (those who may write)."""
        return (*refreshed(services, admin_state), gr.File(visible=may_write(settings, admin_state, request)))

    write: dict[str, Any] = dict(concurrency_limit=1, concurrency_id=WRITE_QUEUE, show_progress_on=[table])
    upload.click(on_upload, [files, admin], doc_outputs + [files] + busy, api_visibility="private", **write)
    delete.click(on_delete, [choose, admin], doc_outputs + busy, api_visibility="private", **write)
    reindex_button.click(
        on_reindex_plan, [admin], [docs_message, confirm_button], api_visibility="private", **write
    )
    confirm_button.click(
        on_reindex, [admin], doc_outputs + [confirm_button] + busy, api_visibility="private", **write
    )
    timer.tick(lambda: embedding_progress(documents), None, busy, api_visibility="private", queue=False)
    if token_set:
        def on_login(token: str | None):
            ok, message = login(settings, token)
            return (ok, message, *refreshed(services, ok), gr.File(visible=ok))

        for trigger in (login_button.click, token_box.submit):
            trigger(on_login, [token_box], [admin, login_message, *listing, files], js=LOGIN_JS,
                    api_visibility="private")
    refresh.click(lambda a: refreshed(services, a), [admin], listing, api_visibility="private", queue=False)
    docs_tab.select(on_show, [admin], [*listing, files], api_visibility="private", queue=False)
    demo.load(on_show, [admin], [*listing, files], api_visibility="private", queue=False)
