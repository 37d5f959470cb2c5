"""The built FAQ index kept on disk between starts, so a restart is ready in a fraction of the build time.

Building the index (reading the YAML, folding and stemming every question variant) takes most of a
second; unpickling it takes a fifth of that. An entry is used only when everything it was built from is
byte-identical: the FAQ files, the source of the code that builds and uses it, and the library versions.
Anything else (a missing or unreadable folder, a corrupt file, an unpicklable index) falls back to
building, silently: the cache can make a start faster, never wrong.

The folder holds pickles, which run code when loaded: it must be writable by the bot's user only
(the default, ~/.cache/lcbot, is). LCBOT_CACHE_DIR=off disables it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import sys
from importlib import metadata
from pathlib import Path

from bot import cache_folder
from bot.core.answering import Answerer

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
# The code and data an index depends on: changing any of it changes the key.
SOURCES = ("core/*.py", "core/*.txt", "storage/faq_files.py", "faq_library.py", "faq_cache.py")
LIBRARIES = ("rapidfuzz", "numpy", "snowballstemmer", "PyStemmer", "PyYAML")
KEEP = 4  # index files kept (one per recent FAQ version)
INDEX_FILE = "faq-index-{}.pickle"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lcbot"


@functools.cache
def _library_versions() -> str:
    """The Python and library versions in the key, looked up once per process (a few milliseconds each)."""
    versions = [sys.version]
    for name in LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=none")
    return "|".join(versions)


def cache_key(directory: Path, default_language: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_library_versions()}|{default_language}".encode())
    sources = sorted(path for pattern in SOURCES for path in PACKAGE.glob(pattern))
    faq_files = sorted(path for path in directory.iterdir() if path.is_file())
    for path in (*sources, *faq_files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:40]


def key_or_none(directory: Path, default_language: str) -> str | None:
    try:
        return cache_key(directory, default_language)
    except OSError:
        return None


def load(cache_dir: Path, directory: Path, default_language: str) -> tuple[str | None, Answerer | None]:
    """(key, cached index); the index is None when there is none for exactly these files and code.

    Take the key before reading the files to build an index, and store it with `save_if_unchanged`."""
    key = key_or_none(directory, default_language)
    if key is None:
        return None, None
    path = cache_dir / INDEX_FILE.format(key)
    try:
        with path.open("rb") as handle:
            answerer = pickle.load(handle)
    except FileNotFoundError:
        return key, None
    except Exception:
        log.info("ignoring an unreadable FAQ index cache %s", path, exc_info=True)
        return key, None
    if not isinstance(answerer, Answerer):
        return key, None
    cache_folder.used(path)
    return key, answerer


def save_if_unchanged(cache_dir: Path, key: str, directory: Path, default_language: str,
                      answerer: Answerer) -> None:
    """Store an index built after `key` was taken, unless the files changed meanwhile (an edit saved while
    the index was being built): the key must describe exactly the files the index was built from."""
    if key_or_none(directory, default_language) == key:
        save(cache_dir, key, answerer)


def save(cache_dir: Path, key: str, answerer: Answerer) -> None:
    """Store the index (atomically: a half-written file is never read) and keep the newest few."""
    cache_folder.store(cache_dir, INDEX_FILE, key,
                       lambda handle: pickle.dump(answerer, handle, protocol=pickle.HIGHEST_PROTOCOL), KEEP)
