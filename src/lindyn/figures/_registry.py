"""Reproducible figures: named recipes of many runs drawn together (``lindyn reproduce NAME``)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._registry import Registry
from lindyn.experiments import Verdict
from lindyn.results import atomic_write_text, save_groups

__all__ = ["FigureResult", "FigureRecipe", "register_figure", "get_figure", "figure_names"]


@dataclasses.dataclass(frozen=True)
class FigureResult:
    """What one figure recipe produced.

    Attributes:
        name: the recipe's name.
        figure: the drawn figure.
        data: named datasets (simulation and theory of every curve), saved as netCDF groups.
        metrics: agreement numbers (gaps, fitted rates, reference values).
        caption: what the figure shows and how well theory and simulation agree.
        status: ``"ok"`` or the first failure of a run or solver.
        message: what failed, with its parameters (``"ok"`` otherwise).
        verdict: agreement of theory and simulation judged from their errors
            (:func:`lindyn.experiments.combined_verdict` of the figure's runs,
            :func:`lindyn.sweep.sweep_verdict` of its sweeps, or its own, e.g. ``dln-alpha``'s
            end points along α). Every registered figure sets it; ``None`` (the report says
            "not judged") is left for figures of one's own that do not.
    """

    name: str
    figure: Figure
    data: Mapping[str, xr.Dataset]
    metrics: Mapping[str, float]
    caption: str
    status: str = "ok"
    message: str = "ok"
    verdict: Verdict | None = None

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``figure.png``, ``data.nc`` (one group per dataset) and ``metrics.json``."""
        out = Path(out)
        metrics = {k: (float(v) if np.isfinite(v) else None) for k, v in self.metrics.items()}
        document = {"figure": self.name, "status": self.status, "message": self.message}
        document["verdict"] = self.verdict.to_dict() if self.verdict is not None else None
        text = json.dumps({**document, "caption": self.caption, "metrics": metrics}, indent=2)
        paths = {"metrics": atomic_write_text(out / "metrics.json", text + "\n")}
        if self.data:
            paths["data"] = save_groups(dict(self.data), out / "data.nc")
        tmp = out / ".figure.tmp.png"
        self.figure.savefig(tmp, dpi=110)
        paths["figure"] = tmp.replace(out / "figure.png")
        return paths


@dataclasses.dataclass(frozen=True)
class FigureRecipe:
    """A named figure: ``make(quick=..., progress=...)`` runs everything it needs and draws it.

    ``quick`` gives the small sizes of ``lindyn report --quick``; the full sizes are the
    defaults of ``lindyn reproduce NAME``. A ``resumable`` recipe (one built on a sweep) also
    takes ``workdir``, where its sweep store lives so that a re-run resumes it. A quick figure
    whose verdict is ``inconclusive`` says in its caption that it is an illustration and
    that its claim is judged at full size, so that no quick caption reads as a finding its
    seeds cannot carry.
    """

    name: str
    summary: str
    make: Callable[..., FigureResult]
    resumable: bool = False

    def __call__(
        self, *, quick: bool = False, progress: Any = None, workdir: Path | None = None
    ) -> FigureResult:
        extra = {"workdir": workdir} if self.resumable and workdir is not None else {}
        result = self.make(quick=quick, progress=progress, **extra)
        if quick and result.verdict is not None and result.verdict.value == "inconclusive":
            note = (
                f" Quick size: an illustration, not a finding (verdict inconclusive: "
                f"{result.verdict.why}); the claim is judged at full size, "
                f"lindyn reproduce {self.name}."
            )
            result = dataclasses.replace(result, caption=result.caption + note)
        return result


_FIGURES = Registry[FigureRecipe]("figure")


def register_figure(recipe: FigureRecipe) -> FigureRecipe:
    """Add a figure recipe (its name must be new)."""
    return _FIGURES.add(recipe.name, recipe)


def get_figure(name: str) -> FigureRecipe:
    """The registered recipe ``name``; :class:`ConfigError` lists the known ones otherwise."""
    return _FIGURES.get(name)


def figure_names() -> tuple[str, ...]:
    """Registered figure names, sorted."""
    return _FIGURES.names()
