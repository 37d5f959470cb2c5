"""Prometheus metrics of one serving process: a registry per Metrics object, passed through Services.

No module-level registry: each Metrics (one per process, one per test instance) has its own
CollectorRegistry, so two bot instances in one test process never share counters.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds from a handler's start to its last reply sent: FAQ answers are a few ms of matching plus
# one or two Telegram round trips.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter("lcbot_updates", "Updates received, by type (message, callback_query...).",
                               ["type"], registry=r)
        self.answers = Counter("lcbot_answers", "Questions answered, by outcome (answer, suggest, fallback) "
                               "and language.", ["outcome", "lang"], registry=r)
        self.reply_seconds = Histogram("lcbot_reply_seconds", "Time from a handler's start to its reply sent.",
                                       ["handler"], buckets=LATENCY_BUCKETS, registry=r)
        self.errors = Counter("lcbot_errors", "Errors that reached the error handler, by exception type.",
                              ["type"], registry=r)
        self.webhook_requests = Counter("lcbot_webhook_requests", "Webhook POSTs, by result (queued, duplicate, "
                                        "forbidden, unparseable, too_large, bad_request, busy).",
                                        ["result"], registry=r)
        self.storage_unavailable = Counter("lcbot_storage_unavailable", "Storage calls that failed after "
                                           "their retries (the user was asked to try again).", registry=r)
        self.flood_limited = Counter("lcbot_flood_limited", "Updates dropped by the per-user flood limit.",
                                     registry=r)
        self.broadcast_sent = Counter("lcbot_broadcast_messages", "Newsletter messages handled by a broadcast, "
                                      "by result (sent, blocked, failed).", ["result"], registry=r)
        self.broadcast_progress = Gauge("lcbot_broadcast_progress_ratio", "Share of the current broadcast done "
                                        "(0 to 1).", registry=r)
        self.broadcast_pending = Gauge("lcbot_broadcast_pending", "Subscribers the current broadcast has yet to "
                                       "serve.", registry=r)

    def broadcast(self, done: int, total: int) -> None:
        """Progress of a running broadcast, for other code to report (`done` of `total` subscribers)."""
        self.broadcast_pending.set(max(total - done, 0))
        self.broadcast_progress.set(done / total if total else 1.0)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
