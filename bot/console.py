"""`lcbot chat`: the same bot in a terminal, so staff can try an FAQ edit before it goes live."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape as rich_escape

from bot.core.answering import Question
from bot.core.markup import to_plain
from bot.faq_library import FaqLibrary
from bot.i18n import Catalogs
from bot.replies import Button, Reply, category_menu, faq_answer, reply_for, topic_menu

HELP = ("Type a question. A number picks one of the listed choices. /faq shows the topics, /lang xx "
        "sets your language (now: {lang}), /reload reads the FAQ files again, /quit leaves.")


def to_rich(html: str) -> str:
    """Telegram HTML as rich markup: bold and italics kept, links shown with their address."""
    def piece(text: str) -> str:
        return rich_escape(to_plain(text))

    out: list[str] = []
    pos = 0
    for tag in re.finditer(r"<(/?)(b|strong|i|em|a)(?:\s+href=\"([^\"]*)\")?>", html):
        out.append(piece(html[pos : tag.start()]))
        closing, name, href = tag.groups()
        style = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "a": "underline"}[name]
        out.append(f"[/{style}]" if closing else f"[{style}]")
        if not closing and name == "a" and href and not href.startswith("mailto:"):
            out[-1] = f"{rich_escape(href)} [underline]"
        pos = tag.end()
    out.append(piece(html[pos:]))
    return "".join(out)


def run_console(library: FaqLibrary, catalogs: Catalogs, read: Callable[[str], str] = input,
                console: Console | None = None) -> int:
    console = console or Console(highlight=False)
    lang: str | None = None
    choices: list[Button] = []
    console.print(HELP.format(lang="automatic"))

    def show(reply: Reply) -> None:
        nonlocal choices
        console.print(to_rich(reply.text))
        choices = [b for row in reply.buttons for b in row if b.action in ("topic", "category", "menu")]
        for number, button in enumerate(choices, start=1):
            console.print(f"  [cyan]{number}[/cyan]. {rich_escape(button.label)}")

    while True:
        try:
            text = read("> ").strip()
        except EOFError:
            return 0
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return 0
        faq = library.faq
        reply_lang = lang or library.answerer.policy.default
        t = catalogs(reply_lang)
        if text.startswith("/lang"):
            wanted = text.removeprefix("/lang").strip().lower()
            if wanted in faq.languages:
                lang = wanted
                console.print(f"language: {faq.languages[wanted].name}")
            else:
                console.print(f"languages: {', '.join(faq.languages)}")
        elif text == "/faq":
            show(category_menu(t, faq, reply_lang))
        elif text == "/reload":
            result = library.reload()
            for problem in result.errors:
                console.print(f"[red]{rich_escape(str(problem))}[/red]")
            console.print("FAQ reloaded" if result.changed else "FAQ unchanged: the previous version still serves")
        elif text in ("/help", "/start"):
            console.print(HELP.format(lang=lang or "automatic"))
        elif text.isdigit() and 1 <= int(text) <= len(choices):
            button = choices[int(text) - 1]
            if button.action == "topic":
                show(faq_answer(t, faq, button.arg, reply_lang))
            elif button.action == "category":
                show(topic_menu(t, faq, reply_lang, button.arg))
            else:
                show(category_menu(t, faq, reply_lang))
        else:
            answer = library.ask(Question(text, saved_lang=lang))
            reply = reply_for(catalogs(answer.lang), faq, answer)
            console.print(f"[dim]({answer.kind.value}, {answer.faq_id or '-'}, {answer.lang}, "
                          f"score {answer.score:.0f})[/dim]")
            show(reply)
