"""The webhook ASGI app, as in python-telegram-bot's examples/customwebhookbot/starlettebot.py, hardened.

POST /telegram  an update from Telegram: secret-token header checked in constant time, JSON of at most
                1 MB, parsed with Update.de_json, taken once across every instance on the database, then
                queued for the application. An update the framework cannot parse is logged and
                acknowledged (200), or Telegram would redeliver it forever.
GET  /healthz   200 {"database": "ok", "faq": "loaded", ...}, or 503 when the database does not answer.
GET  /metrics   Prometheus text format.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.bootstrap import Services
from bot.core.ports import StorageUnavailable, UpdateLog
from bot.telegram.context import LcbotApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few kB; anything near this is not from Telegram
MAX_PENDING_UPDATES = 2000  # in hand and not answered yet; beyond, 503: Telegram keeps the update, retries later
HEALTH_TIMEOUT_S = 2.0


class BodyTooLarge(Exception):
    pass


def build_webhook_app(application: LcbotApplication, services: Services, secret: str,
                      claims: UpdateLog | None = None) -> Starlette:
    """The ASGI app feeding `application.update_queue`; `claims` dedups redelivered updates (None: off)."""
    metrics = services.metrics
    expected = secret.encode()
    processor = application.update_processor

    def pending() -> int:
        """Updates acknowledged and not yet answered: in the queue, waiting for a slot, or running."""
        return application.update_queue.qsize() + getattr(processor, "pending", 0)

    def reject(result: str, status: int, detail: str = "") -> Response:
        metrics.webhook_requests.labels(result).inc()
        return Response(detail, status_code=status, media_type="text/plain")

    async def telegram(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return reject("forbidden", 403)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return reject("bad_request", 415, "expected application/json")
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return reject("too_large", 413, "update too large")
        try:
            data = json.loads(body)
        except ValueError:
            return reject("bad_request", 400, "not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return reject("bad_request", 400, "not an update")
        update_id: int = data["update_id"]
        if pending() >= MAX_PENDING_UPDATES:
            log.warning("%d updates in hand; asking Telegram to deliver update %s again later", pending(), update_id)
            return reject("busy", 503, "busy")
        try:
            update = Update.de_json(data, application.bot)
        except Exception:
            log.warning("acknowledging update %s without handling it: python-telegram-bot cannot parse it",
                        update_id, exc_info=True, extra={"update_id": update_id})
            return reject("unparseable", 200)
        if claims is not None and not await first_delivery(claims, update_id):
            log.info("update %s was already taken (a redelivery); dropped", update_id, extra={"update_id": update_id})
            return reject("duplicate", 200)
        await application.update_queue.put(update)
        metrics.webhook_requests.labels("queued").inc()
        return Response(status_code=200)

    async def healthz(request: Request) -> Response:
        try:
            database = await asyncio.wait_for(services.database.ping(), HEALTH_TIMEOUT_S)
        except Exception:
            database = False
        faq = services.library.faq
        body: dict[str, Any] = {
            "database": "ok" if database else "unreachable",
            "faq": "loaded" if faq.topics else "empty",
            "topics": len(faq.topics),
            "languages": list(faq.language_codes),
            "pending_updates": pending(),
        }
        return JSONResponse(body, status_code=200 if database and faq.topics else 503)

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    return Starlette(routes=[
        Route("/telegram", telegram, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ])


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def first_delivery(claims: UpdateLog, update_id: int) -> bool:
    """Whether this instance should handle the update. With the database out of reach, handle it anyway:
    a rare double answer is better than a lost one, and Telegram redelivers only unacknowledged updates."""
    try:
        return await claims.claim(update_id)  # retried a few times by the storage layer
    except StorageUnavailable:
        log.warning("cannot record update %s as taken (database unreachable); handling it anyway", update_id,
                    extra={"update_id": update_id})
        return True
