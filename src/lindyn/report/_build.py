"""Run every registered experiment and write the report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lindyn.experiments import RunResult, get, names, run
from lindyn.figures import FigureResult, figure_names, get_figure
from lindyn.report._html import write_index

__all__ = ["build_report"]


def build_report(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    experiments: tuple[str, ...] | None = None,
    figures: tuple[str, ...] | None = None,
    progress: bool = True,
) -> tuple[Path, list[RunResult], list[FigureResult]]:
    """Run the experiments and draw the figures (all registered ones by default), and write
    ``out/index.html``.

    Each experiment's ``result.nc``, ``figure.png`` and ``metrics.json`` go to
    ``out/<experiment>/``, each figure's ``figure.png``, ``data.nc`` and ``metrics.json`` to
    ``out/<figure>/``. A progress bar on stderr shows what is running.

    Returns:
        The path of ``index.html``, the runs and the figures (failures are reported, not raised).
    """
    out = Path(out)
    chosen = experiments or names()
    plates = figure_names() if figures is None else figures
    results: list[RunResult] = []
    drawn: list[FigureResult] = []
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not progress) as bar:
        task = bar.add_task("report", total=len(chosen) + len(plates))
        for name in chosen:
            bar.update(task, description=f"report: {name}")
            exp = get(name)
            result = run(exp, exp.config(quick=quick), seeds=seeds, throw=False)
            result.save(out / name)
            results.append(result)
            bar.advance(task)
        for name in plates:
            bar.update(task, description=f"report: figure {name}")
            figure = get_figure(name)(quick=quick)
            figure.save(out / name)
            drawn.append(figure)
            bar.advance(task)
    return write_index(out, results, drawn, quick=quick), results, drawn
