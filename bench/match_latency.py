"""Match latency on the real FAQ and on synthetic FAQs of 1,000 and 10,000 entries, beside rapidfuzz.

    .venv/bin/python -m bench.match_latency [--repeat 3]

Queries are the evaluation set's questions (eval/*.jsonl). For each FAQ it prints p50/p99 of one full
`Answerer.ask` (language detection + matching) and of `rapidfuzz.process.extractOne` over the same
question variants (plain strings, default WRatio scorer), and the memory the index takes (growth of
the resident set while it is built).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import process

from bot.config import bundled
from bot.core.answering import Answerer, Question
from bot.core.faq import CORE_TOPICS, Faq, FaqEntry, Topic
from bot.core.text import fold, words
from bot.evaluation import read_cases
from bot.storage.faq_files import read_faq

ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call: Callable[[str], object], queries: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Every run's time, and each query's best run (its own cost, without other processes' interference)."""
    for query in queries[:50]:  # warm caches as a running bot would be
        call(query)
    samples: list[float] = []
    best = [float("inf")] * len(queries)
    for _ in range(repeat):
        for number, query in enumerate(queries):
            start = time.perf_counter()
            call(query)
            elapsed = (time.perf_counter() - start) * 1000
            samples.append(elapsed)
            best[number] = min(best[number], elapsed)
    return samples, best


def synthetic(real: Faq, size: int, seed: int = 7) -> Faq:
    """`size` extra topics whose variants mix real FAQ words at random, in every language, plus the real FAQ."""
    rng = random.Random(seed)
    topics = dict(real.topics)
    entries = dict(real.entries)
    per_lang = max(1, size // len(real.languages))
    core = sorted(CORE_TOPICS)
    for lang in real.languages:
        vocabulary = sorted({w for e in real.entries_in(lang) for q in e.questions for w in words(fold(q))})
        for n in range(per_lang):
            topic_id = f"synthetic-{lang}-{n:05d}"
            parent = core[n % len(core)]
            topics[topic_id] = Topic(topic_id, real.topics[parent].category, parent, ())
            questions = tuple(" ".join(rng.sample(vocabulary, rng.randint(4, 9))) + f" {n}" for _ in range(10))
            entries[(topic_id, lang)] = FaqEntry(topic_id, lang, topic_id[:32], questions, "synthetic answer")
    return Faq(topics, real.categories, real.languages, entries, real.source_language)


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(name: str, faq: Faq, queries: list[str], repeat: int) -> None:
    gc.collect()
    before = resident_mb()
    start = time.perf_counter()
    answerer = Answerer(faq)
    build_seconds = time.perf_counter() - start
    gc.collect()
    index_mb = resident_mb() - before
    variants = [q for e in faq for q in e.questions]
    ours, ours_best = timed(lambda q: answerer.ask(Question(q)), queries, repeat)
    theirs, _ = timed(lambda q: process.extractOne(q, variants), queries, 1)
    p50, p99 = percentiles(ours)
    b50, b99 = percentiles(ours_best)
    r50, r99 = percentiles(theirs)
    entries = sum(1 for e in faq if e.questions)
    print(f"{name:14} {entries:>7} {len(variants):>9} {p50:>8.3f} {p99:>8.3f} {b50:>8.3f} {b99:>8.3f} "
          f"{r50:>9.3f} {r99:>9.3f} {index_mb:>8.1f} {build_seconds:>7.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    real = read_faq(bundled("faq"))
    queries = [case.text for case in read_cases(ROOT / "eval")]
    print(f"{len(queries)} queries from eval/, {args.repeat} rounds (rapidfuzz: 1 round); times in ms; "
          "'best' = each query's fastest round (its own cost, without interference from other processes)")
    print(f"{'FAQ':14} {'entries':>7} {'variants':>9} {'p50':>8} {'p99':>8} {'best p50':>8} {'best p99':>8} "
          f"{'rf p50':>9} {'rf p99':>9} {'index MB':>8} {'build s':>7}")
    measure("real", real, queries, args.repeat)
    for size in (1_000, 10_000):
        measure(f"synthetic {size}", synthetic(real, size), queries, args.repeat)
    print("cost per query: linear in the message length, plus the postings of its words (variants sharing a "
          "word with it); typo correction scans vocabulary words of similar length only.")


if __name__ == "__main__":
    main()
