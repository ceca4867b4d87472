"""Run every registered experiment and write the report."""

from __future__ import annotations

from pathlib import Path

from lindyn._progress import progress_bar
from lindyn.experiments import RunResult, get, names, run
from lindyn.figures import FigureResult, figure_names, get_figure
from lindyn.plot import new_figure
from lindyn.report._html import write_index

__all__ = ["build_report", "split_sections"]


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
    chosen = names() if experiments is None else experiments
    plates = figure_names() if figures is None else figures
    total = len(chosen) + len(plates)
    results: list[RunResult] = []
    drawn: list[FigureResult] = []
    with progress_bar(enabled=progress) as report:
        for name in chosen:
            report(f"report: {name}", len(results), total)
            exp = get(name)
            result = run(exp, exp.config(quick=quick), seeds=seeds, throw=False)
            result.save(out / name)
            results.append(result)
        for name in plates:
            report(f"report: figure {name}", len(results) + len(drawn), total)
            figure = _draw_figure(name, quick)
            figure.save(out / name)
            drawn.append(figure)
        report("report: done", total, total)
    return write_index(out, results, drawn, quick=quick), results, drawn


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
