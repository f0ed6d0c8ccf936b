"""`python -m assistant {ask,chat,batch,eval}`: the assistant for people and for scripts."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from assistant import texts
from assistant.batch import answer_line
from assistant.evaluation import evaluate_assistant, load_gold, markdown_report, read_corpus
from assistant.response import AssistantResponse
from assistant.service import Assistant
from assistant.validation import InvalidRequest, clean_question
from settings import Settings
from vectorstore.errors import StoreError

RELATED_PREVIEW_CHARS = 120  # how much of a related passage the terminal shows


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index directory (default: ERQI_INDEX_DIR or var/index)")
    parser = argparse.ArgumentParser(prog="python -m assistant", description=texts.CLI_DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", parents=[common], help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the response object as JSON")
    check = sub.add_parser("check", parents=[common], help="fact-check a claim against the documents")
    check.add_argument("claim")
    check.add_argument("--json", action="store_true", help="print the response object as JSON")
    sub.add_parser("chat", parents=[common], help="interactive chat in the terminal")
    sub.add_parser("batch", parents=[common], help="JSONL questions on stdin → JSONL answers on stdout")
    ev = sub.add_parser("eval", parents=[common], help="evaluate on a gold JSONL file")
    ev.add_argument("gold", type=Path)
    ev.add_argument("--out", type=Path, default=Path("var/eval"), help="folder for report.md and report.json")
    return parser


def format_response(r: AssistantResponse) -> str:
    lines = [r.answer]
    if r.sentences is not None and r.notice:  # LLM mode: say what was dropped or why we fell back
        lines.append(f"({r.notice})")
    if r.standalone_question:
        lines.insert(0, texts.UNDERSTOOD_AS.format(question=r.standalone_question))
    if r.citations:
        lines += ["", f"{texts.SOURCES_TITLE}:"]
        lines += [
            f"[{c.ref}] {c.title} › {c.section or texts.NO_SECTION} ({c.source} {c.start}-{c.end})\n    {c.text}"
            for c in r.citations
        ]
    if r.related:
        lines += ["", texts.RELATED_INTRO]
        lines += [f"- {x.title} › {x.section or texts.NO_SECTION}: {x.text[:RELATED_PREVIEW_CHARS]}" for x in r.related]
    return "\n".join(lines)


def _dump(r: AssistantResponse) -> str:
    return json.dumps(r.model_dump(), ensure_ascii=False)


def cmd_ask(assistant: Assistant, args: argparse.Namespace) -> int:
    response = assistant.ask(args.question)
    print(_dump(response) if args.json else format_response(response))
    return 0


def cmd_check(assistant: Assistant, args: argparse.Namespace) -> int:
    response = assistant.check(args.claim)
    print(_dump(response) if args.json else format_response(response))
    return 0


def cmd_chat(assistant: Assistant, _: argparse.Namespace) -> int:
    history: list[dict[str, str]] = []
    print(texts.CHAT_BANNER)
    while True:
        try:
            question = input(texts.CHAT_PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question in ("/quit", "/exit", "quit", "exit"):
            return 0
        if question == "/reset":
            history = []
            continue
        if not question:
            continue
        try:
            response = assistant.ask(question, history)
        except InvalidRequest as exc:
            print(texts.CHAT_ERROR.format(message=exc))
            continue
        print(format_response(response))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": response.answer}]


def cmd_batch(
    assistant: Assistant, _: argparse.Namespace, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    for line in stdin:
        if line.strip():
            stdout.write(_dump(answer_line(assistant, line)) + "\n")
            stdout.flush()
    return 0


def cmd_eval(assistant: Assistant, args: argparse.Namespace) -> int:
    if not args.gold.exists():
        print(texts.CLI_GOLD_MISSING.format(path=args.gold), file=sys.stderr)
        return 2
    gold = load_gold(args.gold)
    corpus = read_corpus(args.corpus_dir)
    assistant.warm_up()
    result = evaluate_assistant(assistant, gold, corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown_report(result, texts.EVAL_TITLE.format(gold=args.gold))
    (args.out / "report.md").write_text(report, encoding="utf-8")
    (args.out / "report.json").write_text(
        json.dumps({"metrics": result.metrics, "rows": result.rows}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(report)
    return 0


COMMANDS = {"ask": cmd_ask, "check": cmd_check, "chat": cmd_chat, "batch": cmd_batch, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    try:
        if args.command in ("ask", "check"):  # bad input fails fast, before the model loads
            if args.command == "ask":
                clean_question(args.question, settings.answering.max_question_chars)
            else:
                clean_question(args.claim, settings.answering.max_question_chars, texts.ERR_EMPTY_CLAIM)
        assistant = Assistant(settings)
        args.corpus_dir = settings.ingest.corpus_dir  # eval reads the reports its evidence strings come from
        return COMMANDS[args.command](assistant, args)
    except InvalidRequest as exc:
        print(texts.CLI_ERROR.format(message=exc), file=sys.stderr)
        return 2
    except StoreError as exc:
        print(texts.CLI_ERROR.format(message=exc), file=sys.stderr)
        return 3
    except BrokenPipeError:  # `… | head` closed the pipe: nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
