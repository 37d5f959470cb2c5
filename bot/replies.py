"""Every user-facing reply: (translator, core result) -> text and buttons, the same for Telegram and console.

Buttons carry an abstract action; the Telegram adapter turns them into callback data, the console into
numbered choices. Placeholders are filled after translation, never inside `_()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.answering import Answer
from bot.core.faq import Faq
from bot.core.markup import escape, isolate_latin
from bot.core.matching import MatchKind
from bot.core.ports import Role, SubscriberRecord, SubscriberStatus
from bot.core.subscriptions import (
    CODE_LIFETIME,
    MAX_ORGANISATION_CHARS,
    DetailOutcome,
    DetailResult,
    EmailOutcome,
    EmailResult,
    UnsubscribeOutcome,
)
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


# --- Newsletter sign-up (bot/core/subscriptions.py) -------------------------------------------------


def _language_name(faq: Faq, lang: str) -> str:
    return faq.languages[lang].name if lang in faq.languages else lang


def _consent_button(t: Translator, lang: str) -> Button:
    return Button(t._("✅ I agree, subscribe me"), "subscribe-consent", lang)


def _resend_button(t: Translator) -> Button:
    return Button(t._("🔁 Send a new code"), "subscribe-resend")


def not_subscribed(t: Translator, lang: str) -> Reply:
    return Reply(t._("You are not subscribed to the newsletter. Send /subscribe to sign up."), lang)


def private_only(t: Translator, lang: str) -> Reply:
    """The newsletter and the user's data are handled in a private chat, never in a group."""
    return Reply(t._("For your privacy, please send this to me in a private chat."), lang)


def signup_screen(t: Translator, lang: str) -> Reply:
    """What the newsletter is, the short privacy notice, and the explicit consent button."""
    text = t._(
        "<b>The newsletter of the UNESCO Global Network of Learning Cities</b>\n"
        "News from the network and its member cities, events, and calls such as the UNESCO Learning City "
        "Award, delivered in this chat.\n\n"
        "<b>Your data</b>\n"
        "To send it, I keep your Telegram user id, your language and your consent; if you add them, also "
        "your email address, your city or organisation and your role. They are used only for the "
        "newsletter. /privacy has the full notice; /mydata shows what is stored; /unsubscribe and /forget "
        "undo it at any time."
    )
    return Reply(text, lang, ((_consent_button(t, lang),),))


def subscription_menu(t: Translator, faq: Faq, subscriber: SubscriberRecord, *, newly: bool = False) -> Reply:
    """Subscribed: the language, what is on record, and the optional steps as buttons."""
    lang = subscriber.language
    language = _language_name(faq, lang)
    if newly:
        head = t._("✅ You are subscribed. Each issue of the newsletter will arrive in this chat, in {language}."
                   ).format(language=language)
    else:
        head = t._("You are subscribed: the newsletter arrives in this chat, in {language}.").format(
            language=language)
    lines = [head]
    if subscriber.email:
        state = t._("confirmed") if subscriber.email_confirmed_at else t._("not confirmed")
        lines.append(t._("Email: {email} ({state})").format(email=escape(subscriber.email), state=state))
    if subscriber.organisation:
        lines.append(t._("City or organisation: {name}").format(name=escape(subscriber.organisation)))
    if subscriber.role:
        lines.append(t._("Role: {role}").format(role=role_label(t, subscriber.role)))
    lines.append("\n" + t._("If you wish, you can also:"))
    email_label = t._("📧 Change my email") if subscriber.email else t._("📧 Add my email")
    buttons = [
        Button(email_label, "subscribe-email"),
        Button(t._("🏙 Add my city or organisation"), "subscribe-organisation"),
        Button(t._("🌐 Change language"), "subscribe-language"),
    ]
    if not newly:
        buttons.append(Button(t._("Unsubscribe"), "unsubscribe"))
    buttons.append(Button(t._("✔️ Done"), "subscribe-done"))
    return Reply("\n".join(lines), lang, _rows(buttons))


def already_subscribed_notice(t: Translator) -> str:
    """The toast on a second tap of the consent button."""
    return t._("You are already subscribed.")


def role_label(t: Translator, role: Role) -> str:
    labels = {Role.CITIZEN: t._("Citizen"), Role.CITY_GOVERNMENT: t._("City government"), Role.OTHER: t._("Other")}
    return labels[role]


def ask_email(t: Translator, lang: str) -> Reply:
    return Reply(t._("Please send me your email address (for example: name@example.org), or send /cancel."), lang)


def ask_organisation(t: Translator, lang: str) -> Reply:
    return Reply(t._("Please send me the name of your city or organisation (at most {limit} characters), or send "
                     "/cancel.").format(limit=MAX_ORGANISATION_CHARS), lang)


def ask_role(t: Translator, lang: str) -> Reply:
    roles = [Button(role_label(t, role), "subscribe-role", role.value) for role in Role]
    return Reply(t._("Thank you. Which of these describes you best?"), lang,
                 (*_rows(roles), (Button(t._("✔️ Done"), "subscribe-done"),)))


def email_result(t: Translator, faq: Faq, result: EmailResult, lang: str) -> Reply:
    """The answer to an email address or a code the user sent, or to "Send a new code"."""
    subscriber, outcome = result.subscriber, result.outcome
    email = escape(subscriber.email or "") if subscriber else ""
    resend = ((_resend_button(t),),)
    if outcome is EmailOutcome.NOT_SUBSCRIBED or subscriber is None:
        return not_subscribed(t, lang)
    if outcome is EmailOutcome.CONFIRMED:
        text = t._("✅ Thank you, {email} is confirmed. You will also receive the newsletter by email.")
        menu = subscription_menu(t, faq, subscriber)
        return Reply(text.format(email=email), lang, menu.buttons)
    if outcome is EmailOutcome.INVALID:
        return Reply(t._("This does not look like an email address. Please check it and send it again (for example: "
                         "name@example.org), or send /cancel."), lang)
    if outcome is EmailOutcome.SAVED_UNCONFIRMED:
        text = t._("Thank you, {email} is saved for the newsletter by email. It is not confirmed yet: confirmation "
                   "by email is not available at the moment.")
        return Reply(text.format(email=email), lang, subscription_menu(t, faq, subscriber).buttons)
    if outcome is EmailOutcome.CODE_SENT:
        text = t._("I have sent a 6-digit code to {email}. Please send it to me here within {minutes} minutes. "
                   "No email? Look in your spam folder, or tap “Send a new code”. A wrong address? Just send "
                   "the right one.")
        return Reply(text.format(email=email, minutes=int(CODE_LIFETIME.total_seconds() // 60)), lang, resend)
    if outcome is EmailOutcome.MAIL_FAILED:
        text = t._("Sorry, I could not send the email just now. Your address is saved: please try again later "
                   "with “Send a new code”.")
        return Reply(text, lang, resend)
    if outcome is EmailOutcome.TOO_SOON:
        text = t._("A code was sent less than a minute ago. Please wait {seconds} seconds, then tap “Send a new "
                   "code”.").format(seconds=result.wait_seconds)
        return Reply(text, lang, resend)
    if outcome is EmailOutcome.TOO_MANY_SENDS:
        text = t._("I have sent as many codes as I can for today. Please try again tomorrow, or write to {email}.")
        return Reply(text.format(email=CONTACT_EMAIL), lang)
    if outcome is EmailOutcome.ALREADY_CONFIRMED:
        return Reply(t._("{email} is already confirmed.").format(email=email), lang)
    if outcome is EmailOutcome.NOT_A_CODE:
        return Reply(t._("Please send the 6-digit code from the email (for example: 123456), or send /cancel."),
                     lang, resend)
    if outcome is EmailOutcome.WRONG_CODE:
        text = t.n_("This code is not right. You have {count} attempt left.",
                    "This code is not right. You have {count} attempts left.", result.attempts_left)
        return Reply(text.format(count=result.attempts_left), lang, resend)
    if outcome is EmailOutcome.EXPIRED:
        return Reply(t._("This code has expired. Tap “Send a new code” to receive a new one."), lang, resend)
    if outcome is EmailOutcome.TOO_MANY_ATTEMPTS:
        return Reply(t._("Too many wrong codes. Tap “Send a new code” to receive a new one."), lang, resend)
    return Reply(t._("There is no code to confirm. Tap “Add my email” to give your address."), lang,
                 ((Button(t._("📧 Add my email"), "subscribe-email"),),))


def detail_result(t: Translator, faq: Faq, result: DetailResult, lang: str, *, role: bool = False) -> Reply:
    """The answer to a city/organisation the user sent, or to a role button."""
    if result.outcome is DetailOutcome.NOT_SUBSCRIBED or result.subscriber is None:
        return not_subscribed(t, lang)
    if result.outcome is DetailOutcome.EMPTY:
        return Reply(t._("Please send the name of your city or organisation, or send /cancel."), lang)
    if result.outcome is DetailOutcome.TOO_LONG:
        text = t._("This is longer than {limit} characters. Please send a shorter name, or send /cancel.")
        return Reply(text.format(limit=MAX_ORGANISATION_CHARS), lang)
    if not role:
        return ask_role(t, lang)
    menu = subscription_menu(t, faq, result.subscriber)
    return Reply(t._("Thank you, your details are saved.") + "\n\n" + menu.text, lang, menu.buttons)


def sign_up_done(t: Translator, lang: str) -> Reply:
    return Reply(t._("Thank you! /subscribe shows your subscription and lets you change it; /unsubscribe stops the "
                     "newsletter."), lang)


def step_cancelled(t: Translator, lang: str, cancelled: bool) -> Reply:
    if cancelled:
        return Reply(t._("Cancelled. You can ask me a question now."), lang)
    return Reply(t._("There is nothing to cancel. Ask me a question, or send /help."), lang)


def unsubscribed(t: Translator, lang: str, outcome: UnsubscribeOutcome) -> Reply:
    if outcome is UnsubscribeOutcome.UNSUBSCRIBED:
        return Reply(t._("You are unsubscribed: you will not receive the newsletter any more. Send /subscribe to "
                         "come back, or /forget to delete all your data."), lang)
    return Reply(t._("You are not subscribed to the newsletter, so there is nothing to stop. Send /subscribe to "
                     "sign up."), lang)


def _when(value: object) -> str:
    """An ISO timestamp from the data document, shown as "2026-11-26 14:03 UTC"."""
    if not isinstance(value, str):
        return "–"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def status_label(t: Translator, status: str) -> str:
    labels = {
        SubscriberStatus.PENDING: t._("not subscribed (no consent given)"),
        SubscriberStatus.ACTIVE: t._("subscribed"),
        SubscriberStatus.UNSUBSCRIBED: t._("unsubscribed"),
        SubscriberStatus.UNREACHABLE: t._("subscribed, but Telegram does not deliver to you"),
    }
    return labels.get(SubscriberStatus(status), status)


def my_data(t: Translator, faq: Faq, lang: str, data: dict[str, Any]) -> Reply:
    """/mydata as a readable message; the same data goes out as a JSON document."""
    lines = [t._("<b>Your data</b>"), t._("Telegram user id: {id}").format(id=data["telegram_id"])]
    user = data.get("user")
    if user:
        chosen = _language_name(faq, user["language"]) if user.get("language") else "–"
        lines.append(t._("Language you chose: {language}; Telegram app language: {app}").format(
            language=chosen, app=escape(user.get("telegram_language") or "–")))
        lines.append(t._("First and last message: {first}, {last}").format(
            first=_when(user.get("first_seen")), last=_when(user.get("last_seen"))))
    sub = data.get("subscription")
    if sub:
        lines.append(t._("Newsletter: {status}, in {language}").format(
            status=status_label(t, sub["status"]), language=_language_name(faq, sub["language"])))
        if sub.get("consent_at"):
            lines.append(t._("Consent: {date}, privacy notice {version}").format(
                date=_when(sub["consent_at"]), version=escape(sub.get("consent_notice_version") or "–")))
        if sub.get("email"):
            state = (t._("confirmed on {date}").format(date=_when(sub["email_confirmed_at"]))
                     if sub.get("email_confirmed_at") else t._("not confirmed"))
            lines.append(t._("Email: {email} ({state})").format(email=escape(sub["email"]), state=state))
        if sub.get("organisation"):
            lines.append(t._("City or organisation: {name}").format(name=escape(sub["organisation"])))
        if sub.get("role"):
            lines.append(t._("Role: {role}").format(role=role_label(t, Role(sub["role"]))))
        if sub.get("source"):
            lines.append(t._("Signed up through: {source}").format(source=escape(sub["source"])))
    else:
        lines.append(t._("Newsletter: not subscribed"))
    lines.append(t._("Feedback votes on answers: {count}").format(count=data.get("feedback_votes", 0)))
    lines.append("")
    lines.append(t._("The questions you asked are kept without any link to you. The attached file holds all of "
                     "this data; /forget deletes it."))
    return Reply("\n".join(lines), lang)


def forget_confirmation(t: Translator, lang: str) -> Reply:
    text = t._("Delete all your data? This erases your user record, your newsletter subscription (with your email "
               "address, city or organisation) and your feedback. It cannot be undone.")
    return Reply(text, lang, ((Button(t._("Yes, delete everything"), "confirm", "forget"),
                               Button(t._("No, keep my data"), "cancel", "forget")),))


def forgotten(t: Translator, lang: str, erased: bool) -> Reply:
    if erased:
        return Reply(t._("Done: everything stored about you has been deleted. If you write to me again, I will keep "
                         "only what I need to answer you."), lang)
    return Reply(t._("There was nothing stored about you."), lang)


def forget_kept(t: Translator, lang: str) -> Reply:
    return Reply(t._("Nothing was deleted."), lang)


def confirmation_email(t: Translator, code: str, minutes: int) -> tuple[str, str]:
    """The subject and plain-text body of the email that carries the confirmation code."""
    subject = t._("Your confirmation code: {code}").format(code=code)
    body = t._(
        "Hello,\n\n"
        "To confirm this email address for the newsletter of the UNESCO Global Network of Learning Cities, "
        "send this code to the bot in Telegram:\n\n"
        "{code}\n\n"
        "The code is valid for {minutes} minutes. If you did not ask for it, you can ignore this email: "
        "nothing will be sent to this address.\n\n"
        "UNESCO Institute for Lifelong Learning, Hamburg"
    ).format(code=code, minutes=minutes)
    return subject, body


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
