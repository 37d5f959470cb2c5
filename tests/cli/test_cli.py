"""The real `lcbot` command, run as staff and scripts run it: from a folder that is not the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.config import bundled
from bot.core.faq import CORE_TOPICS
from bot.core.markup import to_plain
from bot.storage.faq_files import read_faq

BIN = Path(sys.executable).parent
LCBOT = BIN / "lcbot"
PROJECT = Path(__file__).resolve().parents[2]
PRODUCT_LANGUAGES = {"en", "fr", "es", "ar", "zh", "ru", "de", "pt"}
RESULT_KEYS = {"kind", "faq_id", "lang", "score", "suggestions", "text"}


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any lcbot setting or bot token, plus `extra`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("LCBOT_") and key != "TELEGRAM_BOT_TOKEN"}
    env["COLUMNS"] = "200"  # the terminal chat wraps at the terminal's width
    return env | extra


def lcbot(*args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess[str]:
    assert not (cwd / ".env").exists()
    return subprocess.run([str(LCBOT), *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          env=env or clean_env(), timeout=timeout)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_the_console_script_is_installed() -> None:
    assert LCBOT.is_file(), f"no lcbot script beside {sys.executable}"


def test_ask_json_answers_a_french_joining_question_in_french(workdir: Path) -> None:
    run = lcbot("ask", "--json", "Comment ma ville peut-elle rejoindre le réseau ?", cwd=workdir)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result) == RESULT_KEYS
    assert (result["kind"], result["faq_id"], result["lang"]) == ("answer", "how-to-join", "fr")
    expected = read_faq(bundled("faq")).entry("how-to-join", "fr").answer
    assert result["text"] == expected


def test_ask_prints_the_plain_answer_without_json(workdir: Path) -> None:
    run = lcbot("ask", "--lang", "de", "GNLC", cwd=workdir)
    assert run.returncode == 0, run.stderr
    expected = to_plain(read_faq(bundled("faq")).entry("what-is-gnlc", "de").answer)
    assert run.stdout.strip() == expected.strip()
    assert "<b>" not in run.stdout


def test_ask_jsonl_answers_every_line_in_order_and_reports_a_bad_line(workdir: Path) -> None:
    lines = [
        {"text": "Comment ma ville peut-elle rejoindre le réseau ?"},
        {"text": "GNLC", "lang": "de"},
        "{this is not json",
        {"text": "Is there a membership fee?", "lang": "pt-br"},
        {"lang": "fr"},
        {"text": "What will the weather be like tomorrow?"},
        {"text": "Что такое обучающийся город?", "lang": None},
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    run = lcbot("ask", "--jsonl", cwd=workdir, stdin=stdin + "\n")
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == len(lines), run.stdout

    good = [results[i] for i in (0, 1, 3, 5, 6)]
    for result in good:
        assert set(result) == RESULT_KEYS
        assert result["kind"] in ("answer", "suggest", "fallback")
        assert (result["faq_id"] is None) == (result["kind"] != "answer")
        assert 0 <= result["score"] <= 100
        assert len(result["suggestions"]) <= 3
        assert isinstance(result["text"], str) and result["text"]
    assert (results[0]["faq_id"], results[0]["lang"]) == ("how-to-join", "fr")
    assert (results[1]["faq_id"], results[1]["lang"]) == ("what-is-gnlc", "de")
    assert (results[3]["faq_id"], results[3]["lang"]) == ("membership-fee", "en")
    assert results[5]["kind"] == "fallback"
    assert (results[6]["faq_id"], results[6]["lang"]) == ("what-is-a-learning-city", "ru")

    for number in (3, 5):
        error = results[number - 1]
        assert error["kind"] == "error"
        assert f"line {number}" in error["error"]
    assert run.returncode == 1  # some lines failed, though every line got its object


def test_ask_without_a_question_is_a_usage_error(workdir: Path) -> None:
    for args in (("ask", ""), ("ask",)):
        run = lcbot(*args, cwd=workdir)
        assert run.returncode == 2
        assert "question" in run.stderr
        assert "Traceback" not in run.stderr
        assert run.stdout == ""


def test_ask_with_an_unknown_language_names_the_supported_ones(workdir: Path) -> None:
    run = lcbot("ask", "--lang", "klingon", "What is a learning city?", cwd=workdir)
    assert run.returncode == 2
    assert "klingon" in run.stderr
    named = {code.strip(" .\n") for code in run.stderr.rsplit(":", 1)[-1].split(",")}
    assert named >= PRODUCT_LANGUAGES
    assert "Traceback" not in run.stderr


def test_a_missing_faq_folder_is_a_clear_error(workdir: Path) -> None:
    missing = workdir / "no-such-faq"
    run = lcbot("ask", "What is a learning city?", cwd=workdir, env=clean_env(LCBOT_FAQ_DIR=str(missing)))
    assert run.returncode == 2
    assert str(missing) in run.stderr
    assert "LCBOT_FAQ_DIR" in run.stderr
    assert "Traceback" not in run.stderr


def test_faq_check_passes_on_the_real_faq(workdir: Path) -> None:
    run = lcbot("faq", "check", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert "0 error(s)" in run.stdout


def test_faq_check_fails_on_a_broken_copy_and_names_file_and_line(workdir: Path) -> None:
    copy = workdir / "faq"
    shutil.copytree(bundled("faq"), copy)
    path = copy / "fr.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("    title:"))
    lines.insert(title + 1, '    title: "Un second titre"\n')  # a duplicate key, one line below the first
    path.write_text("".join(lines), encoding="utf-8")

    run = lcbot("faq", "check", str(copy), cwd=workdir)
    assert run.returncode == 1
    assert f"fr.yaml:{title + 2}:" in run.stderr
    assert "title" in run.stderr


def test_faq_export_lists_every_core_topic_in_every_language(workdir: Path) -> None:
    run = lcbot("faq", "export", "--json", cwd=workdir)
    assert run.returncode == 0, run.stderr
    entries = json.loads(run.stdout)["entries"]
    for entry in entries:
        assert {"id", "lang", "questions", "answer", "refines"} <= set(entry)
        assert entry["questions"] and all(isinstance(q, str) and q for q in entry["questions"])
        assert isinstance(entry["answer"], str) and entry["answer"]
        if entry["id"] in CORE_TOPICS:
            assert entry["refines"] is None, entry["id"]
        else:
            assert entry["refines"] in CORE_TOPICS, entry["id"]
    languages = {entry["lang"] for entry in entries}
    assert languages >= PRODUCT_LANGUAGES
    for lang in languages:
        assert {entry["id"] for entry in entries if entry["lang"] == lang} >= CORE_TOPICS, lang
    assert any(entry["refines"] for entry in entries), "the FAQ has extra topics refining core ones"


def test_an_export_piped_into_a_reader_that_stops_early_ends_quietly(workdir: Path) -> None:
    # `lcbot faq export --json | head -c 100`: the reader closes the pipe after a few bytes.
    with subprocess.Popen([str(LCBOT), "faq", "export", "--json"], cwd=workdir, env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as export:
        assert export.stdout is not None and export.stderr is not None
        head = export.stdout.read(100)
        export.stdout.close()
        errors = export.stderr.read().decode()
        code = export.wait(timeout=60)

    assert head.startswith(b"{")
    assert code == 141
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_run_without_a_token_explains_how_to_get_one(workdir: Path) -> None:
    run = lcbot("run", cwd=workdir, timeout=30)
    assert run.returncode != 0
    assert "BotFather" in run.stderr
    assert "lcbot chat" in run.stderr
    assert "Traceback" not in run.stderr


def test_chat_answers_a_question_typed_on_stdin_and_leaves_on_eof(workdir: Path) -> None:
    run = lcbot("chat", cwd=workdir, stdin="Comment ma ville peut-elle rejoindre le réseau ?\n")
    assert run.returncode == 0, run.stderr
    assert "answer, how-to-join, fr" in run.stdout
    title = to_plain(read_faq(bundled("faq")).entry("how-to-join", "fr").answer).splitlines()[0]
    assert title in run.stdout


def _hatchling_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import hatchling.build"], capture_output=True)
    if probe.returncode == 0:
        return True
    try:  # the build backend of pyproject.toml; pip needs it in the venv with --no-build-isolation
        install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "hatchling>=1.24"],
                                 capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return install.returncode == 0


INSTALLED_CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import bot, bot.config
from bot.cli import main
root = Path(sys.argv[1]).resolve()
faq = bot.config.bundled("faq").resolve()
assert root in Path(bot.__file__).resolve().parents, bot.__file__
assert root in faq.parents, faq
assert (faq / "topics.yaml").is_file(), faq
print(json.dumps({"faq": str(faq)}))
sys.stdout.flush()
sys.exit(main(["ask", "--json", "Comment ma ville peut-elle rejoindre le réseau ?"]))
"""


def test_the_wheel_carries_the_faq_and_catalogs_and_works_when_installed(tmp_path: Path) -> None:
    if not _hatchling_available():
        pytest.skip("hatchling (the build backend) is not installed and could not be installed")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
         str(PROJECT)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("lcbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for data in ("bot/_data/faq/en.yaml", "bot/_data/faq/topics.yaml",
                     "bot/_data/locales/fr/LC_MESSAGES/messages.po"):
            assert data in names
        site = tmp_path / "site"
        archive.extractall(site)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", INSTALLED_CHECK, str(site)], cwd=elsewhere, capture_output=True,
                         text=True, env=clean_env(), timeout=60)
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.splitlines()[:2]
    assert Path(json.loads(first)["faq"]).is_relative_to(site.resolve())
    result = json.loads(second)
    assert (result["kind"], result["faq_id"], result["lang"]) == ("answer", "how-to-join", "fr")
