"""Cost of the deep-linear DMFT (``lindyn.deep_dmft``) against horizon ``T`` and depth ``L``.

Not run in CI. Two families, each on a grid of ``T`` in {20, 40, 80} and ``L`` in {1, 2, 4}:

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

Usage::

    python benchmarks/deep_dmft.py            # about 2 minutes on 2 cores
    python benchmarks/deep_dmft.py --quick    # T in {20, 40}, L in {1, 2}: a few seconds

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import argparse
import itertools

import numpy as np

import lindyn
from lindyn.theory import DeepDMFT
from simulate import best_time, measured_run, print_header, print_table

CONFIG = dict(alpha=2.0, nu=1.0, gamma0=1.0, eta=0.02, sigma=0.1)
FAMILIES = {"plain": dict(residual=False), "residual": dict(residual=True, beta0=1.0)}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T in {20, 40}, L in {1, 2}")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (the best is kept)")
    args = parser.parse_args()
    Ts, Ls = ([20, 40], [1, 2]) if args.quick else ([20, 40, 80], [1, 2, 4])
    settings = ", ".join(f"{k}={v}" for k, v in CONFIG.items())
    print_header(
        "deep-linear DMFT cost",
        [
            f"problem: {settings}, isotropic, full batch, chunk=5, tol=1e-10",
            f"grid: T in {Ts}, L in {Ls}; best of {args.repeats} calls (60 s budget each)",
        ],
    )
    with measured_run():
        for family in FAMILIES:
            family_table(family, Ts, Ls, args.repeats)


if __name__ == "__main__":
    main()
