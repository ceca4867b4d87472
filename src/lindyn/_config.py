"""Immutable, validated configurations.

Every experiment's ``Config`` is a frozen dataclass whose fields are declared with
:func:`param`, which records the allowed range or choices next to the default. Validation
happens on construction (``__post_init__``), so an invalid configuration cannot exist; the
error is one line naming the field and its allowed range, which the CLI prints as is.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Mapping
from typing import Any, Self

__all__ = ["ConfigError", "ConfigBase", "param"]

_TYPES = (bool, int, float, str)


class ConfigError(ValueError):
    """An invalid configuration value; the message is one line naming the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def param(
    default: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: tuple[Any, ...] | None = None,
    help: str = "",
) -> Any:
    """A config field with its allowed range (``gt``/``ge``/``lt``/``le``) or ``choices``."""
    meta = {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices, "help": help}
    return dataclasses.field(default=default, metadata=meta)


def _describe_range(meta: Mapping[str, Any]) -> str:
    if meta.get("choices") is not None:
        return "one of " + ", ".join(str(c) for c in meta["choices"])
    lo = "(" + str(meta["gt"]) if meta["gt"] is not None else None
    lo = lo or ("[" + str(meta["ge"]) if meta["ge"] is not None else "(-inf")
    hi = str(meta["lt"]) + ")" if meta["lt"] is not None else None
    hi = hi or (str(meta["le"]) + "]" if meta["le"] is not None else "inf)")
    return f"in {lo}, {hi}"


def _in_range(value: float, meta: Mapping[str, Any]) -> bool:
    checks = (
        (meta["gt"], lambda b: value > b),
        (meta["ge"], lambda b: value >= b),
        (meta["lt"], lambda b: value < b),
        (meta["le"], lambda b: value <= b),
    )
    return all(bound is None or ok(bound) for bound, ok in checks)


def _coerce(name: str, value: Any, kind: type) -> Any:
    """Check ``value`` against the field type; ints are accepted for float fields."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(name, f"must be of type {kind.__name__}, got {value!r}")
    return value


def _parse(name: str, text: str, kind: type) -> Any:
    """Parse a command-line string into the field type."""
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "yes")
        if kind is int:
            number = float(text)  # accepts "1e3"; "2.5" is refused below
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(text)
    except ValueError:
        raise ConfigError(name, f"must be of type {kind.__name__}, got {text!r}") from None
    return text


class ConfigBase:
    """Mixin for frozen dataclass configs: type and range validation, parsing, export.

    Subclasses are ``@dataclasses.dataclass(frozen=True)`` and may override :meth:`check`
    for constraints that involve several fields (raise :class:`ConfigError` there).
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            kind = hints[f.name]
            if kind not in _TYPES:
                continue
            value = _coerce(f.name, getattr(self, f.name), kind)
            object.__setattr__(self, f.name, value)
            self._check_field(f, value)
        self.check()

    def _check_field(self, f: dataclasses.Field, value: Any) -> None:
        meta = f.metadata
        if not meta:
            return
        if meta.get("choices") is not None:
            if value not in meta["choices"]:
                raise ConfigError(f.name, f"must be {_describe_range(meta)}, got {value!r}")
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(
                    f.name, f"must be finite and {_describe_range(meta)}, got {value}"
                )
            if not _in_range(value, meta):
                raise ConfigError(f.name, f"must be {_describe_range(meta)}, got {value!r}")

    def check(self) -> None:
        """Cross-field constraints; override in subclasses."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Field name -> 'type, allowed range: help' (for ``lindyn list`` and errors)."""
        hints = typing.get_type_hints(cls)
        out = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            rng = _describe_range(f.metadata) if f.metadata else "any"
            out[f.name] = f"{hints[f.name].__name__} {rng}: {f.metadata.get('help', '')}"
        return out

    def replace_from_strings(self, items: Mapping[str, str]) -> Self:
        """A copy with fields set from ``key -> text`` pairs, parsed by the field types.

        Raises:
            ConfigError: unknown key, unparsable text or out-of-range value.
        """
        hints = typing.get_type_hints(type(self))
        names = self.field_names()
        values = {}
        for key, text in items.items():
            if key not in names:
                raise ConfigError(key, f"unknown key; allowed keys: {', '.join(names)}")
            values[key] = _parse(key, text, hints[key])
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def replace(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` (unknown keys raise :class:`ConfigError`)."""
        for key in changes:
            if key not in self.field_names():
                raise ConfigError(
                    key, f"unknown key; allowed keys: {', '.join(self.field_names())}"
                )
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
