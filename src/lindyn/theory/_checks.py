"""Argument checks shared by the theory functions: one-line errors naming the argument."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Check", "validate"]

Check = tuple[str, object, bool, str]
"""``(name, value, ok, allowed)``: e.g. ``("alpha", alpha, alpha > 0, "> 0")``."""


def validate(checks: Iterable[Check]) -> None:
    """Raise ``ValueError("name: must be <allowed>, got <value>")`` for the first failed check.

    Example:
        >>> validate([("alpha", -1.0, -1.0 > 0, "> 0")])
        Traceback (most recent call last):
        ...
        ValueError: alpha: must be > 0, got -1.0
    """
    for name, value, ok, allowed in checks:
        if not ok:
            raise ValueError(f"{name}: must be {allowed}, got {value!r}")
