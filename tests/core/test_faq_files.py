"""Reading the FAQ folder: a valid folder loads, and every mistake staff can make names its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.faq import CORE_TOPICS, fingerprint
from bot.storage.faq_files import FaqLoadError, Problem, load_faq, read_faq, stamp_sources

SMALL_TALK = {"greeting", "thanks"}
CATEGORY_NAMES = {"en": {"about": "About", "help": "Help"}, "fr": {"about": "À propos", "help": "Aide"}}


def topics_spec() -> dict[str, dict[str, object]]:
    return {topic: ({} if topic in SMALL_TALK else {"category": "about"}) for topic in sorted(CORE_TOPICS)}


def entries_spec(lang: str) -> dict[str, dict[str, object]]:
    """One entry per core topic; questions and answers are different for every topic and language."""
    ask, answer = ("Tell me about", "Here is") if lang == "en" else ("Parlez-moi de", "Voici")
    return {
        topic: {
            "title": topic[:40],
            "questions": [f"{ask} {topic.replace('-', ' ')}", f"{topic} ({lang})"],
            "answer": f"<b>{topic}</b>\n{answer} the {lang} answer about {topic}.",
        }
        for topic in sorted(CORE_TOPICS)
    }


def _scalar(value: object) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def topics_yaml(topics: dict[str, dict[str, object]]) -> str:
    lines = ["# The topics of a small test FAQ.", "categories: [about, help]", "topics:"]
    for topic, spec in topics.items():
        lines.append(f"  {topic}:")
        for key, value in spec.items():
            lines.append(f"    {key}: {_scalar(value)}")
        lines.append("    related: []")
    return "\n".join(lines) + "\n"


def language_yaml(lang: str, entries: dict[str, dict[str, object]], stopwords: str = "[the, of]") -> str:
    lines = [f"language: {lang}", f"name: {lang.upper()}", "categories:"]
    lines += [f"  {category}: {_scalar(name)}" for category, name in CATEGORY_NAMES[lang].items()]
    lines += [f"stopwords: {stopwords}", "synonyms:", "  - [gnlc, network]", "entries:"]
    for topic, spec in entries.items():
        lines.append(f"  {topic}:")
        for key, value in spec.items():
            if isinstance(value, list):
                lines.append(f"    {key}:")
                lines += [f"      - {_scalar(item)}" for item in value]
            elif isinstance(value, str) and "\n" in value:
                lines.append(f"    {key}: |")
                lines += [f"      {line}" for line in value.splitlines()]
            else:
                lines.append(f"    {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def write_faq(folder: Path, *, topics: dict | None = None, en: dict | None = None, fr: dict | None = None,
              fr_stopwords: str = "[le, la, de]") -> Path:
    """A minimal valid FAQ folder (the 17 core topics in English and French), with the given parts replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.yaml").write_text(topics_yaml(topics or topics_spec()), encoding="utf-8")
    (folder / "en.yaml").write_text(language_yaml("en", en or entries_spec("en")), encoding="utf-8")
    (folder / "fr.yaml").write_text(language_yaml("fr", fr or entries_spec("fr"), fr_stopwords), encoding="utf-8")
    return folder


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """The 1-based number of the first line containing `text` (after the first line containing `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


def the_error(folder: Path) -> Problem:
    faq, problems = load_faq(folder)
    assert faq is None
    found = errors(problems)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_folder_loads(tmp_path: Path) -> None:
    faq, problems = load_faq(write_faq(tmp_path / "faq"))
    assert faq is not None
    assert errors(problems) == []
    assert set(faq.topics) == CORE_TOPICS
    assert faq.language_codes == ("en", "fr")
    entry = faq.entry("how-to-join", "fr")
    assert entry.lang == "fr"
    assert entry.questions == ("Parlez-moi de how to join", "how-to-join (fr)")
    assert faq.languages["fr"].categories["about"] == "À propos"


def test_read_faq_raises_with_every_error(tmp_path: Path) -> None:
    fr = entries_spec("fr")
    del fr["contact"], fr["uil"]
    folder = write_faq(tmp_path / "faq", fr=fr)
    with pytest.raises(FaqLoadError) as raised:
        read_faq(folder)
    assert "'contact'" in str(raised.value) and "'uil'" in str(raised.value)


def test_a_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder = write_faq(tmp_path / "faq")
    path = folder / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "contact"', 'title: Contact: us'),
                    encoding="utf-8")
    problem = the_error(folder)
    assert problem.file == "en.yaml"
    assert problem.line == line_of(path, "title: Contact: us")
    assert "YAML" in problem.message


def test_a_duplicate_topic_names_the_second_occurrence(tmp_path: Path) -> None:
    folder = write_faq(tmp_path / "faq")
    path = folder / "topics.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  contact:\n    category: help\n", encoding="utf-8")
    problem = the_error(folder)
    assert problem.file == "topics.yaml"
    assert problem.line == len(path.read_text(encoding="utf-8").splitlines()) - 1
    assert "contact" in problem.message and "twice" in problem.message


def test_an_unknown_topic_in_a_language_file_names_its_line(tmp_path: Path) -> None:
    fr = entries_spec("fr")
    fr["how-to-joint"] = fr["how-to-join"] | {"questions": ["Comment adhérer vite ?"]}
    folder = write_faq(tmp_path / "faq", fr=fr)
    problem = the_error(folder)
    assert problem.file == "fr.yaml"
    assert problem.line == line_of(folder / "fr.yaml", "  how-to-joint:")
    assert "how-to-joint" in problem.message and "topics.yaml" in problem.message


def test_a_missing_translation_names_the_language_file_and_topic(tmp_path: Path) -> None:
    fr = entries_spec("fr")
    del fr["newsletter"]
    folder = write_faq(tmp_path / "faq", fr=fr)
    problem = the_error(folder)
    assert problem.file == "fr.yaml"
    assert problem.line == line_of(folder / "fr.yaml", "entries:")
    assert "missing translation" in problem.message and "newsletter" in problem.message


def test_a_misspelt_setting_is_reported_on_its_line(tmp_path: Path) -> None:
    fr = entries_spec("fr")
    fr["contact"]["anwser"] = fr["contact"].pop("answer")
    folder = write_faq(tmp_path / "faq", fr=fr)
    faq, problems = load_faq(folder)
    assert faq is None
    typo = [problem for problem in errors(problems) if "anwser" in problem.message]
    assert len(typo) == 1
    assert typo[0].file == "fr.yaml"
    assert typo[0].line == line_of(folder / "fr.yaml", "anwser:")
    assert "answer" in typo[0].message.replace("anwser", "")  # says which names are allowed


@pytest.mark.parametrize(
    ("answer", "says"),
    [("<b>Unclosed bold", "never closed"), ("Line one<br>line two", "<br>"), ("Fees & costs", "&amp;")],
)
def test_an_answer_with_bad_html_is_reported_on_its_line(tmp_path: Path, answer: str, says: str) -> None:
    en = entries_spec("en")
    en["how-to-join"]["answer"] = answer
    folder = write_faq(tmp_path / "faq", en=en)
    problem = the_error(folder)
    assert problem.file == "en.yaml"
    assert problem.line == line_of(folder / "en.yaml", "answer:", after="  how-to-join:")
    assert says in problem.message


def test_an_answer_longer_than_a_telegram_message_is_reported(tmp_path: Path) -> None:
    en = entries_spec("en")
    en["uil"]["answer"] = "<b>UIL</b>\n" + "lifelong learning " * 250
    folder = write_faq(tmp_path / "faq", en=en)
    problem = the_error(folder)
    assert problem.file == "en.yaml"
    assert problem.line == line_of(folder / "en.yaml", "answer:", after="  uil:")
    assert "4096" in problem.message


def test_a_long_answer_that_still_fits_is_only_a_warning(tmp_path: Path) -> None:
    en = entries_spec("en")
    en["uil"]["answer"] = "lifelong learning " * 100
    faq, problems = load_faq(write_faq(tmp_path / "faq", en=en))
    assert faq is not None
    assert any(p.severity == "warning" and p.file == "en.yaml" and "characters" in p.message for p in problems)


def test_the_same_question_in_two_topics_is_reported_on_the_second(tmp_path: Path) -> None:
    fr = entries_spec("fr")
    fr["contact"]["questions"] = ["Qui contacter ?"]
    fr["uil"]["questions"] = ["Qu'est-ce que l'UIL ?", "qui CONTACTER ?"]  # the same once folded
    folder = write_faq(tmp_path / "faq", fr=fr)
    problem = the_error(folder)
    assert problem.file == "fr.yaml"
    assert problem.line == line_of(folder / "fr.yaml", '- "qui CONTACTER ?"')
    assert "contact" in problem.message


def test_an_extra_topic_refines_a_core_topic(tmp_path: Path) -> None:
    topics = topics_spec() | {"membership-fee": {"category": "about", "refines": "how-to-join"}}
    en, fr = entries_spec("en"), entries_spec("fr")
    en["membership-fee"] = {"title": "Fee", "questions": ["Is there a fee?"], "answer": "No fee is mentioned."}
    fr["membership-fee"] = {"title": "Frais", "questions": ["Y a-t-il des frais ?"], "answer": "Aucun frais."}
    faq, problems = load_faq(write_faq(tmp_path / "faq", topics=topics, en=en, fr=fr))
    assert faq is not None, errors(problems)
    assert faq.topics["membership-fee"].refines == "how-to-join"
    assert faq.answers_question_on("membership-fee", "how-to-join")
    assert not faq.answers_question_on("how-to-join", "membership-fee")


def _with_extra_topics(tmp_path: Path, extras: dict[str, dict[str, object]]) -> Path:
    en, fr = entries_spec("en"), entries_spec("fr")
    for topic in extras:
        en[topic] = {"title": topic, "questions": [f"What about {topic}?"], "answer": f"About {topic}."}
        fr[topic] = {"title": topic, "questions": [f"Et {topic} ?"], "answer": f"À propos de {topic}."}
    return write_faq(tmp_path / "faq", topics=topics_spec() | extras, en=en, fr=fr)


def test_refines_pointing_at_an_extra_topic_is_an_error(tmp_path: Path) -> None:
    folder = _with_extra_topics(tmp_path, {
        "membership-fee": {"category": "about", "refines": "how-to-join"},
        "fee-waiver": {"category": "about", "refines": "membership-fee"},
    })
    problem = the_error(folder)
    assert problem.file == "topics.yaml"
    assert problem.line == line_of(folder / "topics.yaml", "refines:", after="  fee-waiver:")
    assert "core topic" in problem.message and "membership-fee" in problem.message


def test_refines_pointing_at_no_topic_is_an_error(tmp_path: Path) -> None:
    folder = _with_extra_topics(tmp_path, {"fee-waiver": {"category": "about", "refines": "no-such-topic"}})
    problem = the_error(folder)
    assert problem.file == "topics.yaml"
    assert problem.line == line_of(folder / "topics.yaml", "refines:", after="  fee-waiver:")
    assert "no-such-topic" in problem.message


def test_an_extra_topic_without_refines_is_an_error(tmp_path: Path) -> None:
    folder = _with_extra_topics(tmp_path, {"fee-waiver": {"category": "about"}})
    problem = the_error(folder)
    assert problem.file == "topics.yaml"
    assert problem.line == line_of(folder / "topics.yaml", "  fee-waiver:")
    assert "fee-waiver" in problem.message and "refines" in problem.message


def test_a_missing_core_topic_is_an_error(tmp_path: Path) -> None:
    topics, en, fr = topics_spec(), entries_spec("en"), entries_spec("fr")
    for part in (topics, en, fr):
        del part["newsletter"]
    problem = the_error(write_faq(tmp_path / "faq", topics=topics, en=en, fr=fr))
    assert problem.file == "topics.yaml"
    assert "newsletter" in problem.message


def test_yes_no_and_on_in_stop_words_stay_words(tmp_path: Path) -> None:
    folder = write_faq(tmp_path / "faq", fr_stopwords="[le, on, no, yes, off, oui, non]")
    faq, problems = load_faq(folder)
    assert faq is not None, errors(problems)
    assert {"on", "no", "yes", "off", "oui", "non"} <= faq.languages["fr"].stopwords
    assert all(isinstance(word, str) for word in faq.languages["fr"].stopwords)


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    faq, problems = load_faq(tmp_path / "nowhere")
    assert faq is None
    assert len(problems) == 1 and "not found" in problems[0].message


def test_stamping_records_the_english_fingerprint_beside_each_translation(tmp_path: Path) -> None:
    folder = write_faq(tmp_path / "faq")
    fr_path = folder / "fr.yaml"
    fr_path.write_text("# Traduction relue par l'équipe.\n" + fr_path.read_text(encoding="utf-8"), encoding="utf-8")

    _, before = load_faq(folder)
    assert any("no source fingerprint" in p.message for p in before if p.file == "fr.yaml")

    assert stamp_sources(folder) == ["fr.yaml"]
    faq, after = load_faq(folder)
    assert faq is not None
    assert faq.entry("how-to-join", "fr").source == fingerprint(faq.entry("how-to-join", "en").answer)
    assert not any("fingerprint" in p.message or "older" in p.message for p in after)
    assert fr_path.read_text(encoding="utf-8").startswith("# Traduction relue par l'équipe.\n")
    assert stamp_sources(folder) == []  # already up to date


def test_a_changed_english_answer_makes_the_translation_older_than_its_source(tmp_path: Path) -> None:
    folder = write_faq(tmp_path / "faq")
    stamp_sources(folder)
    en = entries_spec("en")
    en["how-to-join"]["answer"] = "<b>how-to-join</b>\nThe procedure has changed: apply online."
    (folder / "en.yaml").write_text(language_yaml("en", en), encoding="utf-8")

    faq, problems = load_faq(folder)
    assert faq is not None  # a stale translation is a warning: the FAQ still serves
    stale = [p for p in problems if "older than its English source" in p.message]
    assert len(stale) == 1
    assert stale[0].severity == "warning"
    assert stale[0].file == "fr.yaml"
    assert stale[0].line == line_of(folder / "fr.yaml", "source:", after="  how-to-join:")
    assert "how-to-join" in stale[0].message
