"""Cost of the experiment ``pesme``: Algorithm 1 of Pesme & Flammarion, and the dual flow.

Not run in CI. Two parts, every number next to a baseline measured in the same run:

1. ``lindyn.pesme_flammarion`` (the whole saddle sequence) on the P2 law at ``n = 100``,
   ``d = 1000`` (Gaussian design, ``beta* = (5, -4, 3, 0, ...)``, noise 0.5, seeds 0, 1, 2)
   against the linear program of its end point alone, the minimum-l1 interpolator
   (``scipy.optimize.linprog``, HiGHS dual simplex, ``min 1.(p + q)`` s.t. ``X(p - q) = y``);
2. the network's flow in its dual variable (``diagonal_mirror_flow``: SciPy's Radau with the
   exact Jacobian) against diffrax's implicit ``Kvaerno5`` on the same ODE at the same
   tolerances (a copy of the right-hand side in JAX, kept here as the baseline), compiled ahead
   of time and its compile time reported apart. Problems: Fig. 2 right at ``alpha = 1e-10`` and
   ``1e-100`` (to ``t = 20``) and the P2 reference run at ``alpha = 1e-100`` (to ``t = 50``),
   200 log-spaced records each.

Run times are the best of ``--repeats`` calls (default 5; part 2 half as many, at least 2).
``OPENBLAS_NUM_THREADS`` is set to 1 before NumPy loads OpenBLAS unless it is set already.

Usage::

    python benchmarks/pesme.py            # 30-40 seconds on 2 cores
    python benchmarks/pesme.py --quick    # one Algorithm-1 instance, Fig. 2 only: about 15 s

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import argparse
import time
from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linprog

import lindyn
from lindyn.experiments import pesme
from lindyn.train import diagonal_mirror_flow, log_times
from simulate import best_time, measured_run, print_header, print_table

RTOL, ATOL = 1e-9, 1e-11  # the flow's defaults, used by both solvers
RECORDS = 200
CAP = 300.0  # the same exponent cap as lindyn.train._mirror


def p2_problem(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spec P2's law: default_rng(seed), X then xi, y = X beta* + 0.5 xi."""
    return pesme.problem(pesme.Config(n=n, d=d, data_seed=seed))


def min_l1_lp(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The minimum-l1 interpolator by HiGHS' dual simplex."""
    d = X.shape[1]
    lp = linprog(
        np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs-ds"
    )
    if lp.status != 0:
        raise RuntimeError(f"linprog failed: {lp.message}")
    return lp.x[:d] - lp.x[d:]


def algorithm_row(n: int, d: int, seed: int, repeats: int) -> list[str]:
    """Algorithm 1 against the LP of its end point on one instance."""
    X, y = p2_problem(n, d, seed)
    alg_s, res = best_time(lambda: lindyn.pesme_flammarion(X, y), repeats, budget=20.0)
    lp_s, beta_lp = best_time(lambda: min_l1_lp(X, y), repeats, budget=20.0)
    return [
        str(n),
        str(d),
        str(seed),
        str(res.jumps),
        f"{alg_s:.4f}",
        f"{1e3 * alg_s / res.jumps:.2f}",
        f"{lp_s:.4f}",
        f"{alg_s / lp_s:.2f}",
        f"{np.max(np.abs(res.endpoint - beta_lp)):.1e}",
        f"{np.max(np.abs(X @ res.endpoint - y)):.1e}",
        f"{np.max(np.abs(X @ beta_lp - y)):.1e}",
        f"{res.kkt_residual:.1e}",
    ]


def flow_problems(quick: bool) -> list[tuple[str, pesme.Config]]:
    fig2 = pesme.Config(design="fig2", n=3, d=3, teacher="1,9,10", noise=0.0, t_max=20.0)
    problems = [("fig2", fig2.replace(alpha=1e-10)), ("fig2", fig2.replace(alpha=1e-100))]
    return problems if quick else [*problems, ("P2", pesme.Config(alpha=1e-100, t_max=50.0))]


def kvaerno5(X: np.ndarray, y: np.ndarray, log_inv_alpha: float) -> Callable[..., tuple]:
    """The dual ODE in JAX for diffrax's Kvaerno5 (baseline): ``times -> (beta, steps)``."""
    n = X.shape[0]
    gram, target = jnp.asarray(X.T @ X / n), jnp.asarray(X.T @ y / n)
    c = 2.0 * log_inv_alpha

    def beta(z: jax.Array) -> jax.Array:
        x = c * jnp.abs(z)
        return jnp.sign(z) * 0.5 * jnp.exp(jnp.minimum(x - c, CAP)) * (1.0 - jnp.exp(-2.0 * x))

    def solve(times: jax.Array) -> tuple[jax.Array, jax.Array]:
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, z, args: target - gram @ beta(z)),
            diffrax.Kvaerno5(),
            0.0,
            times[-1],
            1e-4,
            jnp.zeros(X.shape[1]),
            saveat=diffrax.SaveAt(ts=times),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=1_000_000,
        )
        return jax.vmap(beta)(sol.ys), sol.stats["num_steps"]

    return solve


def flow_row(name: str, config: pesme.Config, repeats: int) -> list[str]:
    """Radau (lindyn) against Kvaerno5 (diffrax) on one problem."""
    X, y = pesme.problem(config)
    times = log_times(config.t_max, RECORDS, t_min=config.t_max * 1e-4)
    radau_s, sol = best_time(
        lambda: diagonal_mirror_flow(X, y, times, log_inv_alpha=config.effective_log_inv_alpha),
        repeats,
        budget=20.0,
    )
    t0 = time.perf_counter()
    compiled = (
        jax.jit(kvaerno5(X, y, config.effective_log_inv_alpha)).lower(jnp.asarray(times)).compile()
    )
    compile_s = time.perf_counter() - t0
    kv_s, (kv_beta, kv_steps) = best_time(
        lambda: jax.block_until_ready(compiled(jnp.asarray(times))), repeats, budget=30.0
    )
    diff = np.max(np.abs(np.asarray(kv_beta) - sol.observables["beta"]))
    return [
        name,
        f"{config.alpha:g}",
        f"{config.t_max:g}",
        f"{radau_s:.3f}",
        f"{compile_s:.2f}",
        f"{kv_s:.3f}",
        str(int(kv_steps)),
        f"{kv_s / radau_s:.2f}",
        f"{(kv_s + compile_s) / radau_s:.1f}",
        f"{diff:.1e}",
    ]


def print_settings(repeats: int) -> None:
    """Versions, hardware, BLAS and the timing rule (:func:`simulate.print_header`)."""
    lines = [f"best of {repeats} calls (part 2: {max(2, repeats // 2)})"]
    print_header("experiment 'pesme'", lines, {"diffrax": diffrax.__version__})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one instance, Fig. 2 flows only")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls (the best is kept)")
    args = parser.parse_args()
    print_settings(args.repeats)
    with measured_run():
        print("\n1. Algorithm 1 (whole saddle sequence) against the LP of its end point")
        seeds = (0,) if args.quick else (0, 1, 2)
        header = ["n", "d", "seed", "jumps", "alg_s", "ms/jump", "lp_s", "alg/lp"]
        rows = [algorithm_row(100, 1000, s, args.repeats) for s in seeds]
        print_table([*header, "max|diff|", "alg_res", "lp_res", "kkt"], rows)
        print(
            f"\n2. The dual flow: Radau (lindyn) against diffrax Kvaerno5, rtol={RTOL}, atol={ATOL}"
        )
        header = ["problem", "alpha", "t_max", "radau_s", "kv_compile_s", "kv_s", "kv_steps"]
        rows = [
            flow_row(name, c, max(2, args.repeats // 2)) for name, c in flow_problems(args.quick)
        ]
        print_table([*header, "kv/radau", "with_compile", "max|diff|"], rows)


if __name__ == "__main__":
    main()
