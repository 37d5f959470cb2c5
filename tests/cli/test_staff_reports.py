"""`lcbot stats` and `lcbot unanswered [--proposals]`, run as staff run them, on a database filled through Store."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.core.ports import LoggedQuestion
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.repositories import Store
from tests.cli.test_cli import clean_env, lcbot


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


async def fill(database_url: str) -> None:
    """A few days of questions and votes, as the bot would have logged them."""
    await upgrade(database_url)
    database = Database(database_url)
    try:
        store = Store(database)
        questions = store.questions
        for text, lang, outcome, topic in [
            ("What is a learning city?", "en", "answer", "what-is-a-learning-city"),
            ("Qu'est-ce qu'une ville apprenante ?", "fr", "answer", "what-is-a-learning-city"),
            ("how much does membership cost", "en", "fallback", None),
            ("how much does membership costs??", "en", "fallback", None),
            ("Can I bring my dog to the conference?", "en", "fallback", None),
        ]:
            await questions.record(LoggedQuestion(text, lang, outcome, topic, 50))
        picked = await questions.record(LoggedQuestion("how do towns sign up", "en", "suggest", "how-to-join", 45))
        await questions.record_choice(picked, "how-to-join")
        turned_down = await questions.record(LoggedQuestion("membership price list", "en", "suggest", None, 40))
        await questions.record_rejection(turned_down)
        await store.feedback.record(1, "how-to-join", "en", False)
        await store.feedback.record(2, "how-to-join", "en", True)
        await store.feedback.record(2, "contact", "fr", True)
    finally:
        await database.close()


async def run(database_url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(LCBOT_DATABASE_URL=database_url)
    result = await asyncio.to_thread(lcbot, *args, cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr
    return result


async def test_stats_prints_counts_rates_and_votes_as_tables_with_bars(database_url: str, workdir: Path) -> None:
    await fill(database_url)
    out = (await run(database_url, workdir, "stats", "--days", "7")).stdout
    assert "Questions asked" in out and ": 7" in out.splitlines()[0]
    for title in ("Questions per day", "Questions per language", "What the bot did", "Feedback per topic"):
        assert title in out
    assert "█" in out
    language_rows = [line for line in out.splitlines() if line.startswith(("│ en ", "│ fr "))]
    assert [row.split("│")[2].strip() for row in language_rows] == ["6", "1"]
    assert any("how-to-join" in line and "50%" in line for line in out.splitlines())


async def test_unanswered_groups_similar_questions_and_proposes_picked_suggestions_as_yaml(
        database_url: str, workdir: Path) -> None:
    await fill(database_url)
    report, proposals = await asyncio.gather(run(database_url, workdir, "unanswered", "--days", "30", "--limit", "5"),
                                             run(database_url, workdir, "unanswered", "--proposals"))
    out = report.stdout
    assert "4 unanswered question(s)" in out and "3 group(s)" in out
    rows = [line for line in out.splitlines() if line.startswith("│ 1 ")]
    assert rows and "│ 2 " in rows[0] and "membership-fee" in rows[0]  # most asked group first, closest topic
    assert "how much does membership cost" in out and "dog" in out

    snippet = proposals.stdout
    assert "# ===== faq/en.yaml =====" in snippet and "# entries > how-to-join > questions:" in snippet
    assert yaml.safe_load(snippet) == ["how do towns sign up"]
