"""The HTTP transport of the replying bot: python-telegram-bot's `BaseRequest` over aiohttp.

python-telegram-bot's own transport (httpx) spends about a millisecond of CPU per request, much of it in
httpcore's connection pool, which re-checks every idle connection on each request. A busy bot sends one
request per answer, so that millisecond was the largest single cost of a reply; aiohttp's connector does
the same work for a fraction of it. Behaviour seen by python-telegram-bot is the same: a (status, body)
pair for every answer, `TimedOut` when Telegram takes too long, `NetworkError` when it cannot be reached.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage",
                          "forwardMessage", "sendVideo", "sendAudio", "sendVoice", "sendSticker", "sendAnimation"})


def _or(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """Requests to the Bot API through one aiohttp session with a bounded connection pool.

    Timeouts mean what they mean in python-telegram-bot: `pool` waiting for a free connection, `connect`
    opening one, `read` waiting for Telegram's answer. (aiohttp has no separate write timeout; a request
    body of a text message is sent in one write.)
    """

    def __init__(self, *, connection_pool_size: int = 1, connect_timeout: float | None = 5.0,
                 read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0) -> None:
        self._pool_size = connection_pool_size
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._write_timeout, self._pool_timeout = write_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str | None], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Created here, inside the running loop. No cookies. Proxies from the environment are read by
            # `_proxy_for`, once per host: aiohttp's own trust_env reads them (and ~/.netrc) on every
            # request, which cost more than the rest of the request.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size),
                cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),
            )

    def _proxy_for(self, url: str) -> str | None:
        """HTTPS_PROXY / HTTP_PROXY / NO_PROXY for this URL's host, as python-telegram-bot's httpx honours them."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname)
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        connect = _or(connect_timeout, self._connect_timeout)
        pool = _or(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,  # a free connection + opening it
            sock_connect=connect,
            sock_read=_or(read_timeout, self._read_timeout),
        )
        body: Any = None
        if request_data is not None:
            body = _form(request_data) if request_data.contains_files else request_data.json_parameters
        try:
            async with self._session.request(method, url, data=body, timeout=timeout,
                                             proxy=self._proxy_for(url)) as response:
                content = await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        if log.isEnabledFor(logging.DEBUG):  # the URL holds the token: the logging filter redacts it
            log.debug("HTTP Request: %s %s %d", method, url, response.status)
        return response.status, content


class NotingRequest(AiohttpRequest):
    """An AiohttpRequest that reports every message the bot sends (`on_send`), so a broadcast running in
    the same process gives up a slot for each reply and the two together stay under Telegram's limit."""

    def __init__(self, on_send: Callable[[], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_send = on_send

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.rpartition("/")[2] in SEND_METHODS:
            self._on_send()
        return await super().do_request(url, method, *args, **kwargs)


def _form(request_data: RequestData) -> aiohttp.FormData:
    """A multipart body: the parameters as fields, the files as parts (as python-telegram-bot's httpx does)."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in (request_data.multipart_data or {}).items():
        filename, content, *mime = part
        form.add_field(name, content, filename=filename, content_type=mime[0] if mime else None)
    return form
