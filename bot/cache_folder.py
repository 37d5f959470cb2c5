"""Files kept between starts in the cache folder (LCBOT_CACHE_DIR): the FAQ index, compiled catalogs.

Each is named by a digest of what it was made from, written atomically (a half-written file is never read),
and only the newest few of each kind are kept. The cache can make a start faster, never make it fail: a
file that cannot be written is made again at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


def store(folder: Path, kind: str, key: str, write: Callable[[IO[bytes]], None], keep: int) -> None:
    """Write `<kind>-<key>` (`kind` such as "faq-index-{}.pickle": "{}" stands for the key) with `write`,
    then remove all but the `keep` most recently used files of that kind."""
    handle = None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{kind.partition('{}')[0]}", delete=False) as handle:
            write(handle)
        os.replace(handle.name, folder / kind.format(key))
        entries = sorted(folder.glob(kind.format("*")), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except Exception:  # disk full, read-only folder, an object that cannot be pickled: made again next start
        log.info("could not store %s in %s; the next start makes it again", kind.format(key), folder,
                 exc_info=True)
        if handle is not None:
            Path(handle.name).unlink(missing_ok=True)


def used(path: Path) -> None:
    """Mark a file as recently used, so that it is kept when older ones of its kind are removed (a
    read-only folder still serves its files)."""
    with contextlib.suppress(OSError):
        os.utime(path)
