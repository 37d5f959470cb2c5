"""Pausing Python's cyclic garbage collector while long-lived objects are made.

Imports and the FAQ index create a few hundred thousand objects that live as long as the process and are
never garbage; the collector would walk them over and over while they are created, and in every full
collection afterwards. Kept free of lcbot's other modules, so that the entry point can use it before
importing them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector paused meanwhile (a quarter of the index build, two thirds of its unpickling).
    Process-wide, so nested or concurrent uses (a reload in the watcher's thread) leave it as they found it
    once the last one ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def imports_frozen() -> Iterator[None]:
    """The collector paused while modules are imported, then what they created frozen (left out of later
    collections): it lives as long as the process, so walking it, then or later, only costs time (a tenth
    of the start-up)."""
    with collector_paused():
        yield
        gc.freeze()
