#!/usr/bin/env python
"""Benchmark read-repo on a real code tree: the installed `requests` package, copied to a temp dir.

Reports indexing speed (files and chunks per second), a no-change reindex as a fraction of the
full index time, retrieval recall@5 on a fixed list of questions whose answers live in known
files, and seconds per answer with the real chat model. Targets: no-change reindex < 5% of the
full index, recall@5 >= 0.85; the exit code is 1 when a target is missed.

    python benchmarks/qna.py                  # everything, 3 answers with the default model
    python benchmarks/qna.py --answers 0      # indexing and retrieval only (no chat model)
    python benchmarks/qna.py --json out.json  # also save the figures
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qna.answer import answer_question, retrieve  # noqa: E402
from qna.index import get_client, index_directory, open_collection  # noqa: E402

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


def recall_at(collection: Any, k: int) -> tuple[float, float, list[dict[str, Any]]]:
    """recall@k (answer file among the top k chunks' files) and the mean reciprocal rank."""
    hits, rr, misses = 0, 0.0, []
    for question, expected in QUESTIONS:
        code, _ = retrieve(collection, question, k=k, summaries=0)
        paths = [h.path for h in code]
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
    """Seconds per answer and how much of what a right answer names each answer names."""
    from my_llm.models import describe_model, get_chat_model

    chat = get_chat_model(args.model, max_tokens=256)
    chat.invoke("Say OK.")  # load the model outside the timed answers
    timings, samples = [], []
    for (question, expected), terms in list(zip(QUESTIONS, KEY_TERMS, strict=True))[: args.answers]:
        started = time.perf_counter()
        result = answer_question(collection, question, chat, k=args.k, repo=args.package)
        timings.append(time.perf_counter() - started)
        samples.append({
            "question": question,
            "answer": result.answer[:300],
            "sources": [str(s) for s in result.sources],
            "key_terms": round(term_score(result.answer, terms), 3),
            "names_file": expected in result.answer,
            "words": len(result.answer.split()),
        })
    return {
        "model": describe_model(chat),
        "seconds_per_answer": round(sum(timings) / len(timings), 2),
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
        recall, mrr, misses = recall_at(collection, args.k)
        per_question = 1000 * (time.perf_counter() - started) / len(QUESTIONS)
        figures.update(recall_at_k=round(recall, 3), mrr=round(mrr, 3),
                       retrieval_ms_per_question=round(per_question, 1), misses=misses)
        if args.answers > 0:
            figures.update(_answer_figures(collection, args))
    return figures


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
        for sample in figures["answers"]:
            print(f"  Q: {sample['question']}\n  A: {sample['answer'][:200]!r}\n  S: {sample['sources']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="requests", help="installed package to copy")
    parser.add_argument("--answers", type=int, default=3, help="questions answered by the model")
    parser.add_argument("--model", default=None, help="model spec for answers (default: auto)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    figures = _measure(args)
    ok_no_change = figures["no_change_fraction"] < TARGET_NO_CHANGE
    ok_recall = figures["recall_at_k"] >= TARGET_RECALL
    _print(figures, args.k, ok_no_change, ok_recall)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2))
    return 0 if ok_no_change and ok_recall else 1


if __name__ == "__main__":
    sys.exit(main())
