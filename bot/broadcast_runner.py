"""Run a newsletter issue from the terminal (`lcbot broadcast`) or the bot (`/broadcast`): the shared wiring.

Which process holds an issue is written as "host:pid:nonce", so a rerun on the same host right after a
crash (or `kill -9`) takes the issue over at once instead of waiting for the dead run's lease to expire.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable

from bot.core.broadcast import Broadcast, Progress, Summary
from bot.core.delivery import BroadcastStore, Sender
from bot.core.issue import Issue, Plan
from bot.core.markup import to_plain
from bot.core.pacing import Pacer
from bot.storage.retry import retrying

STORAGE_BACKOFF = (0.2, 1.0, 3.0)  # a database that blinks mid-run costs seconds, not the run
SHOWN_IDS = 20  # subscriber ids listed in full; more are counted


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def holder_gone(holder: str) -> bool:
    """Whether the process named `holder` is known to be dead: it ran on this host and its pid is gone."""
    host, _, pid_text = holder.rpartition(":")[0].rpartition(":")
    if not pid_text.isdigit() or host != socket.gethostname():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, run by another user
        return False
    return False


def new_broadcast(issue: Issue, store: BroadcastStore, sender: Sender, *, pacer: Pacer | None = None,
                  resend_uncertain: bool = False, on_progress: Progress | None = None,
                  concurrency: int | None = None) -> Broadcast:
    options = {"concurrency": concurrency} if concurrency else {}
    return Broadcast(issue, retrying(store, STORAGE_BACKOFF), sender, runner=runner_name(), pacer=pacer,
                     resend_uncertain=resend_uncertain, holder_gone=holder_gone, on_progress=on_progress,
                     **options)


def _ids(ids: Iterable[int]) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


def describe_plan(plan: Plan) -> list[str]:
    """The dry run, in lines for staff: who would get which text, and who gets the default."""
    issue = plan.issue
    lines = [f"Issue {issue.id}: texts in {', '.join(issue.texts)}; default {issue.default}.",
             f"Would send to {plan.total} active subscriber(s); {plan.already} already settled by earlier runs."]
    for language, count in plan.to_serve.items():
        text = issue.text_language(language)
        note = "" if text == language else f" (no {language} text: gets {text}, the default)"
        lines.append(f"  {language}: {count}{note}")
    if plan.defaulted:
        lines.append(f"Getting the default text ({issue.default}): {len(plan.defaulted)}: {_ids(plan.defaulted)}")
    for language in issue.texts:
        parts = issue.parts(language)
        first = " ".join(to_plain(parts[0]).split())
        sample = first if len(first) <= 160 else first[:157] + "..."
        count = f" ({len(parts)} messages)" if len(parts) > 1 else ""
        lines.append(f"  [{language}]{count} {sample}")
    return lines


def describe(summary: Summary) -> list[str]:
    """A run's summary, in lines for staff (the terminal and the admin's Telegram chat)."""
    s = summary
    if s.busy_with is not None:
        return [f"Issue {s.issue_id} is being sent by another run ({s.busy_with}); nothing was done. "
                "Run it again once that one has finished or stopped."]
    lines = [f"Issue {s.issue_id}: sent {s.sent}, blocked {s.blocked}, failed {s.failed}, "
             f"uncertain {len(s.uncertain)}, skipped (already sent) {s.already_sent}, "
             f"skipped (no longer subscribed) {s.skipped}.",
             f"{s.messages} message(s) in {s.seconds:.1f} s ({s.messages_per_second:.1f}/s); "
             f"429 (flood control) answers honoured: {s.rate_limited}."]
    if s.requeued:
        lines.append(f"Sent again on request: {s.requeued} uncertain delivery(ies).")
    if s.uncertain:
        lines.append(f"Uncertain (in flight when a run stopped, or timed out: Telegram may or may not have "
                     f"delivered them; never resent automatically): {_ids(s.uncertain)}.")
        lines.append("To send these again anyway: lcbot broadcast FILE --resend-uncertain")
    for error, count in s.errors.most_common(5):
        lines.append(f"  {count} x {error}")
    if s.stopped_because:
        lines.append(f"Stopped: {s.stopped_because}. {s.left} subscriber(s) left: run the same command again "
                     "to continue.")
    elif s.left:
        lines.append(f"{s.left} subscriber(s) still to serve: run the same command again to continue.")
    return lines
