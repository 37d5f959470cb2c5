"""Email: LCBOT_SMTP_URL parsing without leaking the password, the code email against a real SMTP server
(aiosmtpd on 127.0.0.1), failures as MailError, and the address check."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import ValidationError

from bot.config import Settings, bundled
from bot.core.ports import MailError
from bot.i18n import Catalogs, load_catalogs
from bot.mail import SmtpMailer, SmtpServer, build_mailer, email_check

SECRET = "hunter2-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # aiosmtpd calls it so
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Collect]]:
    port, handler = _free_port(), _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return load_catalogs(bundled("locales"), ("en", "fr", "ar"), "en")


def test_the_smtp_url_gives_host_port_credentials_and_tls() -> None:
    server = SmtpServer.from_url("smtp://news%40uil.org:p%3Ass@mail.example.org:587?starttls=1")
    assert (server.host, server.port, server.username, server.password) == (
        "mail.example.org", 587, "news@uil.org", "p:ss")
    assert server.starttls and not server.implicit_tls
    implicit = SmtpServer.from_url("smtps://mail.example.org")
    assert (implicit.port, implicit.implicit_tls, implicit.starttls) == (465, True, False)
    assert SmtpServer.from_url("smtp://localhost").port == 25


def test_a_bad_smtp_setting_names_the_problem_but_never_the_password() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(smtp_url=f"http://user:{SECRET}@mail.example.org")
    assert all(SECRET not in error["msg"] for error in caught.value.errors())
    for url in (f"smtp://user:{SECRET}@", f"smtp://user:{SECRET}@host:notaport"):
        with pytest.raises(ValueError) as error:
            SmtpServer.from_url(url)
        assert SECRET not in str(error.value)
    assert SECRET not in repr(SmtpServer.from_url(f"smtp://user:{SECRET}@mail.example.org"))
    assert SECRET not in repr(Settings(smtp_url=f"smtp://user:{SECRET}@mail.example.org"))


def test_without_smtp_there_is_no_mailer(catalogs: Catalogs) -> None:
    assert build_mailer(Settings(), catalogs) is None


async def test_the_code_email_goes_out_in_the_users_language(smtp: tuple[int, _Collect], catalogs: Catalogs) -> None:
    port, inbox = smtp
    mailer = build_mailer(Settings(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="news@uil.example.org"), catalogs)
    assert mailer is not None
    await mailer.send_code("marie@lyon.fr", "042917", "fr")
    [mail] = inbox.messages
    assert (mail["To"], mail["From"], mail["Content-Language"]) == ("marie@lyon.fr", "news@uil.example.org", "fr")
    assert mail["Subject"] == "Votre code de confirmation : 042917"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "042917" in body and "30 minutes" in body and "Hambourg" in body


async def test_an_unreachable_mail_server_is_a_mail_error_without_the_password(catalogs: Catalogs) -> None:
    server = SmtpServer("127.0.0.1", _free_port(), "user", SECRET)  # nothing listens there
    with pytest.raises(MailError) as error:
        await SmtpMailer(server, "news@uil.example.org", catalogs, timeout=2).send_code("a@b.org", "123456", "en")
    assert SECRET not in str(error.value)


async def test_the_address_check_normalises_and_explains() -> None:
    check = email_check()
    assert await check("Ana.Silva@Exemplo.PT") == "Ana.Silva@exemplo.pt"
    for bad in ("ana", "ana@", "ana lyon@city.org", "ana@localhost", "@lyon.fr"):
        with pytest.raises(ValueError) as error:
            await check(bad)
        assert str(error.value)
