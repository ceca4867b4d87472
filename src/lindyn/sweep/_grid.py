"""Sweep grids: one axis of values per config key, every point validated up front.

An axis is written ``key=v1,v2,...`` (a list) or, for a numeric key, ``key=start:stop:num``
(``numpy.linspace(start, stop, num)``); the values are parsed and checked with the config
field's type. :func:`make_grid` then builds every point's config, so an invalid point is refused
before anything is written or submitted. Every error is a one-line :class:`ConfigError` naming
the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lindyn._config import ConfigBase, ConfigError, _coerce, _parse
from lindyn.experiments import Experiment, get

__all__ = ["Grid", "make_grid", "parse_axis", "parse_grid", "parse_fixed", "describe_point"]

RESERVED = ("status", "error")  # variable names of the store; no grid key may take them
_FORMS = "expected v1,v2,... or (numeric keys) start:stop:num"


@dataclasses.dataclass(frozen=True)
class Grid:
    """A validated sweep of one experiment.

    Attributes:
        experiment: the swept experiment.
        base: its default (or quick) config, before ``fixed`` and the grid values.
        axes: key -> values, in the given order (the store's dims and coordinates).
        fixed: key -> value set at every point (the CLI's ``--set``).
        configs: every point's validated config, in C order over ``axes``.
    """

    experiment: Experiment
    base: ConfigBase
    axes: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any]
    configs: tuple[ConfigBase, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values of each axis."""
        return tuple(len(values) for values in self.axes.values())

    def index(self, flat: int) -> tuple[int, ...]:
        """The axis indices of point number ``flat`` (C order)."""
        return tuple(int(i) for i in np.unravel_index(flat, self.shape))

    def point(self, flat: int) -> dict[str, Any]:
        """Key -> value of point number ``flat``."""
        return {k: v[i] for (k, v), i in zip(self.axes.items(), self.index(flat), strict=True)}


def field_type(Config: type[ConfigBase], key: str) -> type:
    """The type of field ``key`` of ``Config``, if it can be swept (bool, int, float or str).

    Raises:
        ConfigError: unknown key, a key that is not a plain value, or a reserved name.
    """
    names = Config.field_names()
    if key not in names:
        raise ConfigError(key, f"unknown key; allowed keys: {', '.join(names)}")
    kind = typing.get_type_hints(Config)[key]
    if kind not in (bool, int, float, str):
        raise ConfigError(key, f"cannot be swept: only bool, int, float and str keys, not {kind}")
    if key in RESERVED:
        raise ConfigError(key, f"cannot be swept: {', '.join(RESERVED)} name store variables")
    return kind


def parse_axis(key: str, text: str, kind: type) -> list[Any]:
    """The values of one axis from ``v1,v2,...`` or, for int/float keys, ``start:stop:num``.

    Args:
        key: the config key (named in errors).
        text: the values as typed on the command line.
        kind: the field type (``bool``, ``int``, ``float`` or ``str``).

    Returns:
        The parsed values, in the given order.

    Raises:
        ConfigError: empty values, a malformed range, ``num < 1``, a value of the wrong type.

    Example:
        >>> parse_axis("eta", "0:1:5", float)
        [0.0, 0.25, 0.5, 0.75, 1.0]
        >>> parse_axis("n", "100,1e3", int)
        [100, 1000]
    """
    text = text.strip()
    if not text:
        raise ConfigError(key, f"no values; {_FORMS}")
    if kind in (int, float) and ":" in text:
        return _parse_range(key, text, kind)
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise ConfigError(key, f"empty value in {text!r}; {_FORMS}")
    return [_parse(key, item, kind) for item in items]


def _parse_range(key: str, text: str, kind: type) -> list[Any]:
    parts = [part.strip() for part in text.split(":")]
    if len(parts) != 3 or "," in text:
        raise ConfigError(key, f"expected one range start:stop:num, got {text!r}")
    try:
        start, stop, num = (float(part) for part in parts)
    except ValueError:
        raise ConfigError(key, f"start:stop:num must be numbers, got {text!r}") from None
    if not num.is_integer() or num < 1:
        raise ConfigError(key, f"num in start:stop:num must be an integer >= 1, got {parts[2]!r}")
    values = np.linspace(start, stop, int(num))
    if kind is float:
        return [float(v) for v in values]
    if not all(float(v).is_integer() for v in values):
        raise ConfigError(
            key, f"{text!r} gives non-integer values {values.tolist()} for an integer key"
        )
    return [int(v) for v in values]


def parse_grid(items: Iterable[str], Config: type[ConfigBase]) -> dict[str, list[Any]]:
    """Axes from command-line items ``key=v1,v2,...`` or ``key=start:stop:num``.

    Raises:
        ConfigError: a malformed item, a key given twice, an unknown key or a bad value.

    Example:
        >>> import lindyn
        >>> parse_grid(["n=100,200", "sigma=0:0.2:3"], lindyn.get("linreg").Config)
        {'n': [100, 200], 'sigma': [0.0, 0.1, 0.2]}
    """
    axes: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                "--grid", f"expected key=v1,v2,... or key=start:stop:num, got {item!r}"
            )
        if key in axes:
            raise ConfigError(key, "given twice in --grid; give each axis once")
        axes[key] = parse_axis(key, text, field_type(Config, key))
    return axes


def parse_fixed(items: Mapping[str, str], Config: type[ConfigBase]) -> dict[str, Any]:
    """Fixed values ``key -> text`` (the CLI's ``--set``) parsed with the field types.

    Example:
        >>> import lindyn
        >>> parse_fixed({"method": "gd", "n": "1e2"}, lindyn.get("linreg").Config)
        {'method': 'gd', 'n': 100}
    """
    return {key: _parse(key, text, field_type(Config, key)) for key, text in items.items()}


def _axis(key: str, values: Any, kind: type) -> tuple[Any, ...]:
    """One axis of :func:`make_grid`: values coerced to the field type, non-empty, distinct."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ConfigError(key, f"grid values must be a sequence such as [1, 2], got {values!r}")
    out = tuple(_coerce(key, _plain(v), kind) for v in values)
    if not out:
        raise ConfigError(key, "no values; give at least one")
    seen: set[Any] = set()
    for value in out:
        if value in seen:
            raise ConfigError(key, f"value {value!r} given twice; grid values must be distinct")
        seen.add(value)
    return out


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value (``np.int64(3)`` -> ``3``); anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


def describe_point(point: Mapping[str, Any]) -> str:
    """``key=value, ...`` of one grid point."""
    return ", ".join(f"{key}={value}" for key, value in point.items())


def make_grid(
    experiment: str | Experiment,
    grid: Mapping[str, Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    quick: bool = False,
) -> Grid:
    """Validate a sweep and build every point's config.

    A point's config is the experiment's default (``quick``: its quick) config with ``fixed``
    and the point's grid values applied, validated as one.

    Args:
        experiment: a registered name or an :class:`Experiment`.
        grid: key -> values; one axis per key, in this order.
        fixed: key -> value set at every point.
        quick: start from the experiment's quick config.

    Returns:
        The validated :class:`Grid`.

    Raises:
        ConfigError: an unknown experiment or key, a key both in ``grid`` and ``fixed``, empty
            or repeated values, a value of the wrong type, or an invalid point (the message
            names the point's ``key=value``).

    Example:
        >>> g = make_grid("linreg", {"n": [100, 200], "sigma": [0, 0.1]}, quick=True)
        >>> g.shape, g.configs[1].n, g.configs[1].sigma
        ((2, 2), 100, 0.1)
        >>> make_grid("linreg", {"n": [100, 0]}, quick=True)
        Traceback (most recent call last):
        ...
        lindyn._config.ConfigError: n: must be in [1, 100000], got 0 (at grid point n=0)
    """
    exp = get(experiment) if isinstance(experiment, str) else experiment
    if not grid:
        raise ConfigError("grid", "no axes; give at least one key with its values")
    fixed = {k: _coerce(k, _plain(v), field_type(exp.Config, k)) for k, v in (fixed or {}).items()}
    for key in grid:
        if key in fixed:
            raise ConfigError(key, "given both as a grid axis and as a fixed value (--set)")
    axes = {key: _axis(key, values, field_type(exp.Config, key)) for key, values in grid.items()}
    base = exp.config(quick=quick)
    configs = tuple(
        _point_config(base, fixed, dict(zip(axes, p, strict=True)))
        for p in itertools.product(*axes.values())
    )
    return Grid(exp, base, axes, fixed, configs)


def _point_config(base: ConfigBase, fixed: dict[str, Any], point: dict[str, Any]) -> ConfigBase:
    try:
        return base.replace(**fixed, **point)
    except ConfigError as e:
        message = str(e).removeprefix(f"{e.field}: ")
        raise ConfigError(e.field, f"{message} (at grid point {describe_point(point)})") from None
