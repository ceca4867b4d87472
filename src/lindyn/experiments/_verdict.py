r"""Verdicts: does the theory agree with the simulation, given both sides' errors?

A comparison is only a finding when its gap is larger than what the two sides' own errors
allow. For every compared variable and every point of the main axis (time, load, ...):

.. math::
    |\bar s - \tau| \le z\,\sqrt{e_s^2 + e_\tau^2} + \max(r, \varsigma)\,\max|\tau|,

with :math:`\bar s` the seed mean of the simulation, :math:`e_s` its calibrated standard error
(:func:`lindyn._stats.calibrated_error`), the largest within :math:`\pm` 5 % of the points
along the axis (where the curves of a few seeds cross, their spread at one point is
accidentally near zero, and the largest of many gap-to-spread ratios would find it: two seeds
of ``linreg`` disagreed with the exact theory that way) and at least the curve's median
relative spread times :math:`|\bar s|` (seeds that run close over a whole stretch),
:math:`\tau` the theory and
:math:`e_\tau` its own error estimate (the variable ``<v>_err`` of the theory dataset,
calibrated the same way; 0 where the theory gives none, i.e. closed forms exact to rounding),
:math:`z = 3`, :math:`r = 10^{-3}` the resolution of a comparison (integration tolerances
of the simulation; a gap below 0.1 % of the curve's scale is not resolved) and
:math:`\varsigma` the documented relative gap of an approximate theory
(:attr:`lindyn.Experiment.systematic`). The tolerance is at least :math:`10^{-9}` of the
largest theory value of the run (:data:`ROUNDING`), so that a quantity the theory conserves
exactly (``saxe``'s imbalance, 0) is not judged against a simulation's rounding (1e-18).

The verdict is

* ``"disagree"`` if the bound fails at a point where the theory claims to apply;
* ``"outside_validity"`` if the theory marks part of the axis as outside its domain (a boolean
  variable ``valid`` on the main axis, with the reason in ``attrs["validity"]``) and agrees
  everywhere else;
* ``"agree"`` if the bound holds everywhere;
* ``"inconclusive"`` if the simulation has fewer than three seeds (two seeds' spread is a
  single :math:`\chi_1` draw, below a tenth of the truth 8 % of the time) or non-finite
  values (it diverged).

A theory that could not reach the accuracy asked of it says so in ``attrs["accuracy_note"]``,
which the reason quotes. Each verdict carries a one-line reason naming the worst point and its
gap in units of the tolerance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
import xarray as xr

from lindyn._stats import calibrated_error
from lindyn.results import main_axis

__all__ = [
    "Verdict",
    "VERDICTS",
    "combined_verdict",
    "curve_verdict",
    "observables",
    "RESOLUTION",
    "CRITICAL",
]

VERDICTS = ("agree", "disagree", "outside_validity", "inconclusive")
ORDER = ("disagree", "outside_validity", "inconclusive", "agree")  # worst first
RESOLUTION = 1e-3  # relative gap below which a comparison is not resolved
ROUNDING = 1e-9  # of the run's largest theory value: a gap below it is rounding
MIN_SEEDS = 3  # two seeds' spread is one chi(1) draw: 8 % of the time below a tenth of the truth
CRITICAL = 3.0  # gap allowed, in combined (calibrated) standard errors
ERROR_SUFFIX = "_err"
VALID = "valid"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The verdict of one comparison: ``value`` (one of :data:`VERDICTS`) and ``why``, a
    one-line reason."""

    value: str
    why: str

    def __post_init__(self) -> None:
        if self.value not in VERDICTS:
            raise ValueError(f"value: must be one of {VERDICTS}, got {self.value!r}")

    def to_dict(self) -> dict[str, str]:
        """``{"value": ..., "why": ...}``, as in ``lindyn run --json``."""
        return {"value": self.value, "why": self.why}


def observables(theory: xr.Dataset) -> list[str]:
    """The theory's compared variables: its data variables without the companions
    ``<v>_err`` (error estimates), ``valid`` (the validity mask) and those whose
    ``attrs["role"]`` says they are not compared (``"diagnostic"``, ``"error"``,
    ``"validity"``)."""
    return [
        str(v)
        for v in theory.data_vars
        if v != VALID
        and theory[v].attrs.get("role") not in ("diagnostic", "error", "validity")
        and not (str(v).endswith(ERROR_SUFFIX) and str(v)[: -len(ERROR_SUFFIX)] in theory)
    ]


def _tolerance(
    sim: xr.DataArray, theory: xr.Dataset, v: str, relative: float, floor: float
) -> tuple[xr.DataArray, xr.DataArray]:
    """The gap of the seed mean to the theory and its allowed size (module docstring), at
    least ``floor``."""
    tau = theory[v]
    axis = main_axis(theory)
    window = 2 * max(1, sim.sizes[axis] // 20) + 1
    err = calibrated_error(sim, "seed")
    pooled = err.rolling({axis: window}, center=True, min_periods=1).max()
    err_sim = np.maximum(pooled, _typical_spread(sim, err))
    err_theory = theory[v + ERROR_SUFFIX] if v + ERROR_SUFFIX in theory else xr.zeros_like(tau)
    scale = float(np.max(np.abs(tau.values))) if tau.size else 0.0
    allowed = CRITICAL * np.sqrt(err_sim**2 + err_theory**2) + relative * scale
    allowed = np.maximum(allowed, max(floor, np.finfo(np.float64).tiny))
    return sim.mean("seed") - tau, allowed


def _typical_spread(sim: xr.DataArray, err: xr.DataArray) -> xr.DataArray:
    """The calibrated error the curve's median relative spread gives at each point: seeds
    whose curves run close over a stretch (their spread is one estimate with ``n - 1``
    degrees of freedom, correlated along the axis) do not shrink the tolerance there below
    what the rest of the curve shows."""
    mean = np.abs(sim.mean("seed"))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (err / mean).values
    finite = relative[np.isfinite(relative) & (relative > 0)]
    return mean * (float(np.median(finite)) if finite.size else 0.0)


def _where(da: xr.DataArray) -> tuple[str, float, tuple[int, ...]]:
    """The coordinates (as text), value and index of the largest entry of ``da``."""
    index = np.unravel_index(int(np.nanargmax(da.values)), da.shape)
    coords = ", ".join(
        f"{d}={_fmt(da[d].values[i]) if d in da.coords else i}"
        for d, i in zip(da.dims, index, strict=True)
    )
    return coords, float(da.values[index]), tuple(int(i) for i in index)


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float | np.floating) else str(x)


def curve_verdict(
    sim: xr.Dataset,
    theory: xr.Dataset,
    variables: Iterable[str] | None = None,
    *,
    systematic: float = 0.0,
) -> Verdict:
    """The verdict of ``sim`` against ``theory`` (module docstring) over ``variables``
    (default: :func:`observables` of the theory).

    Example:
        >>> import xarray as xr, numpy as np
        >>> t = np.arange(3.0)
        >>> th = xr.Dataset({"loss": ("time", np.exp(-t))}, coords={"time": t})
        >>> noise = np.array([[0.01], [-0.01], [0.02], [-0.02]])
        >>> sim = xr.Dataset({"loss": (("seed", "time"), np.exp(-t) + noise)}, coords={"time": t})
        >>> curve_verdict(sim, th).value, curve_verdict(sim, th * 1.5).value
        ('agree', 'disagree')
    """
    names = list(observables(theory) if variables is None else variables)
    seeds = sim.sizes.get("seed", 1)
    if seeds < MIN_SEEDS:
        return Verdict(
            "inconclusive",
            f"{seeds} seed{'s' * (seeds > 1)}: too few to estimate the simulation's spread "
            f"(at least {MIN_SEEDS})",
        )
    for v in names:
        if not np.all(np.isfinite(sim[v].values)):
            return Verdict("inconclusive", f"the simulation's {v} has non-finite values")
    axis = main_axis(theory)
    valid = theory[VALID] if VALID in theory else xr.ones_like(theory[axis], dtype=bool)
    relative = max(RESOLUTION, systematic)
    floor = ROUNDING * max(float(np.nanmax(np.abs(theory[v].values))) for v in names)
    worst: tuple[float, str, str, float, float] | None = None  # ratio, v, where, gap, allowed
    outside: list[str] = []
    for v in names:
        gap, allowed = _tolerance(sim[v], theory, v, relative, floor)
        ratio = (np.abs(gap) / allowed).where(np.isfinite(theory[v]), np.inf)
        bad_outside = (ratio > 1) & ~valid
        if bool(bad_outside.any()):
            outside.append(v)
        where, value, index = _where(ratio.where(valid, 0.0))
        if worst is None or value > worst[0]:
            worst = (value, v, where, float(gap.values[index]), float(allowed.values[index]))
    budget = (
        f"{CRITICAL:g} calibrated s.e. of {seeds} seeds ⊕ the theory's error"
        f" + {100 * relative:.3g} % of the scale"
    )
    assert worst is not None, "no variable to compare"
    ratio, v, where, gap, allowed = worst
    note = f"; {theory.attrs['accuracy_note']}" if "accuracy_note" in theory.attrs else ""
    if ratio > 1:
        return Verdict(
            "disagree",
            f"{v} at {where}: gap {gap:.3g} is {ratio:.3g}× the tolerance {allowed:.3g} "
            f"({budget}){note}",
        )
    if not bool(valid.all()):
        start = _fmt(theory[axis].values[int(np.argmin(valid.values))])
        reason = theory.attrs.get("validity", "outside the theory's domain")
        seen = f"; {', '.join(outside)} depart there" if outside else ""
        return Verdict(
            "outside_validity",
            f"agree up to {axis}={start}; from there {reason}{seen} (largest gap before it "
            f"{ratio:.2g}× the tolerance){note}",
        )
    return Verdict(
        "agree",
        f"largest gap {ratio:.2g}× the tolerance ({v} at {where}; {budget}){note}",
    )


def combined_verdict(labels: Sequence[str], verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict of a figure drawn from several runs: its worst run's (disagree, then
    outside validity, then inconclusive, then agree), with that run's label and reason and the
    count of runs that agree.

    Example:
        >>> combined_verdict(["a", "b"], [Verdict("agree", "x"), Verdict("disagree", "y")])
        Verdict(value='disagree', why='b: y (1 of 2 runs agree)')
    """
    if not verdicts:
        return Verdict("inconclusive", "no run compared")
    worst = min(range(len(verdicts)), key=lambda i: ORDER.index(verdicts[i].value))
    agree = sum(v.value == "agree" for v in verdicts)
    why = f"{labels[worst]}: {verdicts[worst].why} ({agree} of {len(verdicts)} runs agree)"
    return Verdict(verdicts[worst].value, why)
