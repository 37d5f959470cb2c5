"""Match latency on the real FAQ and on synthetic FAQs of 1,000 and 10,000 entries, beside rapidfuzz.

    .venv/bin/python -m bench.match_latency [--repeat 3]

Queries are the evaluation set's questions (eval/*.jsonl). For each FAQ it prints p50/p99 of one full
`Answerer.ask` (language detection + matching) and of `rapidfuzz.process.extractOne` over the same
question variants (plain strings, default WRatio scorer), and the memory the index takes.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import process

from bot.config import bundled
from bot.core.answering import Answerer, Question
from bot.core.faq import Faq, FaqEntry, Topic
from bot.core.text import fold, words
from bot.evaluation import read_cases
from bot.storage.faq_files import read_faq

ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call: Callable[[str], object], queries: list[str], repeat: int) -> list[float]:
    for query in queries[:50]:  # warm caches as a running bot would be
        call(query)
    samples: list[float] = []
    for _ in range(repeat):
        for query in queries:
            start = time.perf_counter()
            call(query)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def synthetic(real: Faq, size: int, seed: int = 7) -> Faq:
    """`size` extra topics whose variants mix real FAQ words at random, in every language, plus the real FAQ."""
    rng = random.Random(seed)
    topics = dict(real.topics)
    entries = dict(real.entries)
    per_lang = max(1, size // len(real.languages))
    for lang in real.languages:
        vocabulary = sorted({w for e in real.entries_in(lang) for q in e.questions for w in words(fold(q))})
        for n in range(per_lang):
            topic_id = f"synthetic-{lang}-{n:05d}"
            topics[topic_id] = Topic(topic_id, "help", "bot-help", ())
            questions = tuple(" ".join(rng.sample(vocabulary, rng.randint(4, 9))) + f" {n}" for _ in range(10))
            entries[(topic_id, lang)] = FaqEntry(topic_id, lang, topic_id[:32], questions, "synthetic answer")
            for other in real.languages:
                if other != lang:
                    entries[(topic_id, other)] = FaqEntry(topic_id, other, topic_id[:32], (), "synthetic answer")
    return Faq(topics, real.categories, real.languages, entries, real.source_language)


def measure(name: str, faq: Faq, queries: list[str], repeat: int) -> None:
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    answerer = Answerer(faq)
    build_seconds = time.perf_counter() - start
    index_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    variants = [q for e in faq for q in e.questions]
    ours = timed(lambda q: answerer.ask(Question(q)), queries, repeat)
    theirs = timed(lambda q: process.extractOne(q, variants), queries, 1)
    p50, p99 = percentiles(ours)
    r50, r99 = percentiles(theirs)
    entries = sum(1 for e in faq if e.questions)
    print(f"{name:14} {entries:>7} {len(variants):>9} {p50:>8.3f} {p99:>8.3f} {r50:>9.3f} {r99:>9.3f} "
          f"{index_mb:>8.1f} {build_seconds:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    real = read_faq(bundled("faq"))
    queries = [case.text for case in read_cases(ROOT / "eval")]
    print(f"{len(queries)} queries from eval/, {args.repeat} rounds (rapidfuzz: 1 round); times in ms")
    print(f"{'FAQ':14} {'entries':>7} {'variants':>9} {'p50':>8} {'p99':>8} {'rf p50':>9} {'rf p99':>9} "
          f"{'index MB':>8} {'build s':>7}")
    measure("real", real, queries, args.repeat)
    for size in (1_000, 10_000):
        measure(f"synthetic {size}", synthetic(real, size), queries, args.repeat)
    print("cost per query: linear in the message length, plus the postings of its words (variants sharing a "
          "word with it); typo correction scans vocabulary words of similar length only.")


if __name__ == "__main__":
    main()
