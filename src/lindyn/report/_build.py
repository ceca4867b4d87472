"""Run every registered experiment and write the report."""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from lindyn._progress import progress_bar
from lindyn._threads import one_thread_children
from lindyn.experiments import get, names, run
from lindyn.figures import FigureResult, figure_names, get_figure
from lindyn.plot import new_figure
from lindyn.report._html import Section, experiment_section, figure_section, write_index

__all__ = ["build_report", "split_sections"]


def build_report(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    experiments: tuple[str, ...] | None = None,
    figures: tuple[str, ...] | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> tuple[Path, list[Section]]:
    """Run the experiments and draw the figures (all registered ones by default), and write
    ``out/index.html``.

    Each experiment's ``result.nc``, ``figure.png`` and ``metrics.json`` go to
    ``out/<experiment>/``, each figure's ``figure.png``, ``data.nc`` and ``metrics.json`` to
    ``out/<figure>/``. With ``jobs`` > 1 the sections run in that many worker processes (JAX's
    compilation, much of a quick section's time, runs on one core); the page is the same. A
    progress bar on stderr shows what is running.

    Returns:
        The path of ``index.html`` and the sections (failures are reported, not raised).
    """
    if jobs < 1:
        raise ValueError(f"jobs: must be >= 1, got {jobs}")
    out = Path(out)
    tasks = [("experiment", n) for n in (names() if experiments is None else experiments)]
    tasks += [("figure", n) for n in (figure_names() if figures is None else figures)]
    done: dict[tuple[str, str], Section] = {}
    with progress_bar(enabled=progress) as report:
        if jobs == 1:
            for i, task in enumerate(tasks):
                report(f"report: {task[1]}", i, len(tasks))
                done[task] = make_section(*task, out, quick, seeds)
        else:
            _run_parallel(tasks, out, quick, seeds, jobs, done, report)
        report("report: done", len(tasks), len(tasks))
    sections = [done[task] for task in tasks]
    return write_index(out, sections, quick=quick), sections


def _run_parallel(tasks, out, quick, seeds, jobs, done, report) -> None:
    """Run ``tasks`` in ``jobs`` fresh processes (spawned: JAX does not survive a fork),
    figures first (they take longest), filling ``done`` as they finish."""
    context = multiprocessing.get_context("spawn")
    order = sorted(tasks, key=lambda task: task[0] != "figure")
    with (
        one_thread_children(),  # one process per job: see lindyn._threads
        ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool,
    ):
        futures: dict[Future, tuple[str, str]] = {
            pool.submit(make_section, *task, out, quick, seeds): task for task in order
        }
        for future in as_completed(futures):
            task = futures[future]
            done[task] = future.result()
            report(f"report: {task[1]} done", len(done), len(tasks))


def make_section(kind: str, name: str, out: Path, quick: bool, seeds: int | None) -> Section:
    """Run the experiment (or draw the figure) ``name``, save it under ``out/<name>/`` and
    return its rendered section."""
    start = time.perf_counter()
    if kind == "experiment":
        exp = get(name)
        result = run(exp, exp.config(quick=quick), seeds=seeds, throw=False)
        result.save(out / name)
        section = experiment_section(result)
    else:
        drawn = _draw_figure(name, quick)
        drawn.save(out / name)
        section = figure_section(drawn)
    return dataclasses.replace(section, seconds=time.perf_counter() - start)


def split_sections(only: str | None) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The experiments and the figures named in ``only`` (comma-separated; ``None``: all).

    Example:
        >>> split_sections("saxe,pesme-limit")
        (('saxe',), ('pesme-limit',))
        >>> split_sections("saxe,nope")
        Traceback (most recent call last):
        ...
        ValueError: only: unknown 'nope'; one of the experiments and figures of `lindyn list`
    """
    if only is None:
        return None, None
    chosen = [name.strip() for name in only.split(",") if name.strip()]
    if not chosen:
        raise ValueError("only: must name at least one experiment or figure")
    known = set(names()) | set(figure_names())
    for name in chosen:
        if name not in known:
            raise ValueError(
                f"only: unknown {name!r}; one of the experiments and figures of `lindyn list`"
            )
    experiments = tuple(n for n in chosen if n in names())
    return experiments, tuple(n for n in chosen if n not in experiments)


def _draw_figure(name: str, quick: bool) -> FigureResult:
    """The figure, or a failed result that names the error (the report goes on)."""
    try:
        return get_figure(name)(quick=quick)
    except Exception as error:  # a failed figure is reported on the page, not raised
        fig, _ = new_figure(1)
        message = f"{type(error).__name__}: {error}"
        return FigureResult(name, fig, {}, {}, f"failed: {message}", "failed", message)
