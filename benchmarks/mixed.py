"""Cost of the two-layer experiment ``mixed``: the self-consistent operator, reduced weights, runs.

Not run in CI. The problem is that of the paper's Figure 1 (Tu, Aranguri & Jacot 2024):
``gamma_sigma2 = -1.85``, ``gamma_w = 2.25``, ``K = 5``, ``c = 5``, ``steps = 100``, at
``d = 500`` a width ``w = 1 182 177``. Three parts, all measured in the same run, every lindyn
function jitted and compiled apart (its compile time reported on its own), the run time the
best of ``--repeats`` steady-state calls:

1. one evaluation of the self-consistent operator
   ``Theta_A(G) = sqrt(AA^T + tau^2 I) G + G sqrt(A^T A + tau^2 I)`` at a start ``A = W2 W1``
   with ``G = A - Y``: the library's route (one ``eigh`` of ``A^T A``,
   :func:`lindyn.theory.self_consistent_operator`) against three routes kept here as baselines:
   the paper code's (each square root by its own SVD, ``U diag(sqrt(S)) V^T``), two symmetric
   eigendecompositions (one per root) and one full SVD of ``A``;
2. one gradient-descent step (:func:`lindyn.models.gauss_seidel_step`) in the reduced
   coordinates ``X1 (2d, d)``, ``X2 (d, 2d)`` against the same step on the full-width weights
   ``W1 = Q X1 (w, d)``, ``W2 = X2 Q^T (d, w)`` (``Q`` an orthonormal ``(w, 2d)`` basis: the
   same network, so the products must agree to rounding) at ``d = 100`` for ``w`` in
   ``{2d, 10d, 100d}``, and projected to Figure 1's width;
3. the whole ``lindyn.get("mixed").simulate(config, seeds=1)`` (gradient descent and, next to
   it, the Euler self-consistent dynamics for ``sc_distance``) and ``predict(config)`` (the
   Euler self-consistent dynamics): the first call from empty JAX caches, its compile time
   taken from JAX's monitoring events, then the best of the steady-state calls.

Parts 1 and 2 draw ``(A*, E)`` and the start in NumPy from the experiment's laws (the jitted
samplers of the experiment take seconds to compile at every ``d``, which part 3 reports).

``OPENBLAS_NUM_THREADS`` is set to 1 before NumPy and JAX are imported (unless it is already
set): JAX's CPU ``eigh`` and ``svd`` call the LAPACK of SciPy's OpenBLAS, whose 2-thread
kernels slow down several times as soon as another process takes one of the two cores.

Usage::

    python benchmarks/mixed.py              # about 2 minutes on 2 cores
    python benchmarks/mixed.py --quick      # d <= 200 only: about 35 seconds
    python benchmarks/mixed.py --sizes 100 300 --run-sizes 300 --repeats 5
    OPENBLAS_NUM_THREADS=2 python benchmarks/mixed.py --quick   # the 2-thread LAPACK

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy and JAX load OpenBLAS

import argparse
import collections
import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jax
import jax.monitoring
import jax.numpy as jnp
import numpy as np

import lindyn
import simulate
from dln_dmft import COMPILE_EVENTS
from lindyn.experiments import mixed
from lindyn.models import gauss_seidel_step
from lindyn.theory import self_consistent_operator
from simulate import best_time, measured_run, print_table

FIGURE = {"gamma_sigma2": -1.85, "gamma_w": 2.25, "K": 5, "c": 5.0}  # the paper's Figure 1
FIGURE_D = 500
GD_D = 100  # part 2
WIDTH_FACTORS = (2, 10, 100)  # part 2: w = factor * d
SCANS = ("_descents", "_euler")  # the jitted scans of simulate and predict
SAMPLERS = ("_problem", "_bartlett")  # the jitted draws of (A*, E) and of the start


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run measures (``--quick`` shrinks parts 1 and 3)."""

    sizes: tuple[int, ...]  # part 1: d of the operator
    run_sizes: tuple[int, ...]  # part 3: d of the whole runs
    steps: int
    repeats: int


def figure_config(d: int, steps: int = 100) -> Any:
    """The experiment config of Figure 1 at dimension ``d`` (``d = 500`` is the figure's)."""
    return lindyn.get("mixed").config(d=d, steps=steps, **FIGURE)


def compiled(fn: Callable[..., Any], *args: Any) -> tuple[float, Callable[[], Any]]:
    """Ahead-of-time compile seconds of ``jax.jit(fn)`` at ``args`` and a blocking call (about 0
    when an identical program was compiled before: JAX reuses its executable)."""
    start = time.perf_counter()
    program = jax.jit(fn).lower(*args).compile()
    return time.perf_counter() - start, lambda: jax.block_until_ready(program(*args))


@dataclasses.dataclass(frozen=True)
class Timing:
    """Best wall seconds and mean process CPU seconds (all threads) of a call, its last output."""

    wall: float
    cpu: float
    out: Any


def best_times(
    calls: dict[str, Callable[[], Any]], repeats: int, budget: float
) -> dict[str, Timing]:
    """:class:`Timing` of each call, the calls taken in turn (one round calls each once), so
    that a burst of load on the shared machine hits all of them alike. Rounds as in
    :func:`simulate.best_time`: ``repeats`` (fewer once ``budget`` s are spent; more, up to 50,
    while they take under half a second in total)."""
    wall, cpu = dict.fromkeys(calls, np.inf), dict.fromkeys(calls, 0.0)
    outputs: dict[str, Any] = {}
    start = time.perf_counter()
    for i in range(max(repeats, 50)):
        for name, call in calls.items():
            t0, c0 = time.perf_counter(), time.process_time()
            outputs[name] = call()
            wall[name] = min(wall[name], time.perf_counter() - t0)
            cpu[name] += time.process_time() - c0
        elapsed = time.perf_counter() - start
        if elapsed > budget or (i + 1 >= repeats and elapsed > 0.5):
            break
    return {name: Timing(wall[name], cpu[name] / (i + 1), outputs[name]) for name in calls}


def max_diff(a: Any, b: Any) -> float:
    return float(jnp.max(jnp.abs(a - b)))


# ---------------------------------------------------------------- 1. the operator


def psd_sqrt_svd(M: jax.Array) -> jax.Array:
    """Square root of a positive definite ``M`` as the paper's code takes it: ``U sqrt(S) V^T``."""
    U, S, Vt = jnp.linalg.svd(M)
    return (U * jnp.sqrt(S)) @ Vt


def psd_sqrt_eigh(M: jax.Array) -> jax.Array:
    """Square root of a positive semi-definite ``M`` from its eigendecomposition."""
    eig, V = jnp.linalg.eigh(M)
    return (V * jnp.sqrt(jnp.clip(eig, 0.0, None))) @ V.T


def paper_route(A: jax.Array, G: jax.Array, tau: jax.Array) -> jax.Array:
    """Baseline (a): both roots, each by its own SVD (the paper's code)."""
    left = psd_sqrt_svd(A @ A.T + tau**2 * jnp.eye(A.shape[0]))
    right = psd_sqrt_svd(A.T @ A + tau**2 * jnp.eye(A.shape[1]))
    return left @ G + G @ right


def two_eigh_route(A: jax.Array, G: jax.Array, tau: jax.Array) -> jax.Array:
    """Baseline (b): both roots, each by its own symmetric eigendecomposition."""
    left = psd_sqrt_eigh(A @ A.T + tau**2 * jnp.eye(A.shape[0]))
    right = psd_sqrt_eigh(A.T @ A + tau**2 * jnp.eye(A.shape[1]))
    return left @ G + G @ right


def one_svd_route(A: jax.Array, G: jax.Array, tau: jax.Array) -> jax.Array:
    """Baseline (c): both roots from one full SVD ``A = U diag(s) V^T`` (square ``A``)."""
    U, s, Vt = jnp.linalg.svd(A)
    r = jnp.sqrt(s**2 + tau**2)
    return ((U * r) @ U.T) @ G + G @ ((Vt.T * r) @ Vt)


def library_route(A: jax.Array, G: jax.Array, tau: jax.Array) -> jax.Array:
    """The library: one ``eigh`` of ``A^T A`` (the singular values it also returns dropped)."""
    return self_consistent_operator(A, G, tau)[0]


ROUTES = {"paper": paper_route, "2eigh": two_eigh_route, "svd": one_svd_route}


def numpy_problem(d: int, w: int) -> tuple[np.ndarray, ...]:
    """``(target, Y, X1, X2)`` of Figure 1's problem at ``d``, reduced start at width ``w >= 2d``,
    drawn in NumPy from the experiment's laws (:func:`lindyn.experiments.mixed.problem`,
    :func:`lindyn.models.reduced_two_layer_init`: ``[X1, X2^T] = sigma T``, ``T`` the Bartlett
    factor). Not the experiment's own draws, whose jitted samplers take seconds to compile at
    every ``d`` (part 3 shows it): the costs timed here do not depend on the draw."""
    rng, config = np.random.default_rng(0), figure_config(d)
    K, m = config.K, 2 * d
    U, V = (K**-0.25 * rng.standard_normal((d, K)) for _ in range(2))
    target = U @ V.T
    Y = target + config.noise * rng.standard_normal((d, d))
    diag = np.sqrt(rng.chisquare(w - np.arange(m)))
    T = np.triu(rng.standard_normal((m, m)), k=1) + np.diag(diag)
    X = math.sqrt(config.sigma2) * T
    return target, Y, X[:, :d], X[:, d:].T


def operator_inputs(d: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The start ``A = X2 X1`` of Figure 1's problem at ``d`` (:func:`numpy_problem`), the
    gradient ``G = A - Y`` and ``tau = sigma^2 w``."""
    config = figure_config(d)
    _, Y, X1, X2 = numpy_problem(d, config.width)
    A = X2 @ X1
    return tuple(jnp.asarray(x) for x in (A, A - Y, config.tau))


def operator_row(args: tuple[jax.Array, ...], repeats: int) -> tuple[list[str], list[str], float]:
    """Rows of part 1 at the inputs ``(A, G, tau)`` (wall times, CPU times) and the library's
    wall seconds per evaluation."""
    d = args[0].shape[0]
    compile_s, calls = {}, {}
    for name, fn in {"lib": library_route, **ROUTES}.items():
        compile_s[name], calls[name] = compiled(fn, *args)
    calls["eigh"] = compiled(jnp.linalg.eigh, args[0].T @ args[0])[1]
    calls["fullsvd"] = compiled(jnp.linalg.svd, args[0])[1]
    timed = best_times(calls, repeats, budget=20.0)
    lib = timed["lib"].out
    diff = max(max_diff(timed[name].out, lib) for name in ROUTES)
    rows = []
    for kind in ("wall", "cpu"):
        t = {name: getattr(timing, kind) for name, timing in timed.items()}
        cells = [str(d), f"{float(args[2]):.2f}", f"{1e3 * t['lib']:.2f}"]
        for name in ROUTES:
            cells += [f"{1e3 * t[name]:.2f}", f"{t[name] / t['lib']:.2f}"]
        cells += [f"{1e3 * t['eigh']:.2f}", f"{1e3 * t['fullsvd']:.2f}"]
        cells += [f"{t['eigh'] / t['fullsvd']:.2f}"]
        rows.append(cells)
    rows[0] += ["/".join(f"{compile_s[n]:.2f}" for n in compile_s)]
    rows[0] += [f"{diff:.1e}", f"{float(jnp.max(jnp.abs(lib))):.3g}"]
    return rows[0], rows[1], timed["lib"].wall


OPERATOR_COLUMNS = [
    "d",
    "tau",
    "lib_ms",
    "paper_ms",
    "paper/lib",
    "2eigh_ms",
    "2eigh/lib",
    "svd_ms",
    "svd/lib",
    "eigh_ms",
    "fullsvd_ms",
    "eigh/svd",
    "compile_s lib/paper/2eigh/svd",
    "max_diff",
    "max|Theta|",
]


def operator_table(settings: Settings) -> dict[int, float]:
    """Print part 1; return the library's seconds per operator evaluation at each ``d``."""
    print(
        f"\n1. One self-consistent operator evaluation at a start of Figure 1's problem "
        f"(AOT compiled; best of {settings.repeats}, taken in turn): the library's one eigh of A^T A (lib) "
        "against two SVDs (paper), two eighs (2eigh) and one SVD of A (svd); eigh_ms and "
        "fullsvd_ms: one eigh of A^T A and one full SVD of A alone"
    )
    walls, cpus, lib = [], [], {}
    inputs = [operator_inputs(d) for d in settings.sizes]
    for args in inputs:
        wall, cpu, lib[args[0].shape[0]] = operator_row(args, settings.repeats)
        walls.append(wall)
        cpus.append(cpu)
    print_table(OPERATOR_COLUMNS, walls)
    print("   the same in CPU milliseconds of the process (all threads; mean of the same calls):")
    print_table([c.replace("_ms", "_cpu_ms") for c in OPERATOR_COLUMNS[:12]], cpus)
    return lib


# ---------------------------------------------------------------- 2. one gradient-descent step


def weights_mb(*arrays: jax.Array) -> float:
    return sum(x.size * x.dtype.itemsize for x in arrays) / 1e6


def step_inputs(d: int, w: int) -> tuple[jax.Array, ...]:
    """``(X1, X2, W1, W2, Y, eta)``: the reduced start at width ``w`` of Figure 1's problem at
    ``d`` (:func:`numpy_problem`), the same network at full width (``W1 = Q X1``,
    ``W2 = X2 Q^T``), the observed matrix and the experiment's step."""
    config = figure_config(d)
    target, Y, X1, X2 = numpy_problem(d, w)
    eta = mixed.learning_rate(config, target)  # 1/(c ||A*||_op): the same at every w
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((w, 2 * d)))[0]
    return tuple(jnp.asarray(x) for x in (X1, X2, Q @ X1, X2 @ Q.T, Y, eta))


def step_row(inputs: tuple[jax.Array, ...], repeats: int) -> tuple[list[str], float]:
    """One row of part 2 (reduced against full width) and the full step's seconds."""
    X1, X2, W1, W2, Y, eta = inputs
    w, d = W1.shape
    reduced_c, reduced_call = compiled(gauss_seidel_step, X1, X2, Y, eta)
    full_c, full_call = compiled(gauss_seidel_step, W1, W2, Y, eta)
    timed = best_times({"reduced": reduced_call, "full": full_call}, repeats, budget=10.0)
    reduced_s, (X1n, X2n) = timed["reduced"].wall, timed["reduced"].out
    full_s, (W1n, W2n) = timed["full"].wall, timed["full"].out
    diff = max_diff(W2n @ W1n, X2n @ X1n)
    cells = [str(d), str(w), str(w // d), f"{weights_mb(X1, X2):.2f}", f"{weights_mb(W1, W2):.2f}"]
    cells += [f"{reduced_c:.2f}", f"{1e6 * reduced_s:.0f}", f"{full_c:.2f}", f"{1e6 * full_s:.0f}"]
    scale = float(jnp.max(jnp.abs(X2n @ X1n)))
    cells += [f"{full_s / reduced_s:.2f}", f"{diff:.1e}", f"{scale:.3g}"]
    return cells, full_s


STEP_COLUMNS = [
    "d",
    "w",
    "w/d",
    "red_MB",
    "full_MB",
    "red_compile_s",
    "red_us",
    "full_compile_s",
    "full_us",
    "full/red",
    "max_diff",
    "max|A|",
]


def step_table(settings: Settings) -> float:
    """Print part 2; return the seconds of a full-width step at Figure 1, projected from the
    largest width by the multiply-adds ``3 w d^2``."""
    print(
        f"\n2. One Gauss-Seidel gradient-descent step at d = {GD_D} (AOT compiled; best of "
        f"{settings.repeats}, taken in turn): reduced coordinates X1 (2d, d), X2 (d, 2d) against the full "
        "weights W1 = Q X1 (w, d), W2 = X2 Q^T (d, w); max_diff: W2 W1 against X2 X1 after it"
    )
    rows, full_s = [], 0.0
    inputs = [step_inputs(GD_D, factor * GD_D) for factor in WIDTH_FACTORS]
    for args in inputs:
        cells, full_s = step_row(args, settings.repeats)
        rows.append(cells)
    print_table(STEP_COLUMNS, rows)
    w = WIDTH_FACTORS[-1] * GD_D
    figure = figure_config(FIGURE_D)
    scale = figure.width * FIGURE_D**2 / (w * GD_D**2)
    print(
        f"   Figure 1 (d = {FIGURE_D}, w = {figure.width}): the full weights would take "
        f"{16 * figure.width * FIGURE_D / 1e9:.1f} GB (reduced: {32 * FIGURE_D**2 / 1e6:.0f} MB) "
        f"and a full step, projected from w = {w} by w d^2, about {full_s * scale:.0f} s"
    )
    return full_s * scale


# ---------------------------------------------------------------- 3. whole runs


@dataclasses.dataclass
class Clock:
    """Wall seconds of a block and the seconds JAX spent tracing, lowering and compiling in it,
    in total and by program (the jitted function's name)."""

    wall: float = 0.0
    programs: dict[str, float] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(float)
    )

    @property
    def compile(self) -> float:
        return sum(self.programs.values())

    def of(self, names: tuple[str, ...]) -> float:
        return sum(self.programs.get(name, 0.0) for name in names)


@contextmanager
def clock() -> Iterator[Clock]:
    """Time a block; compile time from JAX's monitoring events (every jit in the block)."""
    result = Clock()

    def listen(event: str, seconds: float, fun_name: str = "?", **_: Any) -> None:
        if event in COMPILE_EVENTS:
            result.programs[fun_name.removeprefix("jit(").removesuffix(")")] += seconds

    jax.monitoring.register_event_duration_secs_listener(listen)
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - start
        jax.monitoring.unregister_event_duration_listener(listen)


@dataclasses.dataclass(frozen=True)
class RunRow:
    """One whole ``simulate`` or ``predict`` call."""

    d: int
    width: int
    what: str
    first: Clock  # the first call, from empty caches
    run_s: float  # best steady-state call
    steps: int
    status: str
    op_s: float | None  # the library's operator evaluation at this d (part 1)

    def cells(self) -> list[str]:
        per_step = self.run_s / self.steps
        ratio = "-" if self.op_s is None else f"{per_step / self.op_s:.2f}"
        return [
            str(self.d),
            str(self.width),
            f"{16 * self.width * self.d / 1e9:.2f}",
            self.what,
            str(self.steps),
            f"{self.first.wall:.2f}",
            f"{self.first.compile:.2f}",
            f"{self.first.of(SCANS):.2f}",
            f"{self.first.of(SAMPLERS):.2f}",
            f"{self.run_s:.2f}",
            f"{1e3 * per_step:.1f}",
            ratio,
            self.status,
        ]


RUN_COLUMNS = [
    "d",
    "w",
    "full_GB",
    "call",
    "steps",
    "first_s",
    "compile_s",
    "scan_c_s",
    "draw_c_s",
    "run_s",
    "ms/step",
    "step/op",
    "status",
]


def run_rows(d: int, settings: Settings, op_s: float | None) -> list[RunRow]:
    """``simulate(config, seeds=1)`` and ``predict(config)`` at ``d``: the first call of each
    from empty caches (compile time from JAX's events), then the best of ``repeats`` further
    calls, the two taken in turn."""
    exp, config = lindyn.get("mixed"), figure_config(d, settings.steps)
    calls = {
        "simulate": lambda: exp.simulate(config, seeds=1),
        "predict": lambda: exp.predict(config),
    }
    firsts = {}
    for what, call in calls.items():
        jax.clear_caches()
        with clock() as firsts[what]:
            call()
    timed = best_times(calls, settings.repeats, budget=120.0)
    return [
        RunRow(
            d, config.width, what, firsts[what], t.wall, config.steps, t.out.attrs["status"], op_s
        )
        for what, t in timed.items()
    ]


def run_table(settings: Settings, op_s: dict[int, float], full_step_s: float) -> None:
    """Print part 3; at Figure 1's ``d``, set against full-width gradient descent projected
    from part 2 (``full_step_s`` per step)."""
    print(
        "\n3. Whole runs of the experiment (Figure 1's exponents; d = 500 is the figure): "
        "simulate(config, seeds=1) (GD and the Euler self-consistent dynamics next to it) and "
        "predict(config) (the Euler self-consistent dynamics). first_s: the first call from empty "
        "caches, compile_s the part of it JAX reports as tracing, lowering and compiling (scan_c_s "
        "the jitted scan, draw_c_s the draws of (A*, E) and of the start); run_s: best of "
        f"{settings.repeats} further calls, in turn; step/op: ms/step over part 1's lib_ms"
    )
    rows = [row for d in settings.run_sizes for row in run_rows(d, settings, op_s.get(d))]
    print_table(RUN_COLUMNS, [row.cells() for row in rows])
    figure = [row for row in rows if row.d == FIGURE_D and row.what == "simulate"]
    if figure:
        row = figure[0]
        full = full_step_s * row.steps
        print(
            f"   Figure 1 simulate: {row.run_s:.1f} s ({row.first.wall:.1f} s with compilation) "
            f"against about {full / 60:.0f} min for the {row.steps} steps of gradient descent "
            f"alone on the full {16 * row.width * row.d / 1e9:.1f} GB weights (projected, "
            f"{full / row.run_s:.0f} times)"
        )


# ---------------------------------------------------------------- driver


def eigh_ms(d: int) -> float:
    """Best milliseconds of a jitted ``eigh`` of a random ``d x d`` PSD matrix (load probe)."""
    X = jnp.asarray(np.random.default_rng(0).standard_normal((d, d)))
    return 1e3 * best_time(compiled(jnp.linalg.eigh, X @ X.T)[1], 5, budget=5.0)[0]


def print_header(settings: Settings) -> None:
    """Versions, hardware, BLAS and the problem (:func:`simulate.print_header`)."""
    figure = ", ".join(f"{k}={v}" for k, v in FIGURE.items())
    lines = [
        f"problem: Figure 1, {figure}, steps={settings.steps}, noise 1, seed 0",
        f"part 1: d in {list(settings.sizes)}; part 2: d={GD_D}, w/d in {list(WIDTH_FACTORS)}",
        f"part 3: d in {list(settings.run_sizes)}",
    ]
    simulate.print_header("two-layer linear nets, experiment 'mixed'", lines)


def parse_args() -> Settings:
    """Command line (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d <= 200 only")
    parser.add_argument("--sizes", type=int, nargs="+", help="part 1: d (default 100 200 500)")
    parser.add_argument("--run-sizes", type=int, nargs="+", help="part 3: d (default 200 500)")
    parser.add_argument("--steps", type=int, default=100, help="part 3: gradient-descent steps")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (best is kept)")
    args = parser.parse_args()
    return Settings(
        sizes=tuple(args.sizes or ((100, 200) if args.quick else (100, 200, FIGURE_D))),
        run_sizes=tuple(args.run_sizes or ((200,) if args.quick else (200, FIGURE_D))),
        steps=args.steps,
        repeats=args.repeats,
    )


def main() -> None:
    """Run the three parts and print their tables."""
    settings = parse_args()
    print_header(settings)
    with measured_run():
        probe = max(settings.sizes)
        eigh_start = eigh_ms(probe)
        marks = [time.perf_counter()]
        op_s = operator_table(settings)
        marks.append(time.perf_counter())
        full_step_s = step_table(settings)
        marks.append(time.perf_counter())
        run_table(settings, op_s, full_step_s)
        marks.append(time.perf_counter())
        parts = ", ".join(f"{b - a:.0f} s" for a, b in itertools.pairwise(marks))
        print(
            f"\neigh of a random {probe}x{probe} PSD matrix: {eigh_start:.1f} ms at the start, "
            f"{eigh_ms(probe):.1f} ms at the end; parts 1-3 took {parts}"
        )


if __name__ == "__main__":
    main()
