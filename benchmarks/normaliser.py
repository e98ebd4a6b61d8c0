"""Score loa-xa's normaliser and the Vietnamese normalisers on PyPI on the reading corpus.

    .venv/bin/python -m benchmarks.normaliser [--candidates-python /tmp/cands/bin/python]

Candidates: vinormx, vietnormalizer, vinorm, g2p-hamster's text front end (T0) and soe-vinorm. They
are not loa-xa dependencies. Install them into a throwaway venv (`python3 -m venv /tmp/cands &&
/tmp/cands/bin/pip install soe-vinorm vinormx vietnormalizer vinorm g2p-hamster`) and pass its
interpreter; each candidate runs in a child process of that interpreter (this file, `--worker
NAME`), so nothing of theirs is imported here. A candidate that is not installed, or fails offline
(soe-vinorm fetches its model from the Hugging Face hub on first use), is listed as skipped with
the reason.

Two accuracies: "guide" is what the corpus test checks (the spoken form the reading guide
prescribes, case ignored, `{a|b}` alternatives accepted); "words" also ignores punctuation and
the regional number variants every listener understands (bốn/tư after "mươi", ngàn/nghìn,
lẻ/linh), so a library is not marked down for its house style. Accuracy by kind uses "words".
Speed is sentences per second over one pass of the corpus after one warm-up sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "controller" / "text" / "corpus" / "sentences.tsv"
CANDIDATES = ("vinormx", "vietnormalizer", "vinorm", "g2p-hamster", "soe-vinorm")


def _candidate(name: str) -> Callable[[str], str]:
    """The candidate's normalise function (imported only in the worker process)."""
    if name == "vinormx":
        from vinormx import TTSnorm as vinormx_norm

        return lambda text: str(vinormx_norm(text))
    if name == "vietnormalizer":
        from vietnormalizer import VietnameseNormalizer

        normaliser = VietnameseNormalizer()
        return lambda text: str(normaliser.normalize(text))
    if name == "vinorm":
        from vinorm import TTSnorm as vinorm_norm

        return lambda text: str(vinorm_norm(text))
    if name == "g2p-hamster":
        from g2p_hamster.t0 import Config, normalize

        config = Config()
        return lambda text: str(normalize(text, config)["read_string"])
    if name == "soe-vinorm":
        from soe_vinorm import normalize_text

        return lambda text: str(normalize_text(text))
    raise ValueError(name)


def _run(normalise: Callable[[str], str], texts: list[str]) -> tuple[list[str], float]:
    normalise(texts[0])  # warm-up: lazy loading is not counted
    start = time.perf_counter()
    outputs = [normalise(t) for t in texts]
    return outputs, time.perf_counter() - start


def worker(name: str) -> None:
    """Child-process mode: texts as JSON on stdin, {"outputs", "seconds"} or {"error"} on stdout."""
    texts = json.load(sys.stdin)
    try:
        outputs, seconds = _run(_candidate(name), texts)
    except Exception as exc:  # any failure, including a missing package or a download refused offline
        json.dump({"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]}, sys.stdout)
        return
    json.dump({"outputs": outputs, "seconds": seconds}, sys.stdout)


_VARIANTS = (("mươi bốn", "mươi tư"), ("ngàn", "nghìn"), ("lẻ", "linh"), ("mươi một", "mươi mốt"))


def words_only(text: str) -> str:
    """Lower case, no punctuation, house-style number variants unified."""
    text = " ".join(re.sub(r"[^\w\s{}|]", " ", text.lower()).split())
    for variant, standard in _VARIANTS:
        text = text.replace(variant, standard)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates-python", default=sys.executable, help="interpreter with the candidates")
    parser.add_argument("--worker", choices=CANDIDATES, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per candidate")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0

    from benchmarks.common import machine, stamp, table
    from controller.text import normalize
    from controller.text.corpus import CorpusSentence, load_corpus

    corpus = load_corpus(CORPUS)
    texts = [s.text for s in corpus]
    results: dict[str, tuple[list[str], float]] = {"loa-xa": _run(normalize, texts)}
    skipped: dict[str, str] = {}
    for name in CANDIDATES:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        try:
            done = subprocess.run(
                [args.candidates_python, __file__, "--worker", name],
                input=json.dumps(texts),
                capture_output=True,
                text=True,
                timeout=args.timeout,
                env=env,
                check=False,
            )
            answer = json.loads(done.stdout or "{}")
        except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as exc:
            answer = {"error": type(exc).__name__}
        if "outputs" in answer:
            results[name] = (answer["outputs"], answer["seconds"])
        else:
            skipped[name] = answer.get("error") or f"exit {done.returncode}"

    def lenient(sentence: CorpusSentence, spoken: str) -> bool:
        relaxed = CorpusSentence(sentence.line, sentence.source, sentence.kinds, "", words_only(sentence.spoken))
        return relaxed.accepts(words_only(spoken))

    print(f"# Normalisers on the reading corpus ({len(corpus)} sentences), {stamp()}, {machine()}\n")
    headers = ["", *results]
    rows: list[list[object]] = [
        [
            "guide (strict)",
            *(_share([s.accepts(o) for s, o in zip(corpus, out, strict=True)]) for out, _ in results.values()),
        ],
        ["words", *(_share([lenient(s, o) for s, o in zip(corpus, out, strict=True)]) for out, _ in results.values())],
        ["sentences/s", *(f"{len(texts) / seconds:,.0f}" for _, seconds in results.values())],
    ]
    print(table(headers, rows))
    kinds = sorted({k for s in corpus for k in s.kinds})
    by_kind = []
    for kind in kinds:
        members = [i for i, s in enumerate(corpus) if kind in s.kinds]
        cells = [_share([lenient(corpus[i], out[i]) for i in members]) for out, _ in results.values()]
        by_kind.append([f"{kind} ({len(members)})", *cells])
    print("\nAccuracy by kind (words):\n")
    print(table(["kind (sentences)", *results], by_kind))
    for name, reason in skipped.items():
        print(f"\nskipped {name}: {reason}")
    return 0


def _share(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.1f} %" if flags else "-"


if __name__ == "__main__":
    sys.exit(main())
