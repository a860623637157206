"""Texts a process renders once and reuses: the site's chrome (``core/templatetags/chrome.py``) and the help link
(``help/templatetags/help_tags.py``), each kept per everything its text depends on.

A ``Kept`` holds at most ``size`` entries (a few kilobytes each) and then starts again: no eviction order to keep
up, and a key that is needed again is rendered again. Safe to share between a process's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class Kept(Generic[V]):
    """A bounded per-process store of rendered texts, cleared when full."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: dict[Hashable, V] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        return self._items.get(key)

    def keep(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` (clearing everything first when full) and return it."""
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._items))
