"""One progress bar on stderr (rich), driven as ``progress(description, done, total)``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(
    *, enabled: bool = True, eta: bool = False
) -> Iterator[Callable[[str, int, int], None]]:
    """A bar showing the description, done/total and the elapsed time.

    Args:
        enabled: draw the bar (False: the callback does nothing visible).
        eta: also show the estimated time remaining (from the rate of the updates so far).
    """
    columns: list[ProgressColumn] = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    ]
    if eta:
        columns += [TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), disable=not enabled) as bar:
        task = bar.add_task("", total=None)
        yield lambda text, done, total: bar.update(
            task, description=text, completed=done, total=total
        )
