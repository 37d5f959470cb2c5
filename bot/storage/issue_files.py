"""Read a newsletter issue file (YAML: `id`, `default`, `text: {language: HTML}`); every problem names its line.

Values are read as the text written, never converted: `id: 2025-04-01` stays that string (plain YAML
would make it a date) and a language `no` stays "no".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from bot.core.issue import Issue, problems
from bot.storage.faq_files import Problem

KEYS = ("id", "default", "text")
Report = Callable[[int, str], None]  # (line, message)


def read_issue(path: Path, languages: Iterable[str]) -> tuple[Issue | None, list[Problem]]:
    """The issue in `path`, checked against the FAQ's `languages`; None and the problems when it is not fine."""
    name = str(path)
    found: list[Problem] = []

    def error(line: int, message: str) -> None:
        found.append(Problem("error", name, line, message))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem("error", name, 1, f"not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return None, [Problem("error", name, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [Problem("error", name, mark.line + 1 if mark else 1, f"YAML syntax: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem("error", name, 1, f"YAML syntax: {exc}")]
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        return None, [Problem("error", name, line, "expected `id:`, `default:` and `text:` (a YAML mapping)")]

    values: dict[str, yaml.Node] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key in values:
            error(line, f"'{key}' appears twice (duplicate key)")
        elif key not in KEYS:
            error(line, f"unknown key '{key}'; an issue has: {', '.join(KEYS)}")
        values[key], lines[key] = value_node, line
    for key in KEYS:
        if key not in values:
            error(1, f"missing `{key}:`" + (" (a mapping of language: HTML text)" if key == "text" else ""))
    issue_id = _scalar(values.get("id"), "id", lines, error)
    default = _scalar(values.get("default"), "default", lines, error)
    texts = _texts(values.get("text"), lines, error)
    if issue_id is None or default is None or texts is None:
        return None, found
    issue = Issue(issue_id, default.lower(), texts)  # checked even after an error above: all problems at once
    for problem in problems(issue, languages):
        where = f"text.{problem.language}" if problem.language else (problem.key or "")
        line = lines.get(where, lines.get(problem.key or "", 1))
        prefix = f"text in '{problem.language}': " if problem.language else ""
        error(line, prefix + problem.message)
    return (None if found else issue), found


def _scalar(node: yaml.Node | None, key: str, lines: dict[str, int], error: Report) -> str | None:
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        error(lines[key], f"`{key}` must be a single value, e.g. " + ("2025-04" if key == "id" else "en"))
        return None
    return str(node.value).strip()


def _texts(node: yaml.Node | None, lines: dict[str, int], error: Report) -> dict[str, str] | None:
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        error(lines["text"], "`text` must map each language to its HTML text, e.g.  en: |")
        return None
    texts: dict[str, str] = {}
    for key_node, value_node in node.value:
        language, line = str(key_node.value).strip(), key_node.start_mark.line + 1
        lines[f"text.{language}"] = line
        if language in texts:
            error(line, f"language '{language}' appears twice under `text`")
        elif not isinstance(value_node, yaml.ScalarNode):
            error(line, f"the '{language}' text must be text (use  {language}: |  and indent the lines below)")
        else:
            texts[language] = str(value_node.value).strip()
    return texts
