"""One registry by name, for experiments and figures alike."""

from __future__ import annotations

from typing import Generic, TypeVar

from lindyn._config import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind (``kind`` names them in errors, e.g. ``"experiment"``).

    Example:
        >>> r = Registry[int]("number")
        >>> r.add("one", 1)
        1
        >>> r.get("two")
        Traceback (most recent call last):
        ...
        lindyn._config.ConfigError: number: unknown 'two'; one of one
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under a new ``name``."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry ``name``; :class:`ConfigError` naming the registered ones otherwise."""
        if name not in self._entries:
            raise ConfigError(self.kind, f"unknown {name!r}; one of {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> tuple[str, ...]:
        """Registered names, sorted."""
        return tuple(sorted(self._entries))
