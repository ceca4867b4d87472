"""Wall time of the diagonal-network DMFT against one finite-d simulation of the same curve.

Not run in CI. The configuration is that of figure ``dln-curves``: ``delta = 0.5``, ``rho = 0.2``,
``sigma = 0.1``, ``lam = 0``, gradient flow to ``t = 30`` for ``alpha`` in {0.05, 0.1, 0.3, 1, 2},
the DMFT on the experiment's grid (``dt <= 0.25``) and the simulation at ``d = 2000``, both
through ``lindyn.get("dln")``. Three parts, all measured in the same run:

1. the Monte-Carlo copies ``M`` that bring the DMFT test error to 1 %: the spread over DMFT
   seeds at a few ``M`` on one ``alpha``, for each noise sampler of the DMFT (``"mc"``, Gaussian
   draws; ``"rqmc"``, scrambled Sobol' points on the principal axes of the field);
2. one closure iteration of the effective process, the blocked causal contraction of
   :mod:`lindyn.theory._dln_processes` against the plain one it replaced (kept here as the
   baseline), compiled ahead of time;
3. every ``alpha`` at the ``M`` of ``--sampler`` (at most ``--max-copies``, by default the largest candidate;
   beyond it the DMFT time is projected linearly in ``M``): DMFT and one simulation, compile
   time apart from run time, their ratio (below 1 the DMFT is faster), and the spread of the
   simulation over seeds, which says how accurate one simulation is.

Usage::

    python benchmarks/dln_dmft.py              # about 7 minutes on 2 cores
    python benchmarks/dln_dmft.py --quick      # under a minute
    python benchmarks/dln_dmft.py --copies 1024 --alphas 0.1 1
    python benchmarks/dln_dmft.py --samplers rqmc --sampler rqmc   # part 1 and 3 with RQMC only

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jax
import jax.monitoring
import jax.numpy as jnp
import numpy as np

import lindyn
from lindyn.theory._dln_processes import mirror_update, process
from simulate import best_time, blas_summary, measured_run, usable_cores

FIGURE = {"method": "flow", "delta": 0.5, "rho": 0.2, "sigma": 0.1, "lam": 0.0, "dt": 0.25}
ALPHAS = (0.05, 0.1, 0.3, 1.0, 2.0)
ACCURACY = 0.01  # target relative Monte-Carlo spread of the DMFT test error
COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run measures (``--quick`` shrinks every part)."""

    alphas: tuple[float, ...]
    t_max: float
    d: int
    candidates: tuple[int, ...]  # copies M tried for the spread (part 1)
    seeds: int  # DMFT seeds per candidate
    samplers: tuple[str, ...]  # DMFT noise samplers of part 1
    sampler: str  # the sampler of part 3
    spread_alpha: float
    copies: int | None  # fixed M: skips part 1
    max_copies: int  # parts 2 and 3 run at most this M (the time is linear in M)
    extra: tuple[tuple[int, int], ...]  # (K, M) of part 2 beyond those of the sweep
    repeats: int
    sim_seeds: int  # simulation seeds for the spread of one simulation (part 3, untimed)


@dataclasses.dataclass
class Clock:
    """Wall seconds of a block and the part JAX spent tracing, lowering and compiling."""

    wall: float = 0.0
    compile: float = 0.0

    @property
    def run(self) -> float:
        return self.wall - self.compile


@contextmanager
def clock() -> Iterator[Clock]:
    """Time a block; compile time from JAX's monitoring events (every jit in the block)."""
    result = Clock()

    def listen(event: str, seconds: float, **_: Any) -> None:
        if event in COMPILE_EVENTS:
            result.compile += seconds

    jax.monitoring.register_event_duration_secs_listener(listen)
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - start
        jax.monitoring.unregister_event_duration_listener(listen)


def figure_config(
    alpha: float,
    settings: Settings,
    copies: int | None = None,
    seed: int = 0,
    sampler: str = "mc",
) -> Any:
    """The experiment config of figure (a) at ``alpha`` (its ``grid()`` is the DMFT grid);
    ``copies`` M of the DMFT, the experiment's default if None; ``sampler`` its noise."""
    extra = {} if copies is None else {"copies": copies}
    return lindyn.get("dln").config(
        alpha=alpha,
        t_max=settings.t_max,
        d=settings.d,
        seed=seed,
        sampler=sampler,
        **FIGURE,
        **extra,
    )


# ---------------------------------------------------------------- 1. copies for 1 % accuracy


def relative_sd(curves: np.ndarray) -> np.ndarray:
    """Relative standard deviation over the runs (rows) at each time (columns)."""
    return np.std(curves, axis=0, ddof=1) / np.mean(curves, axis=0)


def spread_table(settings: Settings, sampler: str) -> dict[int, float]:
    """Print the DMFT seed spread of the test error at each candidate M with ``sampler``;
    return the largest relative standard deviation over time (the accuracy of one solve) for
    each M."""
    print(
        f"\n1. Spread of the DMFT test error at alpha={settings.spread_alpha}, sampler "
        f"{sampler!r}, over {settings.seeds} seeds"
    )
    print("   (relative sd: largest over time and time-averaged)")
    header = f"{'M':>6} {'K':>5} {'iterations':>18} {'s/solve':>8} {'max_%':>7} {'mean_%':>7}"
    print("   " + header)
    spreads = {}
    for M in settings.candidates:
        curves, iterations, walls = [], [], []
        for seed in range(settings.seeds):
            config = figure_config(settings.spread_alpha, settings, M, seed, sampler)
            with clock() as c:
                theory = lindyn.get("dln").predict(config)
            curves.append(theory["test_error"].values)
            iterations.append(str(theory.attrs["iterations"]))
            walls.append(c.wall)
        sd = relative_sd(np.array(curves))
        spreads[M] = float(np.max(sd))
        cells = f"{M:>6} {config.grid().size:>5} {'/'.join(iterations):>18} {np.mean(walls):>8.1f}"
        print(f"   {cells} {100 * spreads[M]:>7.2f} {100 * np.mean(sd):>7.2f}")
    return spreads


def target_copies(spreads: dict[int, float]) -> int:
    """The smallest candidate M whose spread is within ``ACCURACY``; else the largest candidate
    extrapolated by the Monte-Carlo law ``spread ~ M^(-1/2)``, to the hundred."""
    within = [M for M, value in spreads.items() if value <= ACCURACY]
    if within:
        return min(within)
    M = max(spreads)
    return int(100 * np.ceil(M * (spreads[M] / ACCURACY) ** 2 / 100))


# ---------------------------------------------------------------- 2. one closure iteration


def unblocked_flow_process(theta: float = 0.5) -> Callable[..., tuple[jax.Array, jax.Array]]:
    """The baseline: the flow process as it was before the causal blocking, contracting row
    ``k + 1`` of ``A`` with all of ``rho`` ``(K, M, K)`` at every step (``K^3 M`` multiply-adds,
    bound by the memory bandwidth). The step itself is the library's ``mirror_update``."""

    def run(
        A: jax.Array,
        xi: jax.Array,
        beta_star: jax.Array,
        etas: jax.Array,
        times: jax.Array,
        params: jax.Array,
    ) -> tuple[jax.Array, jax.Array]:
        delta, alpha, lam = params[0], params[1], params[2]
        M, K = xi.shape
        eye = jnp.eye(K)

        def step(carry: tuple, k: jax.Array) -> tuple[tuple, None]:
            H, h, G, Psi, dbeta, rho = carry
            row, eta = A[k + 1], etas[k]
            a = row[k + 1]
            c = xi[:, k + 1] - delta * dbeta @ row
            G_exp = eye[k + 1] - delta * jnp.tensordot(row, rho, axes=(0, 0))
            scale = (alpha * jnp.exp(-lam * times[k + 1])) ** 2
            H1, h1, G1, Psi1, beta, r = mirror_update(
                (H, h, G, Psi), (c, G_exp, a), eta, scale, beta_star, delta, theta
            )
            dbeta = dbeta.at[:, k + 1].set(beta - beta_star)
            return (H1, h1, G1, Psi1, dbeta, rho.at[k + 1].set(r)), None

        dbeta0 = jnp.zeros((M, K)).at[:, 0].set(-beta_star)
        h0 = xi[:, 0] + delta * A[0, 0] * beta_star
        G0 = jnp.zeros((M, K)).at[:, 0].set(1.0)
        carry = (jnp.zeros(M), h0, G0, jnp.zeros((M, K)), dbeta0, jnp.zeros((K, M, K)))
        carry, _ = jax.lax.scan(step, carry, jnp.arange(K - 1))
        return carry[4], carry[5]

    return run


def iteration_inputs(grid: np.ndarray, M: int, alpha: float) -> tuple[jax.Array, ...]:
    """Inputs of one closure iteration from a random causal state: ``A = (I + B)^{-1}`` with a
    small random strictly lower-triangular ``B``, white fields, a Bernoulli-Gaussian teacher (the
    cost of the process does not depend on the values)."""
    rng = np.random.default_rng(0)
    K, delta, rho, sigma = grid.size, FIGURE["delta"], FIGURE["rho"], FIGURE["sigma"]
    B = np.tril(rng.standard_normal((K, K)), -1) * 0.1 / np.sqrt(K)
    xi = np.sqrt(delta * (sigma**2 + rho)) * rng.standard_normal((M, K))
    beta_star = rng.standard_normal(M) * (rng.random(M) < rho) / np.sqrt(rho)
    params = np.array([delta, alpha, FIGURE["lam"], sigma])
    A = np.tril(np.linalg.inv(np.eye(K) + B))
    return tuple(jnp.asarray(x) for x in (A, xi, beta_star, grid, params))


def closure_program(run: Callable[..., tuple[jax.Array, jax.Array]]) -> Callable[..., Any]:
    """``run`` and what the closure takes of it: the mean response and the correlation."""

    def program(*args: jax.Array) -> tuple[jax.Array, jax.Array]:
        A, xi, beta_star, times, params = args
        dbeta, rho = run(A, xi, beta_star, jnp.diff(times), times, params)
        return jnp.mean(rho, axis=1), dbeta.T @ dbeta / xi.shape[0]

    return program


def time_iteration(
    run: Callable[..., Any], args: tuple[jax.Array, ...], repeats: int
) -> tuple[float, float, Any]:
    """Ahead-of-time compile seconds, best run seconds and the output of one iteration."""
    start = time.perf_counter()
    compiled = jax.jit(closure_program(run)).lower(*args).compile()
    compile_s = time.perf_counter() - start
    run_s, out = best_time(lambda: jax.block_until_ready(compiled(*args)), repeats, budget=60.0)
    return compile_s, run_s, out


def iteration_table(sizes: list[tuple[np.ndarray, int, float]], settings: Settings) -> None:
    """Print old against new process time per closure iteration for each ``(grid, M, alpha)``."""
    print(
        "\n2. One closure iteration of the flow process (AOT compiled; best of "
        f"{settings.repeats}): plain contraction (old) vs causal blocks (new)"
    )
    header = ("K", "M", "old_compile_s", "old_s", "new_compile_s", "new_s", "speedup", "max_diff")
    print("   " + " ".join(f"{h:>13}" for h in header))
    for grid, M, alpha in sizes:
        args = iteration_inputs(grid, M, alpha)
        old_c, old_s, old_out = time_iteration(unblocked_flow_process(), args, settings.repeats)
        new_c, new_s, new_out = time_iteration(process("flow"), args, settings.repeats)
        diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(old_out, new_out, strict=True))
        cells = (grid.size, M, f"{old_c:.2f}", f"{old_s:.3f}", f"{new_c:.2f}", f"{new_s:.3f}")
        cells += (f"{old_s / new_s:.2f}", f"{diff:.1e}")
        print("   " + " ".join(f"{c:>13}" for c in cells))


# ---------------------------------------------------------------- 3. the sweep


@dataclasses.dataclass(frozen=True)
class Row:
    """One alpha of the sweep: DMFT against one simulation."""

    alpha: float
    K: int
    M: int
    iterations: int
    status: str
    dmft: Clock
    sim: Clock
    gap: float  # largest relative gap of the test error, simulation against DMFT
    sim_sd: float  # largest relative sd of the test error over simulation seeds

    def cells(self) -> list[str]:
        """Formatted table cells (see ``COLUMNS``)."""
        return [
            f"{self.alpha:g}",
            str(self.K),
            str(self.K - 1),
            str(self.M),
            str(self.iterations),
            self.status,
            f"{self.dmft.compile:.2f}",
            f"{self.dmft.run:.2f}",
            f"{self.dmft.run / self.iterations:.3f}",
            f"{self.sim.compile:.2f}",
            f"{self.sim.run:.2f}",
            f"{self.dmft.run / self.sim.run:.1f}",
            f"{self.dmft.wall / self.sim.wall:.1f}",
            f"{100 * self.gap:.1f}",
            f"{100 * self.sim_sd:.1f}",
        ]


COLUMNS = [
    "alpha",
    "K",
    "T",
    "M",
    "iters",
    "status",
    "dmft_compile_s",
    "dmft_run_s",
    "s/iter",
    "sim_compile_s",
    "sim_run_s",
    "ratio_run",
    "ratio_total",
    "gap_%",
    "sim_sd_%",
]


def sweep_row(alpha: float, settings: Settings, copies: int) -> Row:
    """DMFT (with ``settings.sampler``) and one simulation at ``alpha``, each timed from empty
    JAX caches with its compile time apart; then, not timed, ``sim_seeds`` simulations for the
    accuracy of one."""
    config = figure_config(alpha, settings, copies, sampler=settings.sampler)
    exp = lindyn.get("dln")
    jax.clear_caches()
    with clock() as dmft:
        theory = exp.predict(config)
    jax.clear_caches()
    with clock() as sim:
        simulated = exp.simulate(config, seeds=1)
    ours, theirs = theory["test_error"].values, simulated["test_error"].values[0]
    sim_sd = np.nan
    if settings.sim_seeds > 1:
        seeds = exp.simulate(config, seeds=settings.sim_seeds)["test_error"].values
        sim_sd = float(np.max(relative_sd(seeds)))
    return Row(
        alpha,
        config.grid().size,
        copies,
        int(theory.attrs["iterations"]),
        str(theory.attrs["status"]),
        dmft,
        sim,
        float(np.max(np.abs(theirs - ours) / ours)),
        sim_sd,
    )


def print_table(rows: list[Row]) -> None:
    """Plain-text table, right-aligned columns."""
    cells = [COLUMNS] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    for line in cells:
        print("   " + "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


def print_summary(rows: list[Row], target: int) -> None:
    """Totals over the alphas; the DMFT projected to ``target`` copies and the simulations to
    the seeds that bring their spread to ``ACCURACY`` (both linearly)."""
    dmft, sim = sum(r.dmft.run for r in rows), sum(r.sim.run for r in rows)
    walls = sum(r.dmft.wall for r in rows), sum(r.sim.wall for r in rows)
    print(
        f"   all alphas: DMFT run {dmft:.1f} s against simulations {sim:.1f} s (ratio "
        f"{dmft / sim:.1f}); with compilation {walls[0]:.1f} s against {walls[1]:.1f} s "
        f"(ratio {walls[0] / walls[1]:.1f})"
    )
    M = rows[0].M
    if target > M:
        print(
            f"   DMFT at M = {target} (1 % accuracy, projected linearly from M = {M}): run "
            f"{dmft * target / M:.0f} s, {dmft * target / M / sim:.0f} times the simulations"
        )
    seeds = [max(1.0, (r.sim_sd / ACCURACY) ** 2) for r in rows]
    if all(np.isfinite(seeds)):
        runs = sum(r.sim.run * n for r, n in zip(rows, seeds, strict=True))
        print(
            f"   simulations at 1 % ({', '.join(f'{n:.0f}' for n in seeds)} seeds, projected "
            f"linearly): run {runs:.0f} s"
        )


# ---------------------------------------------------------------- driver


def eigh_ms(K: int) -> float:
    """Best milliseconds of a jitted ``eigh`` of a ``K x K`` matrix (the closure's square root
    runs one per iteration; multi-threaded LAPACK on a busy machine can take 100x longer)."""
    X = np.random.default_rng(0).standard_normal((K, K))
    f, x = jax.jit(jnp.linalg.eigh), jnp.asarray(X @ X.T)
    jax.block_until_ready(f(x))
    return 1e3 * best_time(lambda: jax.block_until_ready(f(x)), 5, budget=5.0)[0]


def print_header(settings: Settings) -> None:
    """Versions, hardware, BLAS and the problem, so that the output can be read on its own."""
    now = datetime.datetime.now().isoformat(timespec="seconds")
    print(f"lindyn benchmark: DLN DMFT against simulation, figure (a) ({now})")
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions |= {"jax": jax.__version__, "lindyn": lindyn.__version__}
    print("  " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    print(f"  machine: {platform.machine()}, {usable_cores()} usable cores; BLAS: {blas_summary()}")
    print(f"  load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figure = ", ".join(f"{k}={v}" for k, v in FIGURE.items())
    print(f"  figure (a): {figure}, t_max={settings.t_max}, alphas {list(settings.alphas)}")
    print(f"  simulation: lindyn.get('dln').simulate, d={settings.d}; DMFT: .predict on .grid()")


def parse_args() -> Settings:
    """Command line (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 alphas to t=10, d=1000, small M")
    parser.add_argument("--alphas", type=float, nargs="+", help=f"default {list(ALPHAS)}")
    parser.add_argument("--copies", type=int, help="use this M (skips part 1)")
    parser.add_argument("--candidates", type=int, nargs="+", help="M tried in part 1")
    parser.add_argument("--seeds", type=int, help="DMFT seeds per M in part 1 (default 4)")
    parser.add_argument(
        "--samplers",
        nargs="+",
        choices=("mc", "rqmc"),
        default=["mc", "rqmc"],
        help="DMFT noise samplers of part 1 (default both)",
    )
    parser.add_argument(
        "--sampler", choices=("mc", "rqmc"), default="rqmc", help="DMFT sampler of part 3"
    )
    parser.add_argument("--max-copies", type=int, help="largest M of parts 2-3 (default 2048)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats in part 2")
    parser.add_argument("--sim-seeds", type=int, default=4, help="seeds for the sim spread")
    args = parser.parse_args()
    alphas = tuple(args.alphas or ((0.1, 1.0) if args.quick else ALPHAS))
    candidates = args.candidates or ((256, 512) if args.quick else (512, 1024, 2048))
    return Settings(
        alphas=alphas,
        t_max=10.0 if args.quick else 30.0,
        d=1000 if args.quick else 2000,
        candidates=tuple(candidates),
        seeds=args.seeds or (2 if args.quick else 4),
        samplers=tuple(dict.fromkeys(args.samplers)),
        sampler=args.sampler,
        spread_alpha=min(alphas),
        copies=args.copies,
        max_copies=args.max_copies or args.copies or max(candidates),
        extra=() if args.quick else ((213, 1500),),
        repeats=args.repeats,
        sim_seeds=args.sim_seeds,
    )


def main() -> None:
    """Run the three parts and print their tables."""
    settings = parse_args()
    print_header(settings)
    with measured_run():
        grids: dict[int, tuple[np.ndarray, float]] = {}
        for alpha in settings.alphas:
            grid = figure_config(alpha, settings).grid()
            grids.setdefault(grid.size, (grid, alpha))
        eigh_start = eigh_ms(max(grids))
        targets = {}
        if settings.copies is None:
            for sampler in settings.samplers:
                targets[sampler] = target_copies(spread_table(settings, sampler))
                print(f"   -> M = {targets[sampler]} for {ACCURACY:.0%} with {sampler!r}")
        target = settings.copies or targets.get(settings.sampler) or min(targets.values())
        copies = min(target, settings.max_copies)
        print(f"   parts 2 and 3 run at M = {copies} (part 3 with {settings.sampler!r})")
        sizes = [(grid, copies, alpha) for grid, alpha in grids.values()]
        sizes += [
            (np.linspace(0, settings.t_max, K), M, settings.alphas[0]) for K, M in settings.extra
        ]
        iteration_table(sizes, settings)
        print(
            f"\n3. Figure (a) at M = {copies}, sampler {settings.sampler!r}: DMFT against one "
            f"d = {settings.d} simulation"
        )
        rows = [sweep_row(alpha, settings, copies) for alpha in settings.alphas]
        print_table(rows)
        print_summary(rows, target)
        K = max(grids)
        print(
            f"   eigh of a {K}x{K} matrix (one per closure iteration): {eigh_start:.1f} ms at the "
            f"start, {eigh_ms(K):.1f} ms at the end"
        )


if __name__ == "__main__":
    main()
