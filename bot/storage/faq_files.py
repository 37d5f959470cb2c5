"""Read and validate the FAQ folder; every problem names its file and line."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.faq import CORE_TOPICS, Faq, FaqEntry, LanguageProfile, Topic, fingerprint
from bot.core.markup import MESSAGE_LIMIT, check_html, visible_length
from bot.core.text import fold

TOPIC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_FILE = re.compile(r"^[a-z]{2,3}$")
MAX_TOPIC_ID = 40
MAX_TITLE = 40
LONG_ANSWER = 1000
SOURCE_LANGUAGE = "en"
TOPIC_KEYS = {"category", "refines", "related", "brief"}
ENTRY_KEYS = {"title", "questions", "answer", "source"}
LANGUAGE_KEYS = {"language", "name", "categories", "stopwords", "synonyms", "outside", "entries"}

if TYPE_CHECKING:
    import yaml

Path_ = tuple[str, ...]


@functools.cache
def _faq_yaml_loader() -> type[Any]:
    """The YAML loader of FAQ files, made at the first file read: PyYAML is imported only then, so a start
    that finds the FAQ index cached (bot/faq_cache.py) does without it."""
    import yaml

    class _FaqYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml: 10x faster
        """YAML 1.2 booleans: only true/false. Words like "on", "no", "yes" stay words (French "on"...)."""

    _FaqYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _FaqYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return _FaqYamlLoader


@dataclass(frozen=True, slots=True)
class Problem:
    severity: str  # "error" or "warning"
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


class FaqLoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems if p.severity == "error"))


@dataclass
class _Document:
    """A parsed YAML file with the line of every node, so errors can point at the line."""

    file: str
    data: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


class _Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, doc: _Document, path: Path_, message: str) -> None:
        self.problems.append(Problem("error", doc.file, doc.line(path), message))

    def warning(self, doc: _Document, path: Path_, message: str) -> None:
        self.problems.append(Problem("warning", doc.file, doc.line(path), message))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _parse(path: Path, report: _Report) -> _Document | None:
    import yaml

    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        report.problems.append(Problem("error", name, 1, f"not UTF-8 text ({exc.reason})"))
        return None
    try:
        loader = _faq_yaml_loader()(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        report.problems.append(Problem("error", name, line, f"YAML syntax: {exc.problem or exc}"))
        return None
    except yaml.YAMLError as exc:
        report.problems.append(Problem("error", name, 1, f"YAML syntax: {exc}"))
        return None
    doc = _Document(name, data, {})
    if node is not None:
        _walk(node, (), doc, report, (yaml.MappingNode, yaml.SequenceNode))
    return doc


def _walk(node: yaml.Node, path: Path_, doc: _Document, report: _Report,
          kinds: tuple[type[yaml.MappingNode], type[yaml.SequenceNode]]) -> None:
    """Note the line of every key and item; `kinds`: yaml's MappingNode and SequenceNode (yaml is imported
    by the parse only)."""
    # A key's own line wins over its value's: a block mapping under `how-to-join:` starts on the next line.
    doc.lines.setdefault(path, node.start_mark.line + 1)
    mapping, sequence = kinds
    if isinstance(node, mapping):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                doc.lines[(*path, key, "#dup")] = key_node.start_mark.line + 1
                report.error(doc, (*path, key, "#dup"), f"'{key}' appears twice here (duplicate key)")
            seen.add(key)
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), doc, report, kinds)
    elif isinstance(node, sequence):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), doc, report, kinds)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _read_topics(doc: _Document, report: _Report) -> tuple[tuple[str, ...], dict[str, Topic]]:
    data = doc.data
    if not isinstance(data, dict):
        report.error(doc, (), "topics.yaml must be a mapping with 'categories' and 'topics'")
        return (), {}
    categories = data.get("categories")
    if not _strings(categories):
        report.error(doc, ("categories",), "'categories' must be a list of category ids")
        categories = []
    topics_data = data.get("topics")
    if not isinstance(topics_data, dict) or not topics_data:
        report.error(doc, ("topics",), "'topics' must map each topic id to its settings")
        return tuple(categories), {}
    topics: dict[str, Topic] = {}
    for topic_id, spec in topics_data.items():
        path = ("topics", str(topic_id))
        topic_id = str(topic_id)
        if not TOPIC_ID.match(topic_id) or len(topic_id) > MAX_TOPIC_ID:
            report.error(doc, path, f"topic id '{topic_id}': use lower-case letters, digits and '-', "
                                    f"at most {MAX_TOPIC_ID} characters")
        spec = spec or {}
        if not isinstance(spec, dict):
            report.error(doc, path, f"topic '{topic_id}' must be a mapping (category, related, ...)")
            continue
        for key in set(spec) - TOPIC_KEYS:
            report.error(doc, (*path, key), f"unknown setting '{key}' (allowed: {', '.join(sorted(TOPIC_KEYS))})")
        category = spec.get("category")
        if category is not None and category not in categories:
            report.error(doc, (*path, "category"), f"category '{category}' is not in 'categories'")
        related = spec.get("related") or []
        if not isinstance(related, list):
            report.error(doc, (*path, "related"), "'related' must be a list of topic ids")
            related = []
        topics[topic_id] = Topic(topic_id, category, spec.get("refines"), tuple(map(str, related)),
                                 str(spec.get("brief") or ""))
    for topic in topics.values():
        path = ("topics", topic.id)
        for other in topic.related:
            if other not in topics:
                report.error(doc, (*path, "related"), f"related topic '{other}' does not exist")
        if topic.refines is not None:
            if topic.refines not in topics:
                report.error(doc, (*path, "refines"), f"'{topic.refines}' (refines) does not exist")
            elif topic.refines not in CORE_TOPICS:
                report.error(doc, (*path, "refines"),
                             f"'refines' must name one of the core topics, not '{topic.refines}'")
        elif topic.id not in CORE_TOPICS:
            report.error(doc, path, f"extra topic '{topic.id}' must say which core topic it refines")
    for missing in sorted(CORE_TOPICS - set(topics)):
        report.error(doc, ("topics",), f"core topic '{missing}' is missing")
    return tuple(categories), topics


def _read_language(doc: _Document, topics: dict[str, Topic], categories: tuple[str, ...],
                   report: _Report) -> tuple[LanguageProfile, list[FaqEntry]] | None:
    data = doc.data
    code = doc.file.removesuffix(".yaml")
    if not isinstance(data, dict):
        report.error(doc, (), "a language file must be a mapping (language, name, categories, entries)")
        return None
    for key in set(data) - LANGUAGE_KEYS:
        report.error(doc, (key,), f"unknown setting '{key}' (allowed: {', '.join(sorted(LANGUAGE_KEYS))})")
    if data.get("language") != code:
        report.error(doc, ("language",), f"'language' must be '{code}', the file's name")
    names = data.get("categories") or {}
    if not isinstance(names, dict):
        report.error(doc, ("categories",), "'categories' must map each category id to its name")
        names = {}
    for category in categories:
        if not isinstance(names.get(category), str) or not names[category].strip():
            report.error(doc, ("categories",), f"category '{category}' has no name in this language")
    stopwords = data.get("stopwords") or []
    if not _strings(stopwords):
        report.error(doc, ("stopwords",), "'stopwords' must be a list of words")
        stopwords = []
    synonyms = data.get("synonyms") or []
    if not isinstance(synonyms, list) or not all(_strings(group) for group in synonyms):
        report.error(doc, ("synonyms",), "'synonyms' must be a list of lists of words, e.g. [gnlc, network]")
        synonyms = []
    outside = data.get("outside") or []
    if not _strings(outside):
        report.error(doc, ("outside",), "'outside' must be a list of phrases, e.g. [creative cities network]")
        outside = []
    entries_data = data.get("entries")
    if not isinstance(entries_data, dict):
        report.error(doc, ("entries",), "'entries' must map topic ids to title, questions and answer")
        entries_data = {}
    entries = list(_read_entries(doc, code, entries_data, topics, report))
    for missing in [t for t in topics if t not in entries_data]:
        report.error(doc, ("entries",), f"missing translation: topic '{missing}' has no entry")
    profile = LanguageProfile(code, str(data.get("name") or code), dict(names), frozenset(stopwords),
                              tuple(tuple(group) for group in synonyms), tuple(outside))
    return profile, entries


def _read_entries(doc: _Document, code: str, entries: dict, topics: dict[str, Topic],
                  report: _Report) -> Iterator[FaqEntry]:
    seen_questions: dict[str, str] = {}
    for topic_id, spec in entries.items():
        path = ("entries", str(topic_id))
        if topic_id not in topics:
            report.error(doc, path, f"topic '{topic_id}' is not in topics.yaml")
            continue
        if not isinstance(spec, dict):
            report.error(doc, path, f"entry '{topic_id}' must have title, questions and answer")
            continue
        for key in set(spec) - ENTRY_KEYS:
            report.error(doc, (*path, key), f"unknown setting '{key}' (allowed: {', '.join(sorted(ENTRY_KEYS))})")
        title, questions, answer = spec.get("title"), spec.get("questions"), spec.get("answer")
        if not isinstance(title, str) or not title.strip():
            report.error(doc, (*path, "title"), "a title (the button label) is required")
            title = topic_id
        elif len(title) > MAX_TITLE:
            report.error(doc, (*path, "title"), f"title is {len(title)} characters; at most {MAX_TITLE}")
        if not _strings(questions):
            report.error(doc, (*path, "questions"), "'questions' must be a list of at least one question")
            questions = []
        for i, question in enumerate(questions):
            key = " ".join(fold(question).split())
            other = seen_questions.get(key)
            if other is not None and other != topic_id:
                report.error(doc, (*path, "questions", str(i)),
                             f"question '{question}' is also a question of '{other}'")
            elif other == topic_id:
                report.warning(doc, (*path, "questions", str(i)), f"question '{question}' is listed twice")
            seen_questions[key] = topic_id
        if not isinstance(answer, str) or not answer.strip():
            report.error(doc, (*path, "answer"), "an answer is required")
            continue
        for problem in dict.fromkeys(check_html(answer)):
            report.error(doc, (*path, "answer"), f"answer HTML: {problem}")
        length = visible_length(answer)
        if length > MESSAGE_LIMIT:
            report.error(doc, (*path, "answer"),
                         f"answer is {length} characters; a Telegram message holds {MESSAGE_LIMIT}")
        elif length > LONG_ANSWER:
            report.warning(doc, (*path, "answer"), f"answer is {length} characters; aim for under {LONG_ANSWER}")
        source = spec.get("source")
        yield FaqEntry(str(topic_id), code, title.strip(), tuple(q.strip() for q in questions),
                       answer.strip(), str(source) if source is not None else None)


def _check_sources(docs: dict[str, _Document], entries: list[FaqEntry], report: _Report) -> None:
    originals = {e.id: fingerprint(e.answer) for e in entries if e.lang == SOURCE_LANGUAGE}
    for entry in entries:
        if entry.lang == SOURCE_LANGUAGE or entry.id not in originals:
            continue
        doc = docs[entry.lang]
        path = ("entries", entry.id, "source")
        if entry.source is None:
            report.warning(doc, ("entries", entry.id), f"'{entry.id}' has no source fingerprint; "
                                                       "run `lcbot faq stamp` once it is up to date")
        elif entry.source != originals[entry.id]:
            report.warning(doc, path, f"'{entry.id}' is older than its English source; update the "
                                      "translation, then run `lcbot faq stamp`")


def load_faq(directory: Path) -> tuple[Faq | None, list[Problem]]:
    """The FAQ in `directory` and every problem found; the FAQ is None when there is an error."""
    report = _Report()
    if not directory.is_dir():
        return None, [Problem("error", str(directory), 1, "FAQ folder not found")]
    topics_path = directory / "topics.yaml"
    if not topics_path.is_file():
        return None, [Problem("error", "topics.yaml", 1, f"no topics.yaml in {directory}")]
    topics_doc = _parse(topics_path, report)
    categories, topics = _read_topics(topics_doc, report) if topics_doc else ((), {})
    languages: dict[str, LanguageProfile] = {}
    entries: list[FaqEntry] = []
    docs: dict[str, _Document] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "topics.yaml":
            continue
        if not LANGUAGE_FILE.match(path.stem):
            report.problems.append(Problem("error", path.name, 1, "a language file is named after its "
                                                                  "ISO 639 code, e.g. fr.yaml"))
            continue
        doc = _parse(path, report)
        if doc is None:
            continue
        docs[path.stem] = doc
        read = _read_language(doc, topics, categories, report)
        if read:
            languages[read[0].code] = read[0]
            entries.extend(read[1])
    if SOURCE_LANGUAGE not in languages and not any(p.file == "en.yaml" for p in report.problems):
        report.problems.append(Problem("error", "en.yaml", 1, "the source language file en.yaml is missing"))
    _check_sources(docs, entries, report)
    if report.has_errors:
        return None, report.problems
    ordered = {lang: languages[lang] for lang in sorted(languages, key=lambda c: (c != SOURCE_LANGUAGE, c))}
    faq = Faq(topics=topics, categories=categories, languages=ordered,
              entries={(e.id, e.lang): e for e in entries}, source_language=SOURCE_LANGUAGE)
    return faq, report.problems


def read_faq(directory: Path) -> Faq:
    """The FAQ in `directory`; raises FaqLoadError listing every error."""
    faq, problems = load_faq(directory)
    if faq is None:
        raise FaqLoadError(problems)
    return faq


def stamp_sources(directory: Path) -> list[str]:
    """Record the English answer's fingerprint beside each translation; returns the files changed.

    Edits only the `source:` lines, so comments and layout stay as staff wrote them.
    """
    faq = read_faq(directory)
    changed: list[str] = []
    for code in faq.languages:
        if code == SOURCE_LANGUAGE:
            continue
        path = directory / f"{code}.yaml"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        new_lines = _stamped(lines, {e.id: fingerprint(faq.entry(e.id, SOURCE_LANGUAGE).answer)
                                     for e in faq.entries_in(code)})
        if new_lines != lines:
            path.write_text("".join(new_lines), encoding="utf-8")
            changed.append(path.name)
    return changed


def _stamped(lines: list[str], prints: dict[str, str]) -> list[str]:
    out: list[str] = []
    current: str | None = None
    indent = ""
    entry_line = re.compile(r"^(\s{2})([a-z0-9-]+):\s*$")
    for line in lines:
        match = entry_line.match(line)
        if match and match.group(2) in prints:
            _finish(out, current, prints, indent)
            current, indent = match.group(2), match.group(1) * 2
            out.append(line)
            continue
        if current and re.match(rf"^{indent}source:", line):
            continue  # rewritten when the entry ends
        if current and line.strip() and not line.startswith(indent) and not line.startswith(" " * 3):
            _finish(out, current, prints, indent)
            current = None
        out.append(line)
    _finish(out, current, prints, indent)
    return out


def _finish(out: list[str], current: str | None, prints: dict[str, str], indent: str) -> None:
    if current is None:
        return
    trailing: list[str] = []
    while out and not out[-1].strip():
        trailing.insert(0, out.pop())
    out.append(f"{indent}source: {prints[current]}\n")
    out.extend(trailing)
