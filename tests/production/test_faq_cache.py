"""The FAQ index cache: a restart reuses the index built from the same files, never a stale one."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

import bot.faq_library
from bot.config import bundled
from bot.core.answering import Question
from bot.faq_library import FaqLibrary

QUESTIONS = ["What is a learning city?", "كيف يمكن لمدينتي الانضمام إلى الشبكة؟", "什么是学习型城市",
             "Wie tritt man bei?"]


def _answers(library: FaqLibrary) -> list[tuple[str, str | None, float]]:
    return [(a.kind.value, a.faq_id, a.score) for a in map(library.ask, map(Question, QUESTIONS))]


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled("faq"), tmp_path / "faq"))


def test_a_restart_reuses_the_index_built_from_the_same_files(faq_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    built = FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("faq-index-*.pickle"))) == 1

    def no_build(directory: Path) -> None:
        raise AssertionError("the FAQ was read again instead of the cached index")

    monkeypatch.setattr(bot.faq_library, "load_faq", no_build)
    cached = FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")

    assert _answers(cached) == _answers(built)


def test_an_edited_faq_file_is_built_anew(faq_dir: Path, tmp_path: Path) -> None:
    FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")
    english = faq_dir / "en.yaml"
    english.write_text(english.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")

    FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")

    assert len(list((tmp_path / "cache").glob("faq-index-*.pickle"))) == 2


def test_a_corrupt_cache_file_is_ignored_and_replaced(faq_dir: Path, tmp_path: Path) -> None:
    reference = FaqLibrary(faq_dir)
    FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")
    [entry] = (tmp_path / "cache").glob("faq-index-*.pickle")
    entry.write_bytes(b"not a pickle")

    library = FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")

    assert _answers(library) == _answers(reference)
    assert entry.read_bytes() != b"not a pickle"


def test_a_reloaded_faq_is_cached_for_the_next_start(faq_dir: Path, tmp_path: Path) -> None:
    library = FaqLibrary(faq_dir, cache_dir=tmp_path / "cache")
    english = faq_dir / "en.yaml"
    english.write_text(english.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")

    assert library.reload().changed

    assert len(list((tmp_path / "cache").glob("faq-index-*.pickle"))) == 2


def test_the_collector_is_paused_while_the_index_is_built_and_restored_after(faq_dir: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real_load_faq = bot.faq_library.load_faq

    def load_faq(directory: Path):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real_load_faq(directory)

    monkeypatch.setattr(bot.faq_library, "load_faq", load_faq)
    assert gc.isenabled()
    library = FaqLibrary(faq_dir)
    library.reload()

    assert seen == [False, False]
    assert gc.isenabled()
