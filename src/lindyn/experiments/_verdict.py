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
:math:`z` the critical value (3 for a single comparison; raised for many, below),
:math:`r = 10^{-3}` the resolution of a comparison (integration tolerances
of the simulation; a gap below 0.1 % of the curve's scale is not resolved) and
:math:`\varsigma` the documented relative gap of an approximate theory
(:attr:`lindyn.Experiment.systematic`). The tolerance is at least :math:`10^{-9}` of the
largest theory value of the run (:data:`ROUNDING`), so that a quantity the theory conserves
exactly (``saxe``'s imbalance, 0) is not judged against a simulation's rounding (1e-18).

A verdict looks at the largest of many gaps (every point of every variable, and of every run
of a figure), and with few seeds each gap is a Student :math:`t`, not a normal variable: with
:math:`z = 3` on every point, three seeds of an exact theory disagreed in 2.5 % of smooth
curves and a figure of three runs with fifty independent points each would cry wolf a third of
the time. So :math:`z` is the value the largest of :math:`m` gaps crosses by chance with
probability 1 % (:data:`FALSE_ALARM`; :func:`critical_value`), with :math:`m` the number of
independent comparisons: per curve, :func:`effective_points` (seed noise is correlated along
the axis, so a curve is worth far fewer comparisons than points), summed over variables and
over the runs of a figure; the degrees of freedom of the :math:`t` are :math:`n - 1` per
independent stretch of noise inside the pooling window (white noise pools many); each
variable's critical value uses its own. The price is power at few seeds: a verdict sharp
enough to cite needs more than three (three seeds and eight comparisons allow 13 calibrated
errors).

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
from scipy import stats

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
    "critical_value",
    "effective_points",
]

# a sweep store keeps a point's verdict as its index here (lindyn.sweep.run_point): append only
VERDICTS = ("agree", "disagree", "outside_validity", "inconclusive")
ORDER = ("disagree", "outside_validity", "inconclusive", "agree")  # worst first
RESOLUTION = 1e-3  # relative gap below which a comparison is not resolved
ROUNDING = 1e-9  # of the run's largest theory value: a gap below it is rounding
MIN_SEEDS = 3  # two seeds' spread is one chi(1) draw: 8 % of the time below a tenth of the truth
CRITICAL = 3.0  # least gap allowed, in combined (calibrated) standard errors
FALSE_ALARM = 0.01  # a verdict's chance to say disagree when the theory is exact
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


def effective_points(sim: xr.DataArray, axis: str) -> float:
    r"""How many independent comparisons the seeds' noise makes along ``axis``:
    :math:`N(1 - r)/(1 + r)` (the AR(1) count, between 1 and :math:`N`), with :math:`r` the
    lag-1 correlation of the seeds' standardized deviations from their mean, times the number
    of curves (entries of any other dims, e.g. modes). Curves whose seeds run parallel
    (:math:`r \to 1`) are one comparison, not :math:`N`.

    Example:
        >>> t = np.arange(50.0)
        >>> shift = xr.DataArray(np.outer([1.0, -1.0, 0.5], np.ones(50)), dims=("seed", "t"))
        >>> effective_points(shift, "t")
        1.0
        >>> rng = np.random.default_rng(0)
        >>> white = xr.DataArray(rng.normal(size=(4, 400)), dims=("seed", "t"))
        >>> 300 < effective_points(white, "t") <= 400
        True
    """
    dev = (sim - sim.mean("seed")).transpose("seed", axis, ...).values
    curves = int(np.prod(dev.shape[2:], dtype=int))  # other dims (modes, ...): one curve each
    dev = dev.reshape(dev.shape[0], dev.shape[1], curves)
    n = dev.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = dev / np.sqrt(np.mean(dev**2, axis=0))
    z = np.where(np.isfinite(z), z, 0.0)
    den = float(np.sum(z**2))
    if n < 2 or den == 0:
        return float(curves)
    r = min(max(float(np.sum(z[:, 1:] * z[:, :-1])) / den, 0.0), 1.0)
    return curves * float(min(max(n * (1 - r) / (1 + r), 1.0), n))


def critical_value(comparisons: float, seeds: int, dof: float | None = None) -> float:
    r"""The gap allowed, in calibrated standard errors of ``seeds`` seeds, so that the largest
    of ``comparisons`` independent gaps crosses it by chance with probability
    :data:`FALSE_ALARM` (Šidák over :math:`m` comparisons, each a Student :math:`t` with
    ``dof`` degrees of freedom, :math:`n - 1` by default: :math:`t_{\nu}^{-1}(1 - p/2m)`
    divided by the calibration factor of :func:`lindyn._stats.calibrated_error`), and at least
    :data:`CRITICAL`. Few seeds have heavy tails: three seeds need 4.5 calibrated errors for a
    single comparison, sixteen 3.

    Example:
        >>> [round(critical_value(1, n), 2) for n in (3, 4, 16)]
        [4.52, 3.6, 3.0]
        >>> round(critical_value(100, 16), 2), round(critical_value(100, 3, dof=60), 2)
        (4.82, 3.0)
    """
    m = max(float(comparisons), 1.0)
    nu = max(float(seeds - 1 if dof is None else dof), 1.0)
    calibration = float(stats.t.ppf(0.975, max(seeds - 1, 1)) / stats.norm.ppf(0.975))
    return max(CRITICAL, float(stats.t.isf(FALSE_ALARM / (2 * m), nu)) / calibration)


def _noise(sim: xr.DataArray, axis: str, window: int) -> tuple[float, float]:
    """The independent comparisons of a variable (:func:`effective_points`) and the degrees
    of freedom of its pooled error: :math:`n - 1` per independent stretch of the seeds' noise
    inside the pooling window (white noise pools many, parallel curves one)."""
    m = effective_points(sim, axis)
    n, points = sim.sizes["seed"], sim.sizes[axis]
    per_curve = m / max(
        int(np.prod([sim.sizes[d] for d in sim.dims if d not in ("seed", axis)])), 1
    )
    independent = min(max(window * per_curve / points, 1.0), float(window))
    return m, (n - 1) * independent


def _tolerance(
    sim: xr.DataArray,
    theory: xr.Dataset,
    v: str,
    relative: float,
    floor: float,
    critical: float,
) -> tuple[xr.DataArray, xr.DataArray]:
    """The gap of the seed mean to the theory and its allowed size (module docstring), at
    least ``floor``."""
    tau = theory[v]
    axis = main_axis(theory)
    window = _window(sim, axis)
    err = calibrated_error(sim, "seed")
    pooled = err.rolling({axis: window}, center=True, min_periods=1).max()
    err_sim = np.maximum(pooled, _typical_spread(sim, err))
    err_theory = theory[v + ERROR_SUFFIX] if v + ERROR_SUFFIX in theory else xr.zeros_like(tau)
    scale = float(np.max(np.abs(tau.values))) if tau.size else 0.0
    allowed = critical * np.sqrt(err_sim**2 + err_theory**2) + relative * scale
    allowed = np.maximum(allowed, max(floor, np.finfo(np.float64).tiny))
    return sim.mean("seed") - tau, allowed


def _window(sim: xr.DataArray, axis: str) -> int:
    """The pooling window of the seeds' error: about ±5 % of the axis."""
    return 2 * max(1, sim.sizes[axis] // 20) + 1


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
    family: int = 1,
) -> Verdict:
    """The verdict of ``sim`` against ``theory`` (module docstring) over ``variables``
    (default: :func:`observables` of the theory), one of ``family`` verdicts drawn together
    (a figure's runs): the critical value covers the largest gap of all their comparisons.

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
    noise = {v: _noise(sim[v], axis, _window(sim[v], axis)) for v in names}
    comparisons = family * sum(m for m, _ in noise.values())
    worst: tuple[float, str, str, float, float, float] | None = None  # ratio, v, where, ...
    outside: list[str] = []
    for v in names:
        critical = critical_value(comparisons, seeds, noise[v][1])
        gap, allowed = _tolerance(sim[v], theory, v, relative, floor, critical)
        ratio = (np.abs(gap) / allowed).where(np.isfinite(theory[v]), np.inf)
        bad_outside = (ratio > 1) & ~valid
        if bool(bad_outside.any()):
            outside.append(v)
        where, value, index = _where(ratio.where(valid, 0.0))
        if worst is None or value > worst[0]:
            gap_, allowed_ = float(gap.values[index]), float(allowed.values[index])
            worst = (value, v, where, gap_, allowed_, critical)
    assert worst is not None, "no variable to compare"
    ratio, v, where, gap, allowed, critical = worst
    budget = (
        f"{critical:.3g} calibrated s.e. of {seeds} seeds ⊕ the theory's error"
        f" + {100 * relative:.3g} % of the scale; {comparisons:.3g} independent comparisons"
    )
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
