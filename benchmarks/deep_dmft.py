"""Cost of the deep-linear DMFT (``lindyn.deep_dmft``) against horizon ``T`` and depth ``L``.

Not run in CI. Parts 1 and 2 time two families, each on a grid of ``T`` in {20, 40, 80} and
``L`` in {1, 2, 4}:

1. non-residual networks, isotropic data, repeated data (``alpha = 2``, ``nu = 1``,
   ``gamma0 = 1``, ``eta = 0.02``, ``sigma = 0.1``): per sweep ``L`` layer sites of
   ``(T+1) x (T+1)`` kernels, expected :math:`O(LT^3)`;
2. the same with ``L`` residual blocks (``beta0 = 1``, ``branch="sqrt_depth"``): per sweep one
   triangular inverse of side ``2(L+1)(T+1)``, expected :math:`O((LT)^3)`.

Each solve is timed as the best of ``--repeats`` calls (fewer past a 60 s budget) and printed as
a ratio to the smallest case of its family (``T = 20``, ``L = 1``) measured in the same run,
next to its Picard sweeps and time per sweep. Power laws ``time ~ T^p`` (at each ``L``) and
``time ~ L^q`` (at each ``T``) are least-squares fits in log-log, for the whole solve and per
sweep. The two-layer fast path is
not involved (``alpha``, ``nu`` are finite). ``OPENBLAS_NUM_THREADS`` is set to 1 before NumPy
loads OpenBLAS unless it is set already (small matrices; stable timings on a shared machine).

Part 3 sets the DMFT against a finite-width simulation of the same curve, through
``lindyn.get("deep")`` (the same problem, muP, at widths ``D`` in {256, 1024}) for the plain
family at ``(T, L)`` in {(40, 1), (40, 2), (80, 2)} and the residual one at ``(40, 2)``:
``predict`` and ``simulate`` with one seed, each from empty JAX caches with the compile time
(from JAX's monitoring events) apart from the run time, best of ``--repeats`` calls; then, not
timed, ``--sim-seeds`` simulations give the relative spread of the final test loss over seeds,
the seeds (and, projected linearly, the simulation time) that a 1 % standard error of the seed
mean needs, and the relative gap of the seed mean to the DMFT.

Usage::

    python benchmarks/deep_dmft.py            # parts 1-2 about 35 s on 2 cores, plus part 3
    python benchmarks/deep_dmft.py --quick    # T in {20, 40}, L in {1, 2}; part 3 one case at
                                              # D = 256: under a minute

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import argparse
import dataclasses
import itertools
import math
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

import lindyn
from dln_dmft import Clock, clock
from lindyn.theory import DeepDMFT
from simulate import best_time, measured_run, print_header, print_table

CONFIG = dict(alpha=2.0, nu=1.0, gamma0=1.0, eta=0.02, sigma=0.1)
FAMILIES = {"plain": dict(residual=False), "residual": dict(residual=True, beta0=1.0)}
SIM_CASES = (("plain", 40, 1), ("plain", 40, 2), ("plain", 80, 2), ("residual", 40, 2))
SIM_DIMS = (256, 1024)
ACCURACY = 0.01  # target relative standard error of the seed mean of the final test loss


def measure(family: str, T: int, L: int, repeats: int) -> tuple[float, DeepDMFT]:
    """Best wall time of one solve and its result."""
    args = dict(CONFIG, **FAMILIES[family], L=L, steps=T)
    return best_time(lambda: lindyn.theory.deep_dmft(**args), repeats, budget=60.0)


def slope(x: list[float], y: list[float]) -> float:
    """Least-squares exponent ``p`` of ``y ~ x^p``."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def family_table(family: str, Ts: list[int], Ls: list[int], repeats: int) -> None:
    """Times of one family over the grid, as ratios to its smallest case, and the fits."""
    times: dict[tuple[int, int], float] = {}
    per_sweep: dict[tuple[int, int], float] = {}
    rows = []
    for T, L in itertools.product(Ts, Ls):
        seconds, res = measure(family, T, L, repeats)
        if not res.converged:
            raise RuntimeError(f"{family} T={T} L={L}: {res.message}")
        times[T, L], per_sweep[T, L] = seconds, seconds / res.sweeps
        base = times[Ts[0], Ls[0]]
        rows.append(
            [
                str(T),
                str(L),
                f"{seconds:.4f}",
                f"{seconds / base:.2f}",
                str(res.sweeps),
                f"{1e3 * seconds / res.sweeps:.3f}",
                f"{res.test_loss[-1]:.4f}",
            ]
        )
    print(f"\n{family}: wall time against (T, L); ratio to T={Ts[0]}, L={Ls[0]}")
    print_table(["T", "L", "best_s", "ratio", "sweeps", "ms/sweep", "test(T)"], rows)
    fits_T = [f"L={L}: {slope(Ts, [times[T, L] for T in Ts]):.2f}" for L in Ls]
    fits_L = [f"T={T}: {slope(Ls, [times[T, L] for L in Ls]):.2f}" for T in Ts]
    sweep_T = [f"L={L}: {slope(Ts, [per_sweep[T, L] for T in Ts]):.2f}" for L in Ls]
    sweep_L = [f"T={T}: {slope(Ls, [per_sweep[T, L] for L in Ls]):.2f}" for T in Ts]
    print(f"   time ~ T^p: {', '.join(fits_T)}")
    print(f"   time ~ L^q: {', '.join(fits_L)}")
    print(f"   time per sweep ~ T^p: {', '.join(sweep_T)}")
    print(f"   time per sweep ~ L^q: {', '.join(sweep_L)}")


# ---------------------------------------------------------------- 3. DMFT against simulation


def sim_config(family: str, T: int, L: int, D: int) -> Any:
    """The ``deep`` experiment config of the benchmarked problem (its DMFT is ``measure``'s:
    the realised ratios ``round(2D)/D`` and ``round(D)/D`` are exactly 2 and 1)."""
    return lindyn.get("deep").config(D=D, **CONFIG, **FAMILIES[family], L=L, steps=T, param="mup")


def cold_then_best(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Compile seconds of the first call of ``fn`` from empty JAX caches, the best run seconds
    (wall minus compile) over ``repeats`` calls, and the last output."""
    jax.clear_caches()
    clocks: list[Clock] = []
    out = None
    for _ in range(max(repeats, 1)):
        with clock() as c:
            out = fn()
        clocks.append(c)
    return clocks[0].compile, min(c.run for c in clocks), out


@dataclasses.dataclass(frozen=True)
class SimRow:
    """One case of part 3: the DMFT and one simulation of the same curve, and the accuracy of
    the simulation from ``finals`` (the final test loss of each of the untimed seeds)."""

    family: str
    T: int
    L: int
    D: int
    dmft_s: float
    sim_compile_s: float
    sim_s: float  # one seed, run only
    dmft_final: float
    finals: np.ndarray

    @property
    def sd(self) -> float:
        """Relative standard deviation of the final test loss over seeds."""
        return float(np.std(self.finals, ddof=1) / np.mean(self.finals))

    @property
    def seeds_needed(self) -> int:
        """Seeds for a relative standard error ``ACCURACY`` of the seed mean."""
        return max(1, math.ceil((self.sd / ACCURACY) ** 2))

    def cells(self) -> list[str]:
        """Formatted cells (see ``SIM_COLUMNS``)."""
        mean = float(np.mean(self.finals))
        at_accuracy = self.seeds_needed * self.sim_s
        return [
            self.family,
            str(self.T),
            str(self.L),
            str(self.D),
            f"{self.dmft_s:.4f}",
            f"{self.sim_compile_s:.2f}",
            f"{self.sim_s:.4f}",
            f"{self.dmft_s / self.sim_s:.2f}",
            f"{100 * self.sd:.2f}",
            str(self.seeds_needed),
            f"{at_accuracy:.3f}",
            f"{self.dmft_s / at_accuracy:.3f}",
            f"{100 * (mean - self.dmft_final) / self.dmft_final:+.2f}",
            f"{100 * self.sd / np.sqrt(self.finals.size):.2f}",
        ]


SIM_COLUMNS = [
    "family",
    "T",
    "L",
    "D",
    "dmft_s",
    "sim_compile_s",
    "sim_s",
    "ratio",
    "sim_sd_%",
    "seeds_1%",
    "sim_s_1%",
    "ratio_1%",
    "gap_%",
    "se_%",
]


def sim_row(family: str, T: int, L: int, D: int, repeats: int, seeds: int) -> SimRow:
    """Time ``predict`` and ``simulate(seeds=1)`` of one case (compile apart, best run of
    ``repeats``); then, not timed, ``seeds`` simulations for the spread and the gap at step T."""
    exp, config = lindyn.get("deep"), sim_config(family, T, L, D)
    _, dmft_s, theory = cold_then_best(lambda: exp.predict(config), repeats)
    if theory.attrs["status"] != "ok":
        raise RuntimeError(f"DMFT {family} T={T} L={L}: {theory.attrs['message']}")
    sim_compile_s, sim_s, _ = cold_then_best(lambda: exp.simulate(config, seeds=1), repeats)
    finals = exp.simulate(config, seeds=seeds)["test_loss"].values[:, -1]
    if not np.all(np.isfinite(finals)):
        raise RuntimeError(f"simulation {family} T={T} L={L} D={D} diverged")
    dmft_final = float(theory["test_loss"].values[-1])
    return SimRow(family, T, L, D, dmft_s, sim_compile_s, sim_s, dmft_final, finals)


def sim_table(cases: list[tuple[str, int, int]], dims: list[int], repeats: int, seeds: int) -> None:
    """Part 3: the table of ``sim_row`` over the cases and widths, and what its columns mean."""
    print(
        "\n3. DMFT against a finite-width simulation of the same curve (lindyn.get('deep'); "
        f"best of {repeats} calls, run time without compilation)"
    )
    rows = [sim_row(*case, D, repeats, seeds).cells() for case in cases for D in dims]
    print_table(SIM_COLUMNS, rows)
    print(
        f"   ratio = dmft_s / sim_s (below 1 the DMFT is faster); sim_sd_% = relative sd of the "
        f"final test loss over {seeds} seeds;\n   seeds_1% = (sim_sd / 1 %)^2 seeds for a 1 % "
        "standard error of the seed mean; sim_s_1% = seeds_1% x sim_s (linear projection);\n"
        "   ratio_1% = dmft_s / sim_s_1%; gap_% = (seed mean - DMFT) / DMFT at step T, whose "
        f"standard error is se_% = sim_sd / sqrt({seeds})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T in {20, 40}, L in {1, 2}")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (the best is kept)")
    parser.add_argument("--dims", type=int, nargs="+", help=f"D of part 3 (default {SIM_DIMS})")
    parser.add_argument("--sim-seeds", type=int, default=8, help="untimed seeds for the spread")
    args = parser.parse_args()
    Ts, Ls = ([20, 40], [1, 2]) if args.quick else ([20, 40, 80], [1, 2, 4])
    cases = list(SIM_CASES[:1] if args.quick else SIM_CASES)
    dims = args.dims or ([256] if args.quick else list(SIM_DIMS))
    settings = ", ".join(f"{k}={v}" for k, v in CONFIG.items())
    print_header(
        "deep-linear DMFT cost",
        [
            f"problem: {settings}, isotropic, full batch, chunk=5, tol=1e-10",
            f"grid: T in {Ts}, L in {Ls}; best of {args.repeats} calls (60 s budget each)",
            f"part 3: (family, T, L) in {cases}, D in {dims}, nu=1 (N = D), P = 2D; "
            f"{args.sim_seeds} seeds for the spread",
        ],
    )
    with measured_run():
        for family in FAMILIES:
            family_table(family, Ts, Ls, args.repeats)
        sim_table(cases, dims, args.repeats, args.sim_seeds)


if __name__ == "__main__":
    main()
