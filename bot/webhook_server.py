"""`lcbot run --webhook`: the application and uvicorn in one event loop, setWebhook at start, clean stop.

Several instances may run behind a load balancer on one database: each calls setWebhook with the same
URL (idempotent), none deletes it on the way out (the others keep serving, and Telegram keeps updates
while none does).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from telegram.error import RetryAfter, TelegramError

from bot.bootstrap import Services, build_services
from bot.config import Settings
from bot.telegram.admin import start_faq_watch, stop_broadcasts
from bot.telegram.application import ALLOWED_UPDATES, build_application, publish_profile
from bot.telegram.context import LcbotApplication, is_retryable
from bot.telegram.runner import trim_question_log
from bot.webhook import build_webhook_app

log = logging.getLogger(__name__)

SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts as secret_token
WEBHOOK_PATH = "/telegram"
SET_WEBHOOK_BACKOFF = (1.0, 3.0, 9.0)
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Serving:
    """A started webhook instance, handed to the `ready` callback (tests and benchmarks use it)."""

    host: str
    port: int
    services: Services
    application: LcbotApplication


def parse_listen(listen: str) -> tuple[str, int]:
    """"host:port" (IPv6 in brackets); ":8080" listens on every interface."""
    host, colon, port = listen.strip().rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"LCBOT_LISTEN must be host:port, e.g. 127.0.0.1:8080 (got {listen!r})")
    return host.strip("[]") or "0.0.0.0", int(port)


def webhook_problems(settings: Settings) -> list[str]:
    """What stops webhook mode from starting, in words for the operator; never shows the secret."""
    problems = []
    url = (settings.webhook_url or "").strip()
    if not url:
        problems.append("LCBOT_WEBHOOK_URL is not set: the public HTTPS address of this bot, e.g. "
                        f"https://bot.example.org (lcbot registers it with {WEBHOOK_PATH} appended)")
    elif not re.match(r"https?://[^/\s]+", url):
        problems.append("LCBOT_WEBHOOK_URL must be an http(s):// URL, e.g. https://bot.example.org")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        problems.append("LCBOT_WEBHOOK_SECRET is not set: 1-256 characters of A-Z, a-z, 0-9, _ and -; make one "
                        "with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    elif not SECRET_PATTERN.fullmatch(secret):
        problems.append("LCBOT_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - only "
                        "(Telegram refuses others); the value is not shown")
    try:
        parse_listen(settings.listen)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def webhook_url(settings: Settings) -> str:
    return (settings.webhook_url or "").strip().rstrip("/") + WEBHOOK_PATH


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: `serve_webhook` owns SIGINT/SIGTERM and stops things in
    order (HTTP first, then the application, then the database)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.setblocking(False)
    return sock


async def serve_webhook(settings: Settings, stop: asyncio.Event | None = None, *,
                        ready: Callable[[Serving], None] | None = None) -> int:
    """Serve Telegram's webhook on LCBOT_LISTEN until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    host, port = parse_listen(settings.listen)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    try:
        sock = _bind(host, port)
    except OSError as exc:
        log.error("cannot listen on %s: %s", settings.listen, exc)
        return 1
    async with build_services(settings) as services:
        application = build_application(services, updater=False)
        app = build_webhook_app(application, services, secret, services.updates)
        # As in polling (bot/telegram/runner.py): what start-up built (the FAQ index, catalogs, handlers)
        # lives as long as the process; frozen, it is no longer walked by every full collection.
        gc.freeze()
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False,
                                timeout_graceful_shutdown=5, timeout_keep_alive=30)
        server = _Uvicorn(config)
        async with application:
            await application.start()
            http = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
            while not server.started and not http.done():  # noqa: ASYNC110 -- uvicorn has no "started" event
                await asyncio.sleep(0.01)
            bound_host, bound_port = sock.getsockname()[:2]
            if http.done():
                http.result()  # raises what stopped uvicorn
            try:
                await register_webhook(application, settings)
            except TelegramError as exc:
                log.error("Telegram refused setWebhook for %s: %s", webhook_url(settings), exc)
                server.should_exit = True
                await http
                await application.stop()
                return 1
            application.create_task(publish_profile(application), name="publish-profile")
            # Plain tasks, cancelled below: Application.stop() waits for its own create_task tasks,
            # and these never end by themselves.
            chores = [asyncio.create_task(trim_question_log(services), name="trim-question-log"),
                      asyncio.create_task(prune_update_log(services), name="prune-update-log")]
            watching = start_faq_watch(application)
            if watching is not None:
                chores.append(watching)
            log.info("lcbot serves the webhook of @%s on %s:%d", application.bot.username, bound_host, bound_port)
            if ready is not None:
                ready(Serving(bound_host, bound_port, services, application))
            waiting = asyncio.create_task(stop.wait())
            await asyncio.wait({http, waiting}, return_when=asyncio.FIRST_COMPLETED)
            log.info("stopping: no new requests, finishing the updates in hand")
            server.should_exit = True
            for task in (waiting, *chores):
                task.cancel()
            await http
            await stop_broadcasts(application)
            await application.stop()
    return 0


async def register_webhook(application: LcbotApplication, settings: Settings) -> None:
    """setWebhook(url, secret_token, allowed_updates), retried while Telegram is unreachable."""
    url = webhook_url(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    for attempt, delay in enumerate((*SET_WEBHOOK_BACKOFF, None), start=1):
        try:
            await application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
            log.info("webhook registered: %s", url)
            return
        except TelegramError as exc:
            if delay is None or not (isinstance(exc, RetryAfter) or is_retryable(exc)):
                raise
            log.warning("setWebhook failed (attempt %d: %s); retrying in %.0fs", attempt, exc, delay)
            await asyncio.sleep(delay)


async def prune_update_log(services: Services, every: float = PRUNE_EVERY_S) -> None:
    """Forget processed update ids older than Telegram's redelivery window, hourly."""
    if services.updates is None:
        return
    while True:
        try:
            removed = await services.updates.prune()
            if removed:
                log.info("update log: forgot %d old update ids", removed)
        except Exception:
            log.warning("could not prune the update log; will try again", exc_info=True)
        await asyncio.sleep(every)
