"""The command line: a mapping from arguments to a config, one library call, and a save."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lindyn._config import ConfigBase
    from lindyn.experiments import Experiment, RunResult

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="lindyn: learning dynamics of solvable networks, simulation next to theory.",
)
_err = Console(stderr=True)


class InputError(Exception):
    """Bad user input: printed as one line, exit code 2."""


def _parse_sets(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set: expected key=value, got {item!r}")
        if key in out:
            raise InputError(f"--set: key {key!r} given twice")
        out[key] = value.strip()
    return out


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: must be a folder, but {out} is a file")


def _config(
    experiment: str, sets: list[str], quick: bool, seeds: int | None
) -> tuple[Experiment, ConfigBase]:
    """The experiment and its validated config, or :class:`InputError`."""
    import lindyn
    from lindyn.experiments import check_seeds

    try:
        exp = lindyn.get(experiment)
        config = exp.config(quick=quick).replace_from_strings(_parse_sets(sets))
        if seeds is not None:
            check_seeds(seeds)
    except (lindyn.ConfigError, ValueError) as e:
        raise InputError(str(e)) from None
    return exp, config


@app.command("list")
def list_experiments() -> None:
    """List the registered experiments and reproducible figures, one line each."""
    import lindyn
    from lindyn.figures import figure_names, get_figure

    for name in lindyn.names():
        typer.echo(f"{name:<14} {lindyn.get(name).summary}")
    for name in figure_names():
        typer.echo(f"{name:<14} figure: {get_figure(name).summary}")


@app.command()
def show(
    experiment: Annotated[str, typer.Argument(help="registered experiment")],
    quick: Annotated[bool, typer.Option(help="show the quick sizes")] = False,
) -> None:
    """Show an experiment's config keys: default value, type, allowed range."""
    exp, config = _config(experiment, [], quick, None)
    table = Table(title=f"{exp.name}: {exp.summary}")
    for column in ("key", "value", "type and range", "meaning"):
        table.add_column(column)
    for key, text in config.describe().items():
        kind_range, _, meaning = text.partition(": ")
        table.add_row(key, str(getattr(config, key)), kind_range, meaning)
    Console().print(table)


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="registered experiment (see `lindyn list`)")],
    set_: Annotated[list[str], typer.Option("--set", help="config override key=value")] = [],  # noqa: B006
    seeds: Annotated[int | None, typer.Option(help="number of simulated seeds")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder [runs/EXPERIMENT]")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON object to stdout")
    ] = False,
    quick: Annotated[bool, typer.Option(help="small sizes")] = False,
) -> None:
    """Simulate + predict + compare; write result.nc, figure.png and metrics.json."""
    import lindyn

    exp, config = _config(experiment, set_, quick, seeds)
    out = out or Path("runs") / exp.name
    _check_out(out)
    with _err.status(f"running {exp.name} ...", spinner="dots"):
        result = lindyn.run(exp, config, seeds=seeds, throw=False)
        paths = result.save(out)
    if as_json:
        typer.echo(json.dumps(result.payload(), allow_nan=False))
    else:
        _print_summary(result, paths)
    if result.status != "ok":
        _err.print(f"[red]{result.message}[/red]")
        raise typer.Exit(1)


def _print_summary(result: RunResult, paths: dict[str, Path]) -> None:
    table = Table(title=f"{result.name}: {result.status}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        table.add_row(key, f"{value:.4g}")
    console = Console()
    console.print(table)
    colour = _VERDICT_COLOUR[result.verdict.value]
    console.print(
        f"verdict: [{colour}]{result.verdict.value}[/{colour}]: {result.verdict.why}",
        highlight=False,
    )
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")


_VERDICT_COLOUR = {
    "agree": "green",
    "disagree": "bold red",
    "outside_validity": "yellow",
    "inconclusive": "dim",
}


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("report"),
    quick: Annotated[bool, typer.Option(help="small sizes (the demo)")] = False,
    seeds: Annotated[int | None, typer.Option(help="seeds per experiment")] = None,
    only: Annotated[
        str | None, typer.Option(help="comma-separated experiments and figures [all]")
    ] = None,
    jobs: Annotated[int, typer.Option(help="worker processes (sections run in parallel)")] = 1,
) -> None:
    """Run every registered experiment and figure (or those named by --only) and write
    OUT/index.html."""
    from lindyn.experiments import check_seeds
    from lindyn.report import build_report, split_sections

    try:
        if seeds is not None:
            check_seeds(seeds)
        experiments, figures = split_sections(only)
        if jobs < 1:
            raise ValueError(f"jobs: must be >= 1, got {jobs}")
    except ValueError as e:
        raise InputError(str(e)) from None
    _check_out(out)
    index, sections = build_report(
        out, quick=quick, seeds=seeds, experiments=experiments, figures=figures, jobs=jobs
    )
    typer.echo(str(index.resolve()))
    failed = [r for r in sections if r.status != "ok"]
    for r in failed:
        _err.print(f"[red]{r.name}: {r.message}[/red]")
    if failed:
        raise typer.Exit(1)


@app.command()
def reproduce(
    figure: Annotated[str, typer.Argument(help="registered figure (see `lindyn list`)")],
    out: Annotated[Path | None, typer.Option(help="output folder [figures/FIGURE]")] = None,
    quick: Annotated[bool, typer.Option(help="small sizes (minutes, not hours)")] = False,
) -> None:
    """Run everything one figure needs; write figure.png, data.nc and metrics.json.

    A figure built on a sweep keeps the sweep's store in OUT/sweep (OUT/sweep-quick with
    --quick): the same command after a crash resumes it.
    """
    import lindyn
    from lindyn.figures import get_figure

    try:
        recipe = get_figure(figure)
    except lindyn.ConfigError as e:
        raise InputError(str(e)) from None
    out = out or Path("figures") / recipe.name
    _check_out(out)
    from lindyn._progress import progress_bar

    with progress_bar() as progress:
        result = recipe(quick=quick, progress=progress, workdir=out / f"sweep{'-quick' * quick}")
    paths = result.save(out)
    console = Console()
    console.print(result.caption)
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")
    if result.status != "ok":
        _err.print(f"[red]{result.message}[/red]")
        raise typer.Exit(1)


@app.command("sweep")
def sweep_command(
    experiment: Annotated[str, typer.Argument(help="registered experiment (see `lindyn list`)")],
    out: Annotated[Path, typer.Option(help="output folder; the store is OUT/sweep.zarr")],
    grid: Annotated[
        list[str], typer.Option("--grid", help="axis key=v1,v2,... or key=start:stop:num")
    ] = [],  # noqa: B006
    set_: Annotated[list[str], typer.Option("--set", help="fixed value key=value")] = [],  # noqa: B006
    seeds: Annotated[int | None, typer.Option(help="simulated seeds per point")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="address of a running dask scheduler (default: a new local cluster)"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="number of local worker processes (default: 2)")
    ] = None,
    quick: Annotated[bool, typer.Option(help="start from the quick config")] = False,
) -> None:
    """Run EXPERIMENT at every grid point (one dask task each) into OUT/sweep.zarr.

    Re-running the same command resumes: only pending and failed points are computed.
    """
    import lindyn
    from lindyn.sweep import STORE_NAME, StoreMismatchError, SweepInterrupted, failures, summarize

    axes, fixed = _sweep_inputs(experiment, grid, set_, seeds, workers, scheduler)
    _check_out(out)
    try:
        ds = lindyn.sweep(
            experiment,
            axes,
            fixed=fixed,
            seeds=seeds,
            quick=quick,
            client=scheduler,
            workers=workers,
            out=out,
        )
    except (lindyn.ConfigError, StoreMismatchError) as e:
        raise InputError(str(e)) from None
    except SweepInterrupted as e:
        print(f"lindyn: {e}", file=sys.stderr)
        raise typer.Exit(130) from None
    typer.echo(str((out / STORE_NAME).resolve()))
    typer.echo(f"{summarize(ds)}; {ds.attrs['points_computed']} computed by this run")
    failed = failures(ds)
    for line in failed[:3]:
        _err.print(f"failed at {line}", style="red", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def _sweep_inputs(
    experiment: str,
    grid: list[str],
    sets: list[str],
    seeds: int | None,
    workers: int | None,
    scheduler: str | None,
) -> tuple[dict[str, list], dict[str, object]]:
    """The parsed axes and fixed values, or :class:`InputError` (the rest: ``lindyn.sweep``)."""
    import lindyn
    from lindyn.experiments import check_seeds
    from lindyn.sweep import check_workers, parse_fixed, parse_grid

    if not grid:
        raise InputError("--grid: give at least one axis key=v1,v2,... or key=start:stop:num")
    try:
        Config = lindyn.get(experiment).Config
        axes, fixed = parse_grid(grid, Config), parse_fixed(_parse_sets(sets), Config)
        if seeds is not None:
            check_seeds(seeds)
        check_workers(workers, scheduler)
    except (lindyn.ConfigError, ValueError) as e:
        raise InputError(str(e)) from None
    return axes, fixed


plot_app = typer.Typer(no_args_is_help=True, help="Draw stored results.")
app.add_typer(plot_app, name="plot")


@plot_app.command("phase-diagram")
def phase_diagram(
    folder: Annotated[Path, typer.Argument(help="the --out folder of `lindyn sweep`")],
    out: Annotated[Path | None, typer.Option(help="image [FOLDER/phase-diagram.png]")] = None,
) -> None:
    """Draw a 2-D sweep: the experiment's phase diagram, or one map per summary metric."""
    from lindyn.experiments import save_phase_figure
    from lindyn.sweep import load_sweep

    try:
        ds = load_sweep(folder)
        path = save_phase_figure(ds, out or folder / "phase-diagram.png")
    except FileNotFoundError as e:
        raise InputError(
            f"FOLDER: {e} (write one with `lindyn sweep ... --out {folder}`)"
        ) from None
    except ValueError as e:
        raise InputError(str(e)) from None
    typer.echo(str(path))


@app.command("capacity-table")
def capacity_table(
    as_json: Annotated[
        bool, typer.Option("--json", help="print a JSON list of objects to stdout")
    ] = False,
) -> None:
    """Storage capacity per parameter (K -> inf, RS) and the permutation-symmetry-breaking
    transition of every built-in activation."""
    from lindyn.theory import TABLE_ACTIVATIONS, capacity_row

    rows = []
    with _err.status("solving the replica-symmetric theory ...", spinner="dots") as status:
        for name in TABLE_ACTIVATIONS:
            status.update(f"solving the replica-symmetric theory: {name}")
            rows.append(capacity_row(name))
    if as_json:
        typer.echo(json.dumps(rows, allow_nan=False))
        return
    table = Table(title="storage capacity per parameter, K -> inf, replica symmetric")
    for column in ("activation", "alpha_c", "PSB load", "kind", "spinodal"):
        table.add_column(column)
    for r in rows:
        spinodal = f"{r['spinodal']:.4f}" if "spinodal" in r else "-"
        cells = (r["activation"], f"{r['alpha_c']:.5f}", f"{r['transition']:.4f}", r["kind"])
        table.add_row(*cells, spinodal)
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lindyn`` script; bad input exits 2 with one line on stderr."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="lindyn", standalone_mode=False)
    except InputError as e:
        print(f"lindyn: error: {e}", file=sys.stderr)
        return 2
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        print("lindyn: aborted", file=sys.stderr)
        return 130
    except Exception as e:  # the command-line parser's usage errors carry format_message()
        if not hasattr(e, "format_message"):
            raise
        message = e.format_message()
        if message:
            print(f"lindyn: error: {message}", file=sys.stderr)
        return int(getattr(e, "exit_code", 2))
    return code if isinstance(code, int) else 0
