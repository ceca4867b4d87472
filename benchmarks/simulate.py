"""Throughput of diagonal-linear-network training: gradient descent and gradient flow.

Not run in CI. Every number is printed next to a baseline measured in the same run: the
machine's matvec roofline (NumPy ``X @ v`` and ``X.T @ r``, bytes of ``X`` read per second) and
a plain NumPy implementation of the same computation (a Python loop for gradient descent,
``scipy.integrate.solve_ivp`` with RK45 for gradient flow).

Usage::

    python benchmarks/simulate.py              # d in {1000, 4000}, n = d/2
    python benchmarks/simulate.py --quick      # d = 500 only
    python benchmarks/simulate.py --sizes 2000 8000

See ``benchmarks/README.md`` for the meaning of every column.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import scipy
from scipy.integrate import solve_ivp

import lindyn
from lindyn.models import DiagonalLinear, DiagonalParams
from lindyn.train import Solution, gradient_descent, gradient_flow, log_steps, log_times, recorder

ALPHA = 0.1  # initialization scale of the diagonal network
RHO = 0.1  # density of the sparse teacher
ETA = 0.1  # gradient-descent learning rate (stable for these sizes at loss scale 1)
STEPS = 200  # gradient-descent steps
T_MAX = 20.0  # gradient-flow horizon
RTOL, ATOL = 1e-8, 1e-10  # ODE tolerances, the same for diffrax and SciPy
NUM_RECORDS = 12  # log-spaced records of the training loss
DEFAULT_SIZES = (1000, 4000)
QUICK_SIZES = (500,)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One teacher-student instance, as JAX arrays and as NumPy copies."""

    d: int
    n: int
    X: jax.Array
    y: jax.Array
    Xn: np.ndarray
    yn: np.ndarray

    @property
    def matrix_bytes(self) -> int:
        """Bytes of ``X`` read by one matvec."""
        return 8 * self.n * self.d


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table."""

    bench: str
    d: int
    n: int
    compile_s: float
    run_s: float
    evals: int
    numpy_s: float
    numpy_evals: int
    roof_eval_s: float

    def cells(self) -> list[str]:
        """Formatted table cells (see ``COLUMNS``)."""
        return [
            self.bench,
            str(self.d),
            str(self.n),
            f"{self.compile_s:.2f}",
            f"{self.run_s:.4g}",
            str(self.evals),
            f"{self.evals / self.run_s:.0f}",
            f"{self.roof_eval_s * self.evals / self.run_s:.3f}",
            f"{self.numpy_s:.4g}",
            str(self.numpy_evals),
            f"{self.roof_eval_s * self.numpy_evals / self.numpy_s:.3f}",
            f"{self.numpy_s / self.run_s:.2f}",
        ]


COLUMNS = [
    "bench",
    "d",
    "n",
    "compile_s",
    "run_s",
    "evals",
    "evals/s",
    "roofline",
    "numpy_s",
    "np_evals",
    "np_roofline",
    "speedup",
]


def usable_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_summary() -> str:
    """The loaded BLAS libraries (NumPy's, SciPy's) and their threads, via threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '?')} (numpy.show_config)"
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(
        f"{os.path.basename(os.path.dirname(i['filepath'])).removesuffix('.libs')}: "
        f"{i['internal_api']} {i['version']} arch={i.get('architecture', '?')} "
        f"threads={i['num_threads']}"
        for i in infos
    )


def other_cpu_seconds() -> float:
    """CPU seconds used so far by other processes (and the hypervisor), from ``/proc/stat``."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy - own.user - own.system


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def print_header(title: str, lines: Sequence[str], versions: dict[str, str] | None = None) -> None:
    """The opening lines of a benchmark's output, so that it can be read on its own.

    ``lindyn benchmark: <title> (<now>)``, then, indented by two spaces: the versions of
    Python, NumPy, SciPy, JAX, lindyn and of ``versions``; the machine, CPU model and usable
    cores; the loaded BLAS libraries; ``OPENBLAS_NUM_THREADS`` and JAX's x64 flag; the load
    average; then ``lines`` (the benchmark's own settings).
    """
    now = datetime.datetime.now().isoformat(timespec="seconds")
    print(f"lindyn benchmark: {title} ({now})")
    found = {"python": platform.python_version(), "numpy": np.__version__}
    found |= {"scipy": scipy.__version__, "jax": jax.__version__, "lindyn": lindyn.__version__}
    found |= versions or {}
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(unset)")
    print("  " + ", ".join(f"{name} {version}" for name, version in found.items()))
    print(f"  machine: {platform.machine()} {cpu_model()}, {usable_cores()} usable cores")
    print(f"  BLAS: {blas_summary()}")
    print(f"  OPENBLAS_NUM_THREADS={threads}, JAX x64={jax.config.jax_enable_x64}")
    print(f"  load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for line in lines:
        print(f"  {line}")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "   ") -> None:
    """Plain-text table, right-aligned columns, each line starting with ``indent``."""
    cells = [header, *rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    for line in cells:
        print(indent + "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


def print_settings(sizes: list[int], repeats: int, budget: float) -> None:
    """This benchmark's header: :func:`print_header` with its problem and timing rules."""
    print_header(
        "DLN throughput",
        [
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
            f"JAX devices: {jax.devices()}",
            f"problem: d in {sizes}, n=d/2, alpha={ALPHA}, rho={RHO}, loss scale 1",
            f"GD: eta={ETA}, {STEPS} steps; GF: Tsit5 to T={T_MAX}, rtol={RTOL}, atol={ATOL}",
            f"timing: best of {repeats} runs (fewer past {budget:.0f} s, up to 50 while under 0.5 s)",
        ],
        {"diffrax": diffrax.__version__},
    )


def make_problem(d: int, seed: int = 0) -> Problem:
    """Gaussian design with N(0, 1/d) entries, sparse teacher, noiseless labels."""
    n = d // 2
    k_x, k_teacher = jax.random.split(jax.random.key(seed))
    X = lindyn.data.gaussian_design(k_x, n, d, variance=1.0 / d)
    y = X @ lindyn.data.sparse_teacher(k_teacher, d, RHO)
    X, y = jax.block_until_ready((X, y))
    return Problem(d, n, X, y, np.array(X), np.array(y))


def best_time(fn: Callable[[], Any], repeats: int, budget: float) -> tuple[float, Any]:
    """Best wall time of ``fn()`` and its last output.

    Calls ``fn`` ``repeats`` times (fewer once ``budget`` s are spent; more, up to 50, while the
    calls together take under half a second, so that short runs get enough samples).
    """
    best, out, start = np.inf, None, time.perf_counter()
    for i in range(max(repeats, 50)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if elapsed > budget or (i + 1 >= repeats and elapsed > 0.5):
            break
    return best, out


def matvec_time(fn: Callable[[], Any]) -> float:
    """Best time of one matvec over 10 samples, each averaging calls for about 20 ms."""
    t0 = time.perf_counter()
    fn()
    inner = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-7)))

    def batch() -> None:
        for _ in range(inner):
            fn()

    return best_time(batch, 10, budget=5.0)[0] / inner


def matvec_times(problem: Problem) -> np.ndarray:
    """Best NumPy times of ``X @ v`` and ``X.T @ r`` (the two matvecs of a gradient)."""
    rng = np.random.default_rng(1)
    v, r = rng.standard_normal(problem.d), rng.standard_normal(problem.n)
    return np.array([matvec_time(lambda: problem.Xn @ v), matvec_time(lambda: problem.Xn.T @ r)])


def roofline(problem: Problem, times: np.ndarray) -> float:
    """Roofline time of one gradient evaluation from the matvec ``times``; prints bandwidths."""
    gbs = problem.matrix_bytes / times / 1e9
    print(
        f"roofline d={problem.d} n={problem.n}: X@v {gbs[0]:.1f} GB/s, X.T@r {gbs[1]:.1f} GB/s"
        f" -> {1e6 * times.sum():.0f} us per gradient evaluation (2 matvecs of "
        f"{problem.matrix_bytes / 1e6:.0f} MB)"
    )
    return float(times.sum())


def compile_and_time(
    fn: Callable[..., Solution], args: tuple[Any, ...], repeats: int, budget: float
) -> tuple[float, float, Solution]:
    """Compile time (ahead of time, apart) and best steady-state run time of a jitted ``fn``."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    run_s, sol = best_time(lambda: jax.block_until_ready(compiled(*args)), repeats, budget)
    return compile_s, run_s, sol


def check_ok(sol: Solution, what: str) -> None:
    """Stop if a lindyn run diverged or its solver failed: a failed run times nothing useful."""
    if int(sol.status) != 0:
        raise RuntimeError(f"{what}: lindyn run failed with status {int(sol.status)}")


def lindyn_programs(
    problem: Problem, grad_hook: Callable[[], None] | None = None
) -> tuple[Callable[..., Solution], Callable[..., Solution]]:
    """The lindyn GD and GF runs as functions of ``(X, y, params0)``, to be jitted."""
    model = DiagonalLinear(problem.d, ALPHA, parametrization="uv")
    steps, times = log_steps(STEPS, NUM_RECORDS), log_times(T_MAX, NUM_RECORDS)

    def parts(X: jax.Array, y: jax.Array) -> tuple[Callable[..., Any], Callable[..., Any]]:
        def grad(p: DiagonalParams) -> DiagonalParams:
            if grad_hook is not None:
                jax.debug.callback(grad_hook)
            return model.grad(p, X, y, scale=1.0)

        return grad, recorder(loss=lambda p: model.loss(p, X, y, scale=1.0))

    def gd(X: jax.Array, y: jax.Array, p0: DiagonalParams) -> Solution:
        grad, observe = parts(X, y)
        return gradient_descent(grad, p0, eta=ETA, record_steps=steps, observe=observe)

    def gf(X: jax.Array, y: jax.Array, p0: DiagonalParams) -> Solution:
        grad, observe = parts(X, y)
        return gradient_flow(grad, p0, jnp.asarray(times), observe=observe, rtol=RTOL, atol=ATOL)

    return gd, gf


def count_flow_evals(problem: Problem, p0: DiagonalParams) -> int:
    """Gradient evaluations of one lindyn gradient-flow solve, counted by a host callback."""
    count = [0]

    def bump() -> None:
        count[0] += 1

    _, gf = lindyn_programs(problem, grad_hook=bump)
    jax.block_until_ready(jax.jit(gf)(problem.X, problem.y, p0))
    return count[0]


def numpy_loss(problem: Problem, u: np.ndarray, v: np.ndarray) -> float:
    """Training loss (1/2)||X (u*v) - y||^2 in NumPy."""
    r = problem.Xn @ (u * v) - problem.yn
    return 0.5 * float(r @ r)


def numpy_gd(problem: Problem, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The same GD as lindyn in a plain NumPy loop; returns the loss at the same records."""
    X, y, losses, done = problem.Xn, problem.yn, [], 0
    for stop in log_steps(STEPS, NUM_RECORDS):
        for _ in range(done, int(stop)):
            g = X.T @ (X @ (u * v) - y)
            u, v = u - ETA * v * g, v - ETA * u * g
        done = int(stop)
        losses.append(numpy_loss(problem, u, v))
    return np.array(losses)


def numpy_gf(problem: Problem, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, int]:
    """The same gradient flow with SciPy RK45; returns the losses and the gradient evaluations."""
    X, y, d = problem.Xn, problem.yn, problem.d

    def rhs(t: float, z: np.ndarray) -> np.ndarray:
        g = X.T @ (X @ (z[:d] * z[d:]) - y)
        return np.concatenate([-z[d:] * g, -z[:d] * g])

    times = log_times(T_MAX, NUM_RECORDS)
    z0 = np.concatenate([u, v])
    sol = solve_ivp(rhs, (0.0, T_MAX), z0, method="RK45", t_eval=times, rtol=RTOL, atol=ATOL)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    losses = [numpy_loss(problem, z[:d], z[d:]) for z in sol.y.T]
    return np.array(losses), int(sol.nfev)


def rel_diff(a: Any, b: np.ndarray) -> float:
    """Largest relative difference between two recorded loss curves."""
    a = np.asarray(a)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def bench_lindyn(
    problem: Problem, p0: DiagonalParams, repeats: int, budget: float
) -> tuple[tuple[float, float, Solution], tuple[float, float, Solution], int]:
    """(compile s, run s, solution) of lindyn GD and of GF, and the GF gradient evaluations."""
    gd, gf = lindyn_programs(problem)
    args = (problem.X, problem.y, p0)
    gd_result = compile_and_time(gd, args, repeats, budget)
    check_ok(gd_result[2], f"GD d={problem.d}")
    gf_result = compile_and_time(gf, args, repeats, budget)
    check_ok(gf_result[2], f"GF d={problem.d}")
    return gd_result, gf_result, count_flow_evals(problem, p0)


def bench_size(d: int, repeats: int, budget: float) -> tuple[list[Row], str]:
    """GD and GF rows for one size, and a line checking lindyn against the baselines."""
    problem = make_problem(d)
    mv_times = matvec_times(problem)
    p0 = DiagonalLinear(d, ALPHA, parametrization="uv").init(jax.random.key(0))
    u0, v0 = np.array(p0.u), np.array(p0.v)
    (gd_c, gd_s, gd_sol), (gf_c, gf_s, gf_sol), gf_evals = bench_lindyn(
        problem, p0, repeats, budget
    )
    np_gd_s, np_gd_loss = best_time(lambda: numpy_gd(problem, u0, v0), repeats, budget)
    np_gf_s, (np_gf_loss, np_gf_evals) = best_time(
        lambda: numpy_gf(problem, u0, v0), repeats, budget
    )
    # the roofline is the best of a measurement before and one after the runs
    roof = roofline(problem, np.minimum(mv_times, matvec_times(problem)))
    rows = [
        Row("GD", d, problem.n, gd_c, gd_s, STEPS, np_gd_s, STEPS, roof),
        Row("GF", d, problem.n, gf_c, gf_s, gf_evals, np_gf_s, np_gf_evals, roof),
    ]
    gd_loss, gf_loss = gd_sol.observables["loss"], gf_sol.observables["loss"]
    check = (
        f"d={d}: GD loss {float(gd_loss[-1]):.6g}, max rel. diff vs NumPy "
        f"{rel_diff(gd_loss, np_gd_loss):.1e}; GF loss {float(gf_loss[-1]):.6g}, "
        f"max rel. diff vs SciPy {rel_diff(gf_loss, np_gf_loss):.1e}"
    )
    return rows, check


def parse_args() -> argparse.Namespace:
    """Command line: ``--quick``, ``--sizes``, ``--repeats``, ``--budget``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help=f"only d in {list(QUICK_SIZES)}")
    group.add_argument("--sizes", type=int, nargs="+", help="input dimensions d (n = d/2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (best is kept)")
    parser.add_argument(
        "--budget", type=float, default=20.0, help="stop repeating a measurement after this many s"
    )
    return parser.parse_args()


def main() -> None:
    """Run every size and print the roofline lines, the table and the checks."""
    args = parse_args()
    sizes = list(QUICK_SIZES if args.quick else args.sizes or DEFAULT_SIZES)
    print_settings(sizes, args.repeats, args.budget)
    start, others, rows, checks = time.perf_counter(), other_cpu_seconds(), [], []
    for d in sizes:
        size_rows, check = bench_size(d, args.repeats, args.budget)
        rows += size_rows
        checks.append(check)
    print()
    print_table(COLUMNS, [row.cells() for row in rows], indent="")
    print()
    print("checks (lindyn against the NumPy/SciPy baselines on the same problem):")
    for line in checks:
        print(f"  {line}")
    print_load(start, others)


def print_load(start: float, others: float) -> None:
    """The run's wall time and the CPU time other processes took meanwhile (since ``start``,
    ``others`` = :func:`other_cpu_seconds` then)."""
    wall, others = time.perf_counter() - start, other_cpu_seconds() - others
    cores = usable_cores()
    print(
        f"total {wall:.0f} s; other processes used {others:.1f} CPU s "
        f"({100 * others / (wall * cores):.0f}% of {cores} cores): numbers are trustworthy "
        "only when this is near 0"
    )


@contextlib.contextmanager
def measured_run() -> Iterator[None]:
    """Time the enclosed run and end it with :func:`print_load` (the load line)."""
    start, others = time.perf_counter(), other_cpu_seconds()
    yield
    print_load(start, others)


if __name__ == "__main__":
    main()
