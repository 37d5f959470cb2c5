"""Every user-facing reply: (translator, core result) -> text and buttons, the same for Telegram and console.

Buttons carry an abstract action; the Telegram adapter turns them into callback data, the console into
numbered choices. Placeholders are filled after translation, never inside `_()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.answering import Answer
from bot.core.faq import Faq
from bot.core.markup import escape, isolate_latin
from bot.core.matching import MatchKind
from bot.i18n import Translator

CONTACT_EMAIL = "learningcities@unesco.org"
WEBSITE = "https://www.uil.unesco.org/en/learning-cities"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str  # topic, category, menu, language, feedback-up, feedback-down, none-of-these, ...
    arg: str = ""


@dataclass(frozen=True)
class Reply:
    text: str  # Telegram HTML
    lang: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        # Right-to-left text: keep URLs, e-mail, acronyms and /commands readable (Unicode isolates).
        if self.lang in RTL_LANGUAGES:
            object.__setattr__(self, "text", isolate_latin(self.text))


def _rows(buttons: list[Button], per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def faq_answer(t: Translator, faq: Faq, topic_id: str, lang: str) -> Reply:
    """The answer, then related topics and 👍/👎."""
    entry = faq.entry(topic_id, lang)
    topic = faq.topics[topic_id]
    related = [Button(faq.entry(r, lang).title, "topic", r) for r in topic.related if r in faq.topics]
    buttons = list(_rows(related))
    if topic.category is not None:  # no feedback on small talk
        buttons.append((Button("👍", "feedback-up", topic_id), Button("👎", "feedback-down", topic_id)))
    return Reply(entry.answer, lang, tuple(buttons))


def suggestions(t: Translator, faq: Faq, answer: Answer) -> Reply:
    """Did you mean…: the best 2–3 topics, and 'none of these' (recorded for staff)."""
    options = [Button(faq.entry(topic, answer.lang).title, "topic", topic) for topic in answer.suggestions]
    options.append(Button(t._("None of these"), "none-of-these"))
    return Reply(t._("I'm not sure I understood. Did you mean one of these?"), answer.lang, _rows(options))


def fallback(t: Translator, faq: Faq, lang: str) -> Reply:
    text = t._(
        "Sorry, I don't know the answer to that yet. I have passed your question on to the team.\n\n"
        "You can rephrase it, browse the topics below, or write to {email}."
    ).format(email=CONTACT_EMAIL)
    return Reply(text, lang, category_buttons(faq, lang))


def reply_for(t: Translator, faq: Faq, answer: Answer) -> Reply:
    """The reply to a free-text question, whatever the matcher decided."""
    if answer.kind is MatchKind.ANSWER and answer.faq_id:
        return faq_answer(t, faq, answer.faq_id, answer.lang)
    if answer.kind is MatchKind.SUGGEST and answer.suggestions:
        return suggestions(t, faq, answer)
    return fallback(t, faq, answer.lang)


def category_buttons(faq: Faq, lang: str) -> tuple[tuple[Button, ...], ...]:
    names = faq.languages.get(lang) or faq.languages[faq.source_language]
    return _rows([Button(names.categories.get(c, c), "category", c) for c in faq.categories])


def welcome(t: Translator, faq: Faq, lang: str, first_name: str | None) -> Reply:
    greeting = (t._("Hello, {name}!").format(name=escape(first_name)) if first_name else t._("Hello!"))
    text = "{greeting}\n\n{intro}".format(
        greeting=greeting,
        intro=t._(
            "I am the assistant of the UNESCO Global Network of Learning Cities. Ask me in your own words "
            "what a learning city is, why it matters, or how a city joins the network, or pick a topic below."
        ),
    )
    return Reply(text, lang, category_buttons(faq, lang))


def help_text(t: Translator, lang: str) -> Reply:
    text = t._(
        "<b>How to use this bot</b>\n"
        "Type a question in your own words and language, for example: “How can my city join the network?”\n\n"
        "/faq: browse the topics\n"
        "/language: choose the language of my answers\n"
        "/subscribe: receive the network's newsletter\n"
        "/privacy: what I store and why\n\n"
        "For anything else, write to {email}."
    ).format(email=CONTACT_EMAIL)
    return Reply(text, lang)


def category_menu(t: Translator, faq: Faq, lang: str) -> Reply:
    return Reply(t._("Choose a topic:"), lang, category_buttons(faq, lang))


def topic_menu(t: Translator, faq: Faq, lang: str, category: str) -> Reply:
    names = faq.languages.get(lang) or faq.languages[faq.source_language]
    topics = [Button(faq.entry(topic.id, lang).title, "topic", topic.id) for topic in faq.topics_in(category)]
    rows = (*_rows(topics), (Button(t._("« Back"), "menu"),))
    return Reply(f"<b>{escape(names.categories.get(category, category))}</b>", lang, rows)


def language_menu(t: Translator, faq: Faq, lang: str) -> Reply:
    options = [Button(profile.name, "language", code) for code, profile in faq.languages.items()]
    return Reply(t._("Choose the language of my answers:"), lang, _rows(options, per_row=2))


def language_set(t: Translator, faq: Faq, lang: str) -> Reply:
    name = faq.languages[lang].name if lang in faq.languages else lang
    text = t._("From now on I will answer in {language}. If you write to me in another language, "
               "I will answer in that language.").format(language=name)
    return Reply(text, lang)


def text_only(t: Translator, lang: str) -> Reply:
    return Reply(t._("I can only read text. Please type your question."), lang)


def apology(t: Translator, lang: str) -> Reply:
    return Reply(t._("Sorry, something went wrong on my side. Please try again in a minute."), lang)


def try_again_later(t: Translator, lang: str) -> Reply:
    return Reply(t._("I cannot reach my records right now. Please try again in a minute."), lang)


def slow_down(t: Translator, lang: str) -> Reply:
    return Reply(t._("You are sending messages very quickly. Please wait a moment."), lang)


def expired(t: Translator, faq: Faq, lang: str) -> Reply:
    return Reply(t._("This menu has expired. Here are the current topics:"), lang, category_buttons(faq, lang))


def feedback_thanks(t: Translator, helpful: bool) -> str:
    return t._("Thank you for your feedback!") if helpful else t._(
        "Thank you. We will use your feedback to improve this answer.")


def none_of_these(t: Translator, faq: Faq, lang: str) -> Reply:
    text = t._("Thank you, I have passed your question on to the team. You can browse the topics below or "
               "write to {email}.").format(email=CONTACT_EMAIL)
    return Reply(text, lang, category_buttons(faq, lang))


def unknown_command(t: Translator, lang: str) -> Reply:
    return Reply(t._("I don't know that command. Send /help to see what I can do."), lang)


def too_long(t: Translator, lang: str) -> Reply:
    return Reply(t._("Your message is very long; I read only its beginning. A short question works best."), lang)


def privacy(t: Translator, lang: str) -> Reply:
    text = t._(
        "<b>Privacy</b>\n"
        "This bot is run for the UNESCO Global Network of Learning Cities (UNESCO Institute for Lifelong "
        "Learning, Hamburg).\n\n"
        "• To answer you, I keep your Telegram user id, your chosen language and when you last wrote.\n"
        "• The questions people ask are kept without any link to who asked them, so the team can improve "
        "the answers.\n"
        "• If you subscribe to the newsletter, I keep your subscription, your consent and, if you give "
        "them, your email address, city or organisation and role.\n\n"
        "/mydata shows everything stored about you; /forget deletes it; /unsubscribe stops the newsletter.\n"
        "Questions: {email}"
    ).format(email=CONTACT_EMAIL)
    return Reply(text, lang)


def newsletter_pending(t: Translator, lang: str) -> Reply:
    text = t._(
        "The network's newsletter will soon be available here: one tap to subscribe, delivered in this "
        "chat, and an option to receive it by email. Until then, write to {email} to follow the network's "
        "news."
    ).format(email=CONTACT_EMAIL)
    return Reply(text, lang)


def bot_commands(t: Translator) -> list[tuple[str, str]]:
    """The command menu shown by Telegram in the user's app language."""
    return [
        ("start", t._("Welcome and topics")),
        ("faq", t._("Browse the topics")),
        ("help", t._("How to use this bot")),
        ("language", t._("Choose the answer language")),
        ("subscribe", t._("Receive the newsletter")),
        ("unsubscribe", t._("Stop the newsletter")),
        ("privacy", t._("What is stored and why")),
        ("mydata", t._("See your stored data")),
        ("forget", t._("Delete your data")),
    ]


def bot_description(t: Translator) -> str:
    return t._(
        "The assistant of the UNESCO Global Network of Learning Cities: what a learning city is, why it "
        "matters, how a city joins the network, the UNESCO Learning City Award, and the network's "
        "newsletter. Ask in your own language."
    )


def bot_short_description(t: Translator) -> str:
    return t._("Learning cities and the UNESCO network that connects them: ask in your own language.")
