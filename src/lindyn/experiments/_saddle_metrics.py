r"""Plateau and jump analysis of a ``saddle`` simulation against its saddle sequence.

Per seed, the k-th jump time :math:`t_k` is the first crossing of the midpoint between plateau
losses :math:`k-1` and :math:`k` (:func:`lindyn.results.crossing_times`); plateau :math:`k` is
read at the geometric midpoint :math:`\sqrt{t_k t_{k+1}}` of its two jumps (spec
``saddle.md`` §7 D4): its loss, the numerical rank of :math:`A` and the top-:math:`k` singular
values of every layer, against :math:`C(A_k)`, :math:`k` and :math:`s_i(A_k)^{1/L}`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from lindyn.results import config_of, crossing_times, detect_plateaus

__all__ = ["saddle_metrics"]

RANK_THRESHOLD = 1e-2  # singular values above 1 % of the largest final one count


def _at(times: np.ndarray, values: np.ndarray, t: float) -> np.ndarray:
    """``values`` (time first) at time ``t``, linear in log time (``nan`` for ``t = nan``)."""
    if not np.isfinite(t):
        return np.full(values.shape[1:], np.nan)
    pos = times > 0
    x = np.log(times[pos])
    flat = values[pos].reshape(x.size, -1)
    return np.array([np.interp(np.log(t), x, col) for col in flat.T]).reshape(values.shape[1:])


def _scaled(times: np.ndarray, depth: int, sigma: float, rates: np.ndarray) -> np.ndarray:
    r""":math:`t_k\sigma^{L-2}` for :math:`L \ge 3`, :math:`t_k s_k/\ln(1/\sigma)` for :math:`L = 2`
    (spec §3.6: both tend to :math:`\sigma`-independent limits)."""
    if depth == 2:
        return times * rates / np.log(1.0 / sigma)
    return times * sigma ** (depth - 2)


def _plateau_checks(sim: xr.Dataset, theory: xr.Dataset, jumps: np.ndarray) -> dict[str, float]:
    """Loss, rank and layer-spectrum errors at the geometric midpoints between jumps.

    A plateau whose bounding jumps a seed never made is not read: it is counted in
    ``plateaus_unreached`` (and makes the errors ``nan`` if no plateau was read at all).
    """
    levels = np.asarray(theory.attrs["plateau_losses"])
    p, n = levels.size - 1, sim.sizes["mode"]
    depth = sim.sizes["layer"]
    maps = np.asarray(theory.attrs["plateau_singular_values"]).reshape(p + 1, n)
    times = sim["time"].values
    loss_err, spec_err, misses, unreached = [], [], 0, 0
    for s in range(sim.sizes["seed"]):
        one = sim.isel(seed=s)
        cut = RANK_THRESHOLD * float(one["singular_values"].values[-1].max())
        for k in range(1, p):
            t_mid = float(np.sqrt(jumps[s, k - 1] * jumps[s, k]))
            if not np.isfinite(t_mid):
                unreached += 1
                continue
            sv = _at(times, one["singular_values"].values, t_mid)
            layer_sv = _at(times, one["layer_singular_values"].values, t_mid)
            loss_err.append(abs(float(_at(times, one["train_loss"].values, t_mid)) - levels[k]))
            spec_err.append(float(np.max(np.abs(layer_sv[:, :k] - maps[k, :k] ** (1 / depth)))))
            misses += int(np.sum(sv > cut)) != k
    worst = lambda errors: max(errors) if errors else float("nan")  # noqa: E731
    return {
        "plateau_loss_error": worst(loss_err),
        "layer_spectrum_error": worst(spec_err),
        "plateau_rank_misses": float(misses),
        "plateaus_unreached": float(unreached),
    }


def _detected(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """What :func:`lindyn.results.detect_plateaus` finds, seed by seed."""
    levels = np.asarray(theory.attrs["plateau_losses"])
    counts, errors = [], [0.0]
    for s in range(sim.sizes["seed"]):
        one = sim.isel(seed=s)
        found = detect_plateaus(
            one["time"].values, one["train_loss"].values, one["singular_values"].values
        )
        counts.append(len(found))
        errors += [abs(f.value - levels[f.rank]) for f in found if 0 <= f.rank < levels.size]
    return {"plateaus_detected": float(np.mean(counts)), "detected_plateau_error": max(errors)}


def _lazy_rate(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Measured initial decay rate :math:`-\\ln(\\ell(t)/\\ell(0))/t` at the first fall by
    :math:`e^{-1}`, over the lazy rate :math:`2L(w\\sigma^2)^{L-1}` (``nan`` if it never falls)."""
    times = sim["time"].values
    rates = []
    for loss in sim["train_loss"].values:
        fell = np.flatnonzero(loss <= loss[0] / np.e)
        rates.append(
            np.nan if fell.size == 0 else -np.log(loss[fell[0]] / loss[0]) / times[fell[0]]
        )
    return {"lazy_rate_ratio": float(np.nanmean(rates) / theory.attrs["lazy_rate"])}


def saddle_metrics(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Saddle regime: jump times (ratio to the theory curve's, and scaled), plateau checks and
    the detector's output; lazy regime: the measured decay rate over the NTK rate. Both: the
    distances of the start and the drift of the conserved balancedness. A jump a seed never
    made is ``nan`` (and so are the means over seeds that include it)."""
    levels = np.asarray(theory.attrs["plateau_losses"])
    times = sim["time"].values
    config = config_of(theory)
    expected = crossing_times(times, theory["train_loss"].values, levels)
    jumps = np.stack([crossing_times(times, loss, levels) for loss in sim["train_loss"].values])
    rates = np.asarray(theory.attrs["escape_rates"])[: levels.size - 1]
    scaled = _scaled(jumps, config["depth"], float(theory.attrs["sigma"]), rates)
    out = {}
    if theory.attrs["regime"] == "saddle":
        for k in range(levels.size - 1):
            out[f"jump_time_{k + 1}"] = float(np.mean(jumps[:, k]))
            out[f"jump_time_ratio_{k + 1}"] = float(np.mean(jumps[:, k]) / expected[k])
            out[f"scaled_jump_time_{k + 1}"] = float(np.mean(scaled[:, k]))
        out |= _plateau_checks(sim, theory, jumps) | _detected(sim, theory)
    else:
        out |= _lazy_rate(sim, theory)
    for key in ("saddle_distance", "minimum_distance", "minimum_distance_bound"):
        out[key] = float(sim[key].mean())
    D = sim["balancedness"].values
    out["balancedness_drift"] = float(np.max(np.abs(D - D[:, :1])))
    return out
