"""The experiment contract and the registry of experiments by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigBase
from lindyn._registry import Registry
from lindyn.experiments._verdict import Verdict, curve_verdict

__all__ = ["Experiment", "register", "get", "names"]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One paper system: a config class and the functions of the contract.

    Attributes:
        name: registry name (the CLI's ``EXPERIMENT``).
        summary: one line for ``lindyn list``.
        Config: the frozen, validated config class; ``Config()`` is the full-size default.
        simulate: ``(config, seeds) -> Dataset`` with dims ``(seed, time, ...)``.
        predict: ``config -> Dataset`` with dims ``(time, ...)``, same names and times.
        compare: ``(sim, theory) -> {metric: float}``.
        figure: ``(sim, theory) -> Figure``.
        quick: field overrides for ``--quick`` (small sizes for the demo and the report).
        seeds: default number of seeds.
        systematic: for a theory that is an approximation at finite size, ``config -> `` the
            relative gap it is known to carry there (derived in the experiment's docs); the
            contract tests allow it on top of the seeds' standard error. ``None`` for theories
            exact up to Monte-Carlo or integration error.
        phase_diagram: ``sweep dataset -> Figure``, the experiment's own drawing of a 2-D
            sweep (panels, levels, the lines its theory predicts); ``None`` for the generic
            maps of :func:`lindyn.experiments.phase_figure`.
        verdict: ``(sim, theory, config, family) -> Verdict``, the experiment's own judgement of
            agreement; ``None`` for :func:`lindyn.experiments.curve_verdict` over the
            theory's observables with the ``systematic`` allowance.
    """

    name: str
    summary: str
    Config: type[ConfigBase]
    simulate: Callable[..., xr.Dataset]
    predict: Callable[[Any], xr.Dataset]
    compare: Callable[[xr.Dataset, xr.Dataset], dict[str, float]]
    figure: Callable[[xr.Dataset, xr.Dataset], Figure]
    quick: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seeds: int = 4
    systematic: Callable[[Any], float] | None = None
    phase_diagram: Callable[[xr.Dataset], Figure] | None = None
    verdict: Callable[[xr.Dataset, xr.Dataset, Any, int], Verdict] | None = None

    def judge(self, sim: xr.Dataset, theory: xr.Dataset, config: Any, family: int = 1) -> Verdict:
        """The verdict of ``sim`` against ``theory`` (module :mod:`lindyn.experiments._verdict`),
        one of ``family`` verdicts drawn together (a figure's runs)."""
        if self.verdict is not None:
            return self.verdict(sim, theory, config, family)
        systematic = self.systematic(config) if self.systematic is not None else 0.0
        return curve_verdict(sim, theory, systematic=systematic, family=family)

    def config(self, *, quick: bool = False, **overrides: Any) -> Any:
        """The default (or quick) config with ``overrides`` applied and validated."""
        base = self.Config(**(dict(self.quick) if quick else {}))
        return base.replace(**overrides) if overrides else base


_REGISTRY = Registry[Experiment]("experiment")


def register(experiment: Experiment) -> Experiment:
    """Add an experiment to the registry (its name must be new)."""
    return _REGISTRY.add(experiment.name, experiment)


def get(name: str) -> Experiment:
    """The registered experiment ``name``.

    Raises:
        ConfigError: unknown name (the message lists the registered ones).
    """
    return _REGISTRY.get(name)


def names() -> tuple[str, ...]:
    """Registered experiment names, sorted."""
    return _REGISTRY.names()
