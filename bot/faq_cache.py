"""The built FAQ index kept on disk between starts, so a restart is ready in a fraction of the build time.

Building the index (reading the YAML, folding and stemming every question variant) takes most of a
second; unpickling it takes a fifth of that. An entry is used only when everything it was built from is
byte-identical: the FAQ files, the source of the code that builds and uses it, and the library versions.
Anything else (a missing or unreadable folder, a corrupt file, an unpicklable index) falls back to
building, silently: the cache can make a start faster, never wrong.

A serving process that finds no index for its files (the first start after a FAQ or code change) has
it built by a helper process on another CPU (`build_in_background`) while it imports its Telegram,
database and web layers, then reads it from the folder: the build no longer adds to the time to ready.

The folder holds pickles, which run code when loaded: it must be writable by the bot's user only
(the default, ~/.cache/lcbot, is). LCBOT_CACHE_DIR=off disables it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from bot.core.answering import Answerer

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
# The code an index depends on: changing any of it changes the key.
SOURCES = ("core/*.py", "storage/faq_files.py", "faq_library.py", "faq_cache.py")
LIBRARIES = ("rapidfuzz", "numpy", "snowballstemmer", "PyStemmer", "PyYAML")
KEEP = 4  # index files kept (one per recent FAQ version)
BUILD_WAIT_S = 60.0  # how long a start waits for the helper building its index before building it itself

# The helper building the index for a key, started by `build_in_background` and awaited by `load`.
_builder: tuple[str, subprocess.Popen[bytes]] | None = None


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lcbot"


def cache_dir_for(setting: str | None) -> Path | None:
    """The folder LCBOT_CACHE_DIR names: ~/.cache/lcbot when unset, None when "off"."""
    if setting is None:
        return default_cache_dir()
    return None if setting.strip().lower() in ("", "off", "none", "0") else Path(setting)


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
    _await_builder(key)
    if key is None:
        return None, None
    path = cache_dir / f"faq-index-{key}.pickle"
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
    with contextlib.suppress(OSError):  # recently used: kept when older entries are removed (a read-only
        os.utime(path)                  # folder still serves its entries)
    return key, answerer


def build_in_background(cache_dir: Path | None, directory: Path, default_language: str) -> bool:
    """Start building the index in a helper process when none is cached for these files; whether one was
    started. `load` waits for it (the same files and code) or stops it (the files changed meanwhile).

    Only with a writable cache folder and a second CPU: on one CPU the helper's own imports would make
    the start slower, not faster. The helper says nothing; should it fail, the start builds the index
    itself and reports what is wrong with the FAQ as it always did."""
    global _builder
    if cache_dir is None or _builder is not None or _cpus() < 2:
        return False
    key = key_or_none(directory, default_language)
    if key is None or (cache_dir / f"faq-index-{key}.pickle").exists():
        return False
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(cache_dir, os.W_OK):
            return False
        # The same interpreter and the same `bot` package as this process, whatever its sys.path.
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PACKAGE.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
        process = subprocess.Popen(
            [sys.executable, "-c", "from bot.faq_cache import build_main; build_main()",
             str(cache_dir), str(directory), default_language],
            env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        log.info("could not start building the FAQ index in the background", exc_info=True)
        return False
    _builder = (key, process)
    return True


def build_main() -> None:
    """The helper process: `CACHE_DIR FAQ_DIR DEFAULT_LANGUAGE` in argv; exit 0 once the index is stored."""
    from bot.faq_library import FaqLibrary  # builds, then stores with save_if_unchanged

    cache_dir, directory, default_language = sys.argv[1:4]
    FaqLibrary(Path(directory), default_language, cache_dir=Path(cache_dir))


def _await_builder(key: str | None) -> None:
    """Wait for the helper building the index for `key`; stop one building for other files."""
    global _builder
    if _builder is None:
        return
    (building, process), _builder = _builder, None
    if building == key:
        try:
            process.wait(timeout=BUILD_WAIT_S)
            return
        except subprocess.TimeoutExpired:
            log.warning("the FAQ index took over %.0f s to build in the background; building it here",
                        BUILD_WAIT_S)
    process.kill()
    process.wait()


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def save_if_unchanged(cache_dir: Path, key: str, directory: Path, default_language: str,
                      answerer: Answerer) -> None:
    """Store an index built after `key` was taken, unless the files changed meanwhile (an edit saved while
    the index was being built): the key must describe exactly the files the index was built from."""
    if key_or_none(directory, default_language) == key:
        save(cache_dir, key, answerer)


def save(cache_dir: Path, key: str, answerer: Answerer) -> None:
    """Store the index (atomically: a half-written file is never read) and keep the newest few."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".faq-index-", delete=False) as handle:
            pickle.dump(answerer, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, cache_dir / f"faq-index-{key}.pickle")
        entries = sorted(cache_dir.glob("faq-index-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except Exception:
        log.info("could not store the FAQ index cache in %s; starts will build it", cache_dir, exc_info=True)
        if "handle" in locals():
            Path(handle.name).unlink(missing_ok=True)
