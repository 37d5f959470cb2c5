"""The staff reports as terminal tables with bar charts (rich), and as short Telegram HTML for admins.

rich is imported by the terminal tables only: the running bot imports this module for the Telegram
reports, and rich's import was a sixtieth of its start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.markup import escape

if TYPE_CHECKING:
    from rich.console import Console

    from bot.staff.reports import Group, Stats

BAR_WIDTH = 30
TELEGRAM_BAR_WIDTH = 12
TELEGRAM_DAYS = 14  # the per-day chart in Telegram shows the last two weeks at most
TELEGRAM_TOPICS = 15
EXAMPLE_CHARS = 160
OUTCOME_NAMES = {"answer": "answered", "suggest": "suggested", "fallback": "not understood"}


def bar(value: float, maximum: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells for `maximum`, in eighths of a cell."""
    if value <= 0 or maximum <= 0:
        return ""
    eighths = round(value / maximum * width * 8)
    drawn = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
    return drawn or "▏"  # a count too small to draw still shows


def _percent(stats: Stats, count: int) -> str:
    return f"{stats.share(count):.0f}%"


def _outcome_rows(stats: Stats) -> list[tuple[str, int, str]]:
    rows = [(OUTCOME_NAMES.get(kind, kind), count, _percent(stats, count)) for kind, count in stats.outcomes.items()]
    suggested = stats.outcomes.get("suggest", 0)
    for name, count in (("  then picked", stats.picked), ("  none of these", stats.none_of_these)):
        rows.append((name, count, f"{100 * count / suggested:.0f}% of suggested" if suggested else "-"))
    return rows


def print_stats(stats: Stats, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    period = f"{stats.first_day:%d %b %Y} – {stats.last_day:%d %b %Y} (UTC)"
    console.print(Text(f"Questions asked {period}: {stats.total}", style="bold"))
    peak = max((n for _, n in stats.per_day), default=0)
    table = Table("day", "questions", "", title="Questions per day", title_justify="left")
    for day, count in stats.per_day:
        table.add_row(f"{day:%a %d %b}", str(count), Text(bar(count, peak), style="cyan"))
    console.print(table)
    table = Table("language", "questions", "share", "", title="Questions per language", title_justify="left")
    top = max((n for _, n in stats.per_language), default=0)
    for lang, count in stats.per_language:
        table.add_row(lang, str(count), _percent(stats, count), Text(bar(count, top), style="cyan"))
    console.print(table)
    table = Table("outcome", "questions", "rate", "", title="What the bot did", title_justify="left")
    for name, count, rate in _outcome_rows(stats):
        table.add_row(name, str(count), rate, Text(bar(count, stats.total), style="green"))
    console.print(table)
    table = Table("topic", "👍", "👎", "helpful", "", title="Feedback per topic (most 👎 first)",
                  title_justify="left")
    for votes in stats.votes:
        total = votes.up + votes.down
        table.add_row(votes.topic_id, str(votes.up), str(votes.down), f"{100 * votes.up / total:.0f}%",
                      Text(bar(votes.up, total, 20), style="green") + Text("░" * round(20 * votes.down / total),
                                                                          style="red"))
    if not stats.votes:
        table.add_row("(no votes in this period)", "", "", "", "")
    console.print(table)


def print_unanswered(total: int, groups: list[Group], limit: int, days: int, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"{total} unanswered question(s) in the last {days} day(s), in {len(groups)} group(s); "
                       f"most asked first.", style="bold"))
    table = Table("#", "asked", "lang", "closest topic", "examples", show_lines=True)
    for number, group in enumerate(groups[:limit], start=1):
        closest = f"{group.closest_topic} ({group.closest_score:.0f})" if group.closest_topic else "-"
        asked = f"{group.count}" + (f"\n{group.none_of_these} none of these" if group.none_of_these else "")
        table.add_row(str(number), asked, ", ".join(group.languages), closest,
                      Text("\n".join(_short(e) for e in group.examples[:3])))
    console.print(table)
    if len(groups) > limit:
        console.print(f"… and {len(groups) - limit} smaller group(s); use --limit to see more.")


def _short(text: str, limit: int = EXAMPLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pre(lines: list[str]) -> str:
    return "<pre>" + escape("\n".join(lines)) + "</pre>"


def stats_html(stats: Stats) -> str:
    """/stats: paragraphs that each close their tags, so the sender can split them under Telegram's limit."""
    days = stats.per_day[-TELEGRAM_DAYS:]
    peak = max((n for _, n in days), default=0)
    top = max((n for _, n in stats.per_language), default=0)
    day_lines = [f"{day:%a %d %b} {count:>5} {bar(count, peak, TELEGRAM_BAR_WIDTH)}" for day, count in days]
    parts = [
        f"<b>Questions {stats.first_day:%d %b} – {stats.last_day:%d %b %Y} (UTC): {stats.total}</b>",
        "<b>What the bot did</b>\n" + _pre([f"{name:<15} {count:>5} {rate}" for name, count, rate in
                                            _outcome_rows(stats)]),
        "<b>Per language</b>\n" + _pre([f"{lang:<3} {count:>5} {bar(count, top, TELEGRAM_BAR_WIDTH)}"
                                        for lang, count in stats.per_language] or ["none"]),
        f"<b>Per day</b> (last {len(days)})\n" + _pre(day_lines),
    ]
    votes = stats.votes[:TELEGRAM_TOPICS]
    lines = [f"{v.topic_id[:28]:<28} {v.up:>3}👍 {v.down:>3}👎" for v in votes]
    parts.append("<b>Feedback per topic</b> (most 👎 first)\n" + _pre(lines or ["no votes"]))
    return "\n\n".join(parts)


def unanswered_html(total: int, groups: list[Group], limit: int, days: int) -> str:
    parts = [f"<b>{total} unanswered question(s) in the last {days} day(s), {len(groups)} group(s)</b>"]
    for group in groups[:limit]:
        closest = (f"closest: {escape(group.closest_topic)} ({group.closest_score:.0f})" if group.closest_topic
                   else "no close topic")
        rejected = f", {group.none_of_these} none of these" if group.none_of_these else ""
        examples = "\n".join(f"• {escape(_short(e))}" for e in group.examples[:3])
        parts.append(f"<b>{group.count}×</b> {escape(', '.join(group.languages))}{rejected} · {closest}\n{examples}")
    if len(groups) > limit:
        parts.append(f"… and {len(groups) - limit} smaller group(s): <code>lcbot unanswered</code> lists them all.")
    return "\n\n".join(parts)
