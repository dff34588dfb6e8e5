"""``my-llm``: import, question, summarise, read and maintain the message memory.

Errors a user can fix print one line and exit 2 (the traceback only with --verbose).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from my_llm import config
from my_llm.errors import MyLLMError
from my_llm.user_input import OneLineParser, add_common_flags

DEFAULT_NAMESPACE = "default"
EXIT_USAGE = 2


def _namespace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        "-N",
        default=config.text("namespace") or DEFAULT_NAMESPACE,
        help="memory namespace (default: $MY_LLM_NAMESPACE, the config's namespace, or %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="my-llm",
        description="The message memory: every LLM message in JSONL, Pub/Sub and Chroma.",
    )
    add_common_flags(parser, "debug output, tracebacks")
    parser.add_argument(
        "--history-dir", help="where logs live (default: $MESSAGE_HISTORY or the user data dir)"
    )
    parser.add_argument("--chroma-url", help="use this Chroma server (default: $CHROMA_URL)")
    parser.add_argument(
        "--embeddings",
        choices=["default", "openai"],
        help="embeddings for the index (default: $MY_LLM_EMBEDDINGS or the offline model)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import-chatgpt", help="import ChatGPT's conversations.json")
    p.add_argument("file", help="conversations.json (or the unzipped export folder)")
    _namespace_arg(p)
    p.add_argument("--no-index", action="store_true", help="log only; index later")

    p = sub.add_parser("ask", help="answer a question from past messages")
    p.add_argument("question")
    _namespace_arg(p)
    p.add_argument("--model", help="model spec: local, local:/path.gguf, openai:<model>")
    p.add_argument("--base-url", help="an OpenAI-compatible server (default: $MY_LLM_BASE_URL, e.g. my-llm serve)")
    p.add_argument("-k", type=int, default=6, help="past messages to retrieve (default 6)")
    p.add_argument("--json", action="store_true", help='print {"answer": ..., "sources": [...]} as JSON')

    p = sub.add_parser("summarise", aliases=["summarize"], help="summarise recent messages")
    _namespace_arg(p)
    p.add_argument("-n", type=int, default=None, help="last N messages (default: all)")
    p.add_argument("--json", action="store_true", help='print {"namespace": ..., "summary": ...} as JSON')
    p.add_argument("--model", help="model spec: local, local:/path.gguf, openai:<model>")
    p.add_argument("--base-url", help="an OpenAI-compatible server (default: $MY_LLM_BASE_URL, e.g. my-llm serve)")

    p = sub.add_parser("log", help="print stored messages")
    _namespace_arg(p)
    p.add_argument("--search", help="only messages containing this text (case-insensitive)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, default=None, help="only the last N matches")

    sub.add_parser("flush", help="send every logged message Pub/Sub has not acknowledged yet")

    p = sub.add_parser("paths", help="where everything lives: config files, data, caches, and which setting says so")
    p.add_argument("--json", action="store_true", help="one JSON object")

    p = sub.add_parser("reindex", help="rebuild the Chroma index from the JSONL log")
    p.add_argument(
        "--namespace", "-N", default=None, help="one namespace (default: every namespace)"
    )
    from my_llm.models.serve import add_parser as add_serve_parser

    add_serve_parser(sub)
    return parser


def _history(args: argparse.Namespace, namespace: str, publish: bool | None = None) -> Any:
    """The namespace's memory; its Chroma URL is checked here, before any model is called."""
    from my_llm.memory.chroma_client import chroma_server

    chroma_server(args.chroma_url, "--chroma-url" if args.chroma_url is not None else None)
    from my_llm.memory.history import PubSubChatMessageHistory

    return PubSubChatMessageHistory(
        namespace,
        history_dir=args.history_dir,
        chroma_url=args.chroma_url,
        embeddings=args.embeddings,
        publish=publish,
    )


def _root(args: argparse.Namespace) -> Path:
    from my_llm.memory.message_log import history_root

    return Path(args.history_dir).expanduser() if args.history_dir else history_root()


def _check_positive(value: int | None, name: str) -> None:
    if value is not None and value < 1:
        raise MyLLMError(f"{name} must be at least 1, got {value}")


def cmd_import(args: argparse.Namespace) -> int:
    from my_llm.memory.chatgpt_export import parse_export, store_conversations
    from my_llm.memory.message_log import validate_namespace

    validate_namespace(args.namespace)
    errors: list[str] = []  # a bad file stops here, before the history is set up or written
    conversations = parse_export(args.file, errors, progress=not args.quiet)
    memory = _history(args, args.namespace)
    report = store_conversations(memory, conversations, errors)  # locked: each message once
    print(f"{args.namespace}: {report}")
    if not args.no_index and report.added:
        indexed = memory.index(progress=not args.quiet)
        print(f"indexed {indexed} messages")
    memory.flush()
    return 1 if report.errors and not report.conversations else 0


def cmd_ask(args: argparse.Namespace) -> int:
    _check_positive(args.k, "-k")
    from my_llm.models import get_chat_model

    memory = _history(args, args.namespace)
    memory.chat = get_chat_model(args.model, base_url=args.base_url, verbose=args.verbose)
    pending = memory.index(progress=not args.quiet)
    if pending:
        print(f"indexed {pending} new messages", file=sys.stderr)
    found = memory.question_memory(args.question, k=args.k)
    if args.json:
        sources = [{"message_id": h.message_id, "role": h.role, "ts": h.ts, "distance": h.distance,
                    "title": h.metadata.get("title"), "text": h.text} for h in found.sources]
        print(json.dumps({"answer": found.answer, "sources": sources}, ensure_ascii=False))
    else:
        print(found)
    memory.flush()
    return 0


def cmd_summarise(args: argparse.Namespace) -> int:
    _check_positive(args.n, "-n")
    from my_llm.models import get_chat_model

    memory = _history(args, args.namespace)
    summary = memory.apply_summarise_to_memory(
        args.n, chat=get_chat_model(args.model, base_url=args.base_url, verbose=args.verbose)
    )
    print(json.dumps({"namespace": args.namespace, "summary": summary}, ensure_ascii=False) if args.json else summary)
    memory.flush()
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    _check_positive(args.limit, "--limit")
    memory = _history(args, args.namespace, publish=False)
    if not memory.log.path.exists():
        raise MyLLMError(f"no messages in namespace {args.namespace!r} ({memory.log.path})")
    from my_llm.memory.message_log import encode, record_text

    records = memory.search_log(args.search)
    if args.limit:
        records = records[-args.limit :]
    for record in records:
        if args.json:
            print(encode(record))
            continue
        task = (record.get("metadata") or {}).get("task")
        text = " ".join(record_text(record).split())
        if len(text) > 200 and not args.verbose:
            text = text[:199] + "…"
        print(f"{record['ts']}  {record['role']:<8} {('[' + task + '] ') if task else ''}{text}")
    return 0


def cmd_flush(args: argparse.Namespace) -> int:
    """Send what Pub/Sub has not acknowledged; one stderr line and exit 2 if it cannot."""
    from my_llm.memory import pubsub

    report = pubsub.flush_all(_root(args))
    if report.error:
        print(f"my-llm: error: {report}", file=sys.stderr)
        return EXIT_USAGE
    print(report)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from my_llm.memory.message_log import list_namespaces, validate_namespace

    if args.namespace:
        namespaces = [validate_namespace(args.namespace)]
    else:
        namespaces = list_namespaces(_root(args))
        if not namespaces:
            raise MyLLMError(f"no message logs under {_root(args)}")
    for namespace in namespaces:
        memory = _history(args, namespace, publish=False)
        if not memory.log.path.exists():
            raise MyLLMError(f"no messages in namespace {namespace!r} ({memory.log.path})")
        count = memory.reindex(progress=not args.quiet)
        print(f"{namespace}: indexed {count} messages")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from my_llm.models.serve import run

    return run(args)


def cmd_paths(args: argparse.Namespace) -> int:
    """Every place the tools read or write, and the setting that chose it."""
    from my_llm.paths import describe

    rows = describe(args.history_dir)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(r["what"]) for r in rows)
    for row in rows:
        print(f"{row['what']:<{width}}  {row['path']}  ({row['source']})")
    return 0


COMMANDS = {
    "import-chatgpt": cmd_import,
    "ask": cmd_ask,
    "summarise": cmd_summarise,
    "summarize": cmd_summarise,
    "log": cmd_log,
    "flush": cmd_flush,
    "paths": cmd_paths,
    "reindex": cmd_reindex,
    "serve": cmd_serve,
}


def _one_line(error: object) -> str:
    """An error is one line on stderr, whatever the message it wraps."""
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)  # defaults come from the config files too
    except MyLLMError as exc:
        print(f"my-llm: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="my-llm: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # keep third-party chatter out of the user's way
        for noisy in ("httpx", "chromadb", "google", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args)
    except MyLLMError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"my-llm: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("my-llm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from my_llm.models.factory import explain_error

        reason = explain_error(exc)  # model call failures the user can fix
        if reason is None:
            raise
        if args.verbose:
            traceback.print_exc()
        print(f"my-llm: error: {_one_line(reason)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
