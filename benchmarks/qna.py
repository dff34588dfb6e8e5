#!/usr/bin/env python
"""Benchmark read-repo on a real code tree: the installed `requests` package, copied to a temp dir.

Reports indexing speed (files and chunks per second), a no-change reindex as a fraction of the
full index time, retrieval recall@5 on a fixed list of questions whose answers live in known
files, and seconds per answer with the real chat model. Targets: no-change reindex < 5% of the
full index, recall@5 >= 0.85; the exit code is 1 when a target is missed.

    python benchmarks/qna.py                  # everything, 3 answers with the default model
    python benchmarks/qna.py --answers 0      # indexing and retrieval only (no chat model)
    python benchmarks/qna.py --json out.json  # also save the figures
    python benchmarks/qna.py --first-answer --model local:1.5b   # what a newcomer waits for
    python benchmarks/qna.py --first-answer --model local:1.5b --summaries 2 --later 4   # shorter

``--context-chars N`` is read-repo's budget of characters shown per answer (0: all that ``-k``
retrieves); the answers report their prompt tokens and the seconds to their first words.

``--first-answer`` drives ``qna.session.RepoSession`` as ``read-repo DIR "question"`` does, on a
fresh copy and a fresh index: the first answer's seconds by phase (walk, index, model load,
retrieval, answer), then the summaries written after it (seconds and tokens per file), then
``--later`` answers as later runs get them (a no-change reindex, retrieval, answer; the model
stays loaded, so a separate later command adds ``model_load`` and Python's start again). The
answers are streamed as read-repo streams them on a terminal: ``first_token_s`` is the seconds from
the request to the first words, ``first_words_s`` from the start (``later_*``: means over the later
answers). It saves benchmarks/results/qna_first_answer_<tier>_<commit>.json unless ``--json`` says where.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qna.answer import CONTEXT_CHARS, FIRST_TOKEN, answer_question, fit_context, retrieve  # noqa: E402
from qna.index import get_client, index_directory, open_collection  # noqa: E402
from qna.session import RepoSession  # noqa: E402
from qna.summaries import is_code_file  # noqa: E402
from qna.timings import PhaseTimes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"

# (question, the file that holds the answer). Worded as a user would ask, not as the code names it.
QUESTIONS: list[tuple[str, str]] = [
    ("How is HTTP Digest authentication implemented, with the nonce and qop?", "auth.py"),
    ("How is the Authorization header for basic auth built from username and password?", "auth.py"),
    ("What does raise_for_status do for 4xx and 5xx responses?", "models.py"),
    ("How does the response body get decoded as JSON?", "models.py"),
    ("How are redirects followed and the Location header resolved?", "sessions.py"),
    ("How does a Session merge its settings with per-request settings?", "sessions.py"),
    ("How are connection pool size and max retries configured in the transport adapter?", "adapters.py"),
    ("How are TLS certificates verified and client certificates loaded when sending?", "adapters.py"),
    ("Which dictionary keeps header names case-insensitive?", "structures.py"),
    ("Where is the default CA certificate bundle found?", "certs.py"),
    ("How is a cookie jar created from a plain dict of cookies?", "cookies.py"),
    ("Which exception is raised when a request times out while connecting?", "exceptions.py"),
    ("How are event hooks such as response hooks dispatched?", "hooks.py"),
    ("How can I look up an HTTP status code by name, like codes.ok or codes.not_found?", "status_codes.py"),
    ("What does the top-level requests.get function do?", "api.py"),
    ("How are credentials read from the user's .netrc file?", "utils.py"),
    ("How is the character encoding taken from the Content-Type header?", "utils.py"),
    ("When should proxies be bypassed according to the no_proxy environment variable?", "utils.py"),
    ("How does requests collect system and version information for bug reports?", "help.py"),
    ("What is the version number of this package?", "__version__.py"),
    ("How is a URL with query parameters prepared and the host IDNA-encoded?", "models.py"),
    ("How are multipart/form-data file uploads encoded?", "models.py"),
    ("How are the installed urllib3 and chardet versions checked for compatibility?", "__init__.py"),
    ("How is a string converted to the native string type, and how to check if it is ASCII?", "_internal_utils.py"),
    ("How is the response content streamed in chunks?", "models.py"),
]  # fmt: skip

# What a right answer names, per question (same order as QUESTIONS): identifiers and terms from
# the answer file. An answer's score is the share of its question's terms it mentions; a weak
# model answers in generalities and names few of them.
KEY_TERMS: list[tuple[str, ...]] = [
    ("HTTPDigestAuth", "nonce", "qop"), ("_basic_auth_str", "base64"), ("HTTPError", "status_code"),
    ("json", "encoding"), ("resolve_redirects", "location"), ("merge_setting",),
    ("HTTPAdapter", "pool_connections", "max_retries"), ("cert_verify", "verify", "cert"),
    ("CaseInsensitiveDict",), ("certifi", "where"), ("cookiejar_from_dict", "RequestsCookieJar"),
    ("ConnectTimeout",), ("dispatch_hook", "hooks"), ("codes", "LookupDict"), ("request", "Session"),
    ("get_netrc_auth", "netrc"), ("get_encoding_from_headers", "charset"), ("should_bypass_proxies", "no_proxy"),
    ("info", "platform"), ("__version__",), ("prepare_url", "idna"), ("_encode_files", "multipart"),
    ("check_compatibility", "urllib3"), ("to_native_string", "unicode_is_ascii"), ("iter_content", "chunk_size"),
]  # fmt: skip
assert len(KEY_TERMS) == len(QUESTIONS)


def term_score(answer: str, terms: tuple[str, ...]) -> float:
    """The share of the question's key terms the answer names (case-insensitive)."""
    text = answer.lower()
    return sum(t.lower() in text for t in terms) / len(terms)


TARGET_NO_CHANGE = 0.05
TARGET_RECALL = 0.85


def copy_tree(dest: Path, package: str = "requests") -> Path:
    """Copy an installed pure-Python package's source; nobody here wrote it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise SystemExit(f"package {package!r} is not installed")
    src = Path(spec.origin).parent
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def commit() -> str:
    """The commit the figures belong to, with + when the work tree differs (as the others say)."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+" if dirty else "")


def recall_at(
    collection: Any, k: int, summaries: int = 0, context_chars: int | None = None
) -> tuple[float, float, list[dict[str, Any]]]:
    """recall@k (answer file among the files shown: of the top k chunks and ``summaries``
    summaries, those that fit ``context_chars``) and the mean reciprocal rank. With summaries=0
    it is what a first answer on a fresh directory is shown, since no summary exists yet."""
    hits, rr, misses = 0, 0.0, []
    for question, expected in QUESTIONS:
        retrieved = retrieve(collection, question, k=k, summaries=summaries)
        code, summary_hits = fit_context(*retrieved, context_chars)
        paths = [h.path for h in [*code, *summary_hits]]
        if expected in paths:
            hits += 1
            rr += 1.0 / (paths.index(expected) + 1)
        else:
            misses.append({"question": question, "expected": expected, "got": paths})
    return hits / len(QUESTIONS), rr / len(QUESTIONS), misses


def _index_figures(root: Path, client: Any, embedding: Any) -> dict[str, Any]:
    """A full index, then a no-change reindex (which must embed nothing)."""
    full = index_directory(root, client=client, embedding_function=embedding)
    again = index_directory(root, client=client, embedding_function=embedding)
    assert again.chunks_added == 0, "a no-change reindex embedded something"
    return {
        "files": full.files_seen,
        "chunks": full.chunks_total,
        "full_index_s": round(full.seconds, 2),
        "files_per_s": round(full.files_seen / full.seconds, 1),
        "chunks_per_s": round(full.chunks_total / full.seconds, 1),
        "no_change_reindex_s": round(again.seconds, 3),
        "no_change_fraction": round(again.seconds / full.seconds, 4),
    }


def _answer_figures(collection: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per answer (streamed, as read-repo does on a terminal: the first words too), prompt
    tokens, and how much of what a right answer names each answer names."""
    from langchain_core.callbacks import get_usage_metadata_callback

    from my_llm.models import describe_model, get_chat_model

    chat = get_chat_model(args.model, max_tokens=256)
    chat.invoke("Say OK.")  # load the model outside the timed answers
    timings, samples = [], []
    for (question, expected), terms in list(zip(QUESTIONS, KEY_TERMS, strict=True))[: args.answers]:
        started = time.perf_counter()
        with get_usage_metadata_callback() as usage:
            result = answer_question(collection, question, chat, k=args.k, repo=args.package,
                                     on_text=_unread, context_chars=args.context_chars)
        timings.append(time.perf_counter() - started)
        samples.append({
            **_sample(result, question, expected, terms),
            "names_file": expected in result.answer,
            "words": len(result.answer.split()),
            "prompt_tokens": _usage(usage)[0],
        })
    return {
        "model": describe_model(chat),
        "context_chars": args.context_chars,
        "seconds_per_answer": round(sum(timings) / len(timings), 2),
        "first_token_s": _mean(samples, "first_token_s"),
        "prompt_tokens_per_answer": _mean(samples, "prompt_tokens"),
        "answer_file_shown": sum(s["answer_file_shown"] for s in samples),
        "key_term_score": round(sum(s["key_terms"] for s in samples) / len(samples), 3),
        "names_answer_file": sum(s["names_file"] for s in samples),
        "answers": samples,
    }


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    from my_llm.memory.embeddings import default_embedding_function

    embedding = default_embedding_function()
    figures: dict[str, Any] = {"package": args.package, "questions": len(QUESTIONS), "k": args.k}
    with tempfile.TemporaryDirectory(prefix="qna-bench-") as tmp:
        root = copy_tree(Path(tmp) / args.package, args.package)
        client = get_client(Path(tmp) / "db")
        started = time.perf_counter()
        embedding(["warm up"])  # load the ONNX model outside the timed index
        figures["embedding_load_s"] = round(time.perf_counter() - started, 2)
        figures.update(_index_figures(root, client, embedding))
        collection = open_collection(root, client=client, embedding_function=embedding)
        started = time.perf_counter()
        recall, mrr, misses = recall_at(collection, args.k, context_chars=args.context_chars)
        per_question = 1000 * (time.perf_counter() - started) / len(QUESTIONS)
        figures.update(recall_at_k=round(recall, 3), mrr=round(mrr, 3),
                       retrieval_ms_per_question=round(per_question, 1), misses=misses)
        if args.answers > 0:
            figures.update(_answer_figures(collection, args))
    return figures


def _sample(result: Any, question: str, expected: str, terms: tuple[str, ...]) -> dict[str, Any]:
    """One answer as saved: text, sources, key-term score, its seconds by phase."""
    return {
        "question": question,
        "answer": result.answer[:300],
        "sources": [str(s) for s in result.sources],
        "answer_file_shown": expected in {s.path for s in result.sources},
        "key_terms": round(term_score(result.answer, terms), 3),
        "seconds": {name: round(value, 3) for name, value in result.timings.items()},
        **({"first_token_s": round(result.timings[FIRST_TOKEN], 2)} if FIRST_TOKEN in result.timings else {}),
    }


def _usage(callback: Any) -> tuple[int, int]:
    """Input and output tokens a usage callback counted, over every model it saw."""
    usage = list(callback.usage_metadata.values())
    return sum(u.get("input_tokens", 0) for u in usage), sum(u.get("output_tokens", 0) for u in usage)


def _summaries_figures(session: RepoSession, limit: int | None) -> dict[str, Any]:
    """The summaries written after the first answer, as the CLI writes them: seconds and tokens."""
    from langchain_core.callbacks import get_usage_metadata_callback

    with get_usage_metadata_callback() as usage:
        stats = session.summarise(limit=limit)
    written = max(1, stats.written)
    tokens_in, tokens_out = _usage(usage)
    seconds = session.times.seconds.get("summaries", 0.0)
    return {
        "summaries_written": stats.written,
        "summaries_s": round(seconds, 1),
        "seconds_per_summary": round(seconds / written, 1),
        "summary_tokens_in_per_file": round(tokens_in / written),
        "summary_tokens_out_per_file": round(tokens_out / written),
    }


def _later_answers(root: Path, session: RepoSession, client: Any, embedding: Any,
                   args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each later question as a later `read-repo DIR "..."` gets it: a fresh session (walk, a
    no-change reindex, summaries indexed), then retrieval and the answer; the model stays loaded."""
    samples = []
    for (question, expected), terms in list(zip(QUESTIONS, KEY_TERMS, strict=True))[1 : 1 + args.later]:
        times = PhaseTimes()
        later = RepoSession.open(root, session.chat, client=client, embedding_function=embedding,
                                 times=times)
        later.k, later.context_chars, later.model_loaded = args.k, args.context_chars, True
        result = later.answer(question, on_text=_unread)
        samples.append({**_sample(result, question, expected, terms),
                        "total_s": round(times.total(), 2), "phases": times.to_json(),
                        **_first_words(times, result)})
    return samples


def _unread(_text: str) -> None:
    """Where the benchmark's streamed answers go: it times them as read-repo prints them."""


def _first_words(times: PhaseTimes, result: Any) -> dict[str, float]:
    """The first token (request to first words) and the first words' seconds from the start."""
    token = result.timings.get(FIRST_TOKEN)
    if token is None:  # a model that does not stream: its words come all at once, at the end
        return {}
    before = times.total() - result.timings.get("answer", 0.0)
    return {"first_token_s": round(token, 2), "first_words_s": round(before + token, 2)}


def _mean(samples: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in samples if key in s]
    return round(sum(values) / len(values), 2) if values else None


def _first_answer_figures(args: argparse.Namespace) -> dict[str, Any]:
    """A newcomer's first answer on a fresh directory, the summaries after it, later answers."""
    from my_llm.memory.embeddings import default_embedding_function
    from qna.read_repo import _describe, make_chat_model

    times = PhaseTimes()
    with tempfile.TemporaryDirectory(prefix="qna-first-") as tmp:
        root = copy_tree(Path(tmp) / args.package, args.package)
        with times.phase("startup"):  # what read-repo does before walking (Python's start aside)
            chat = make_chat_model(argparse.Namespace(model=args.model, base_url=None, verbose=False))
            client, embedding = get_client(Path(tmp) / "db"), default_embedding_function()
        figures: dict[str, Any] = {"commit": commit(), "model": _describe(chat),
                                   "package": args.package, "k": args.k}
        session = RepoSession.open(root, chat, client=client, embedding_function=embedding,
                                   times=times)
        session.k, session.context_chars = args.k, args.context_chars
        question, expected = QUESTIONS[0]
        first = session.answer(question, on_text=_unread)
        code_files = sum(is_code_file(f.path) for f in session.walked.files)
        figures.update(
            files=len(session.walked.files), code_files=code_files,
            chunks=session.index_stats.chunks_total,
            first_answer_s=round(session.times.total(), 2),
            first_answer_phases=session.times.to_json(),
            **_first_words(session.times, first),
            first_answer=_sample(first, question, expected, KEY_TERMS[0]),
        )  # fmt: skip
        recall, mrr, _ = recall_at(session.collection, args.k, context_chars=args.context_chars)
        figures.update(recall_first=round(recall, 3), mrr_first=round(mrr, 3))
        figures.update(_summaries_figures(session, args.summaries))
        later = _later_answers(root, session, client, embedding, args)
        recall, mrr, _ = recall_at(session.collection, args.k, 2, args.context_chars)
        figures.update(recall_with_summaries=round(recall, 3), mrr_with_summaries=round(mrr, 3))
    figures["later_answers"] = later
    if later:
        figures["later_answer_s"] = round(sum(s["total_s"] for s in later) / len(later), 2)
        for key in ("first_token_s", "first_words_s"):
            mean = _mean(later, key)
            if mean is not None:
                figures[f"later_{key}"] = mean
    # What the old order (every summary before the first answer) would have made it wait.
    figures["summaries_first_estimate_s"] = round(
        figures["first_answer_s"] + figures["seconds_per_summary"] * code_files, 1
    )
    return figures


def _print_first(figures: dict[str, Any], ok_recall: bool) -> None:
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in figures["first_answer_phases"].items())
    print(f"model                {figures['model']} (commit {figures['commit']})")
    print(f"tree                 {figures['package']}: {figures['files']} files "
          f"({figures['code_files']} code), {figures['chunks']} chunks")
    print(f"first answer         {figures['first_answer_s']} s on a fresh directory ({phases})")
    if "first_token_s" in figures:
        print(f"  streamed           first words after {figures['first_words_s']} s (first token "
              f"{figures['first_token_s']} s after the request)")
    print(f"recall@{figures['k']} (first)     {figures['recall_first']} with no summary, "
          f"MRR {figures['mrr_first']} [target >= {TARGET_RECALL}: {'PASS' if ok_recall else 'FAIL'}]")
    print(f"summaries after it   {figures['summaries_written']} in {figures['summaries_s']} s "
          f"({figures['seconds_per_summary']} s, {figures['summary_tokens_in_per_file']} tokens in "
          f"and {figures['summary_tokens_out_per_file']} out per file); all before the first "
          f"answer would have made it ~{figures['summaries_first_estimate_s']} s")
    if "later_answer_s" in figures:
        print(f"later answers        {figures['later_answer_s']} s each on average over "
              f"{len(figures['later_answers'])} (no-change reindex + retrieval + answer)")
    if "later_first_token_s" in figures:
        print(f"  streamed           first words after {figures['later_first_words_s']} s on average "
              f"(first token {figures['later_first_token_s']} s after the request)")
    print(f"recall@{figures['k']} (later)     {figures['recall_with_summaries']} over chunks and "
          f"2 summaries, MRR {figures['mrr_with_summaries']}")


def _first_answer_main(args: argparse.Namespace) -> int:
    figures = _first_answer_figures(args)
    ok_recall = figures["recall_first"] >= TARGET_RECALL
    _print_first(figures, ok_recall)
    tier = next((t for t in ("0.5b", "1.5b") if t in figures["model"].lower()), "model")
    out = Path(args.json_out) if args.json_out else (
        RESULTS_DIR / f"qna_first_answer_{tier}_{figures['commit'].rstrip('+')}.json")
    out.write_text(json.dumps(figures, indent=2))
    print(f"saved                {out}")
    return 0 if ok_recall else 1


def _print(figures: dict[str, Any], k: int, ok_no_change: bool, ok_recall: bool) -> None:
    print(f"tree                 {figures['package']}: {figures['files']} files, {figures['chunks']} chunks")
    print(f"full index           {figures['full_index_s']} s ({figures['files_per_s']} files/s, "
          f"{figures['chunks_per_s']} chunks/s; embedding model load {figures['embedding_load_s']} s not included)")
    print(f"no-change reindex    {figures['no_change_reindex_s']} s = {100 * figures['no_change_fraction']:.2f}% "
          f"of full [target < {100 * TARGET_NO_CHANGE:.0f}%: {'PASS' if ok_no_change else 'FAIL'}]")
    print(f"recall@{k}             {figures['recall_at_k']} on {len(QUESTIONS)} questions, MRR {figures['mrr']}, "
          f"{figures['retrieval_ms_per_question']} ms/question [target >= {TARGET_RECALL}: "
          f"{'PASS' if ok_recall else 'FAIL'}]")
    for miss in figures["misses"]:
        print(f"  miss: {miss['question']!r} wanted {miss['expected']}, got {miss['got']}")
    if "seconds_per_answer" in figures:
        print(f"answers              {figures['seconds_per_answer']} s per answer with {figures['model']}; "
              f"key terms named {figures['key_term_score']:.2f}; the answer file named in "
              f"{figures['names_answer_file']} of {len(figures['answers'])}")
        print(f"  context            {figures['prompt_tokens_per_answer']} prompt tokens per answer "
              f"(--context-chars {figures['context_chars'] or 'none'}), first words after "
              f"{figures['first_token_s']} s")
        for sample in figures["answers"]:
            print(f"  Q: {sample['question']}\n  A: {sample['answer'][:200]!r}\n  S: {sample['sources']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="requests", help="installed package to copy")
    parser.add_argument("--answers", type=int, default=3, help="questions answered by the model")
    parser.add_argument("--model", default=None, help="model spec for answers (default: auto)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--context-chars", type=int, default=CONTEXT_CHARS, metavar="N",
                        help=f"characters shown per answer, as read-repo's flag (default {CONTEXT_CHARS}; "
                        "0: all that -k retrieves, the behaviour before the budget)")
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures here")
    parser.add_argument("--first-answer", action="store_true",
                        help="time a newcomer's first answer on a fresh directory, the summaries "
                        "after it and later answers, with the real chat model")
    parser.add_argument("--later", type=int, default=11,
                        help="--first-answer: later questions answered (12 questions in all)")
    parser.add_argument("--summaries", type=int, default=None, metavar="N",
                        help="--first-answer: summarise at most N files after the first answer "
                        "(default: all, as read-repo does)")
    args = parser.parse_args(argv)
    args.context_chars = args.context_chars or None
    if args.first_answer:
        return _first_answer_main(args)
    figures = _measure(args)
    figures["commit"] = commit()
    ok_no_change = figures["no_change_fraction"] < TARGET_NO_CHANGE
    ok_recall = figures["recall_at_k"] >= TARGET_RECALL
    _print(figures, args.k, ok_no_change, ok_recall)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2))
    return 0 if ok_no_change and ok_recall else 1


if __name__ == "__main__":
    sys.exit(main())
