"""The HTML report: every experiment's figure, config and agreement metrics on one page."""

from __future__ import annotations

import dataclasses
import html
import inspect
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lindyn.experiments import RunResult
from lindyn.experiments._verdict import ORDER, Verdict
from lindyn.figures import FigureResult
from lindyn.results import atomic_write_text

__all__ = ["Section", "experiment_section", "figure_section", "write_index"]


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of the page, rendered: what the index needs of a run or a figure (small
    and picklable, so that a worker process can send it back)."""

    name: str
    kind: str  # "experiment" or "figure"
    status: str
    message: str
    verdict: Verdict | None
    html: str
    seconds: float = float("nan")  # wall time of the run or figure, saving included

    @property
    def rank(self) -> int:
        """Sections that disagree first, those not judged yet last."""
        return ORDER.index(self.verdict.value) if self.verdict is not None else len(ORDER)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; font-size: 90%; margin: .5em 1em .5em 0; }
td, th { border: 1px solid #ddd; padding: .2em .6em; text-align: left; }
.ok { color: #187018; } .bad { color: #b00020; font-weight: bold; }
.agree { color: #187018; } .disagree { color: #b00020; font-weight: bold; }
.outside_validity { color: #b36b00; font-weight: bold; } .inconclusive { color: #666; }
.row { display: flex; flex-wrap: wrap; align-items: flex-start; }
pre { white-space: pre-wrap; font-size: 85%; background: #f7f7f7; padding: .5em; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _table(rows: Mapping[str, object], fmt: Callable[[object], str] = str) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(fmt(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


def _number(v: object) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def experiment_section(result: RunResult) -> Section:
    """The rendered section of an experiment's run (saved under ``<name>/``)."""
    html_ = _section(result)
    return Section(result.name, "experiment", result.status, result.message, result.verdict, html_)


def figure_section(figure: FigureResult) -> Section:
    """The rendered section of a figure (saved under ``<name>/``)."""
    html_ = _figure_section(figure)
    return Section(figure.name, "figure", figure.status, figure.message, figure.verdict, html_)


def _section(result: RunResult) -> str:
    cls = "ok" if result.status == "ok" else "bad"
    exp = result.experiment
    seeds = result.simulation.sizes["seed"]
    caption = (
        f"{exp.summary}. Theory solid, simulation dashed with mean ± std over {seeds} seeds."
        if result.status == "ok"
        else result.message
    )
    conventions = inspect.getdoc(sys.modules[exp.simulate.__module__]) or ""
    badge, why = _verdict_html(result.verdict)
    return f"""
<h2 id="{result.name}">{html.escape(result.name)}
  <span class="{cls}">[{html.escape(result.status)}]</span> {badge}</h2>
{why}
<p>{html.escape(caption)}</p>
<details><summary>conventions</summary><pre>{html.escape(conventions)}</pre></details>
<img src="{result.name}/figure.png" alt="{result.name} figure">
<div class="row">
  <div><h3>config</h3>{_table(result.config.to_dict(), _number)}</div>
  <div><h3>agreement</h3>{_table(result.metrics, _number)}</div>
</div>
<p><a href="{result.name}/result.nc">result.nc</a> ·
   <a href="{result.name}/metrics.json">metrics.json</a></p>
"""


def _verdict_html(verdict: Verdict | None) -> tuple[str, str]:
    """The heading badge and the reason line of a verdict (a figure may have none yet)."""
    if verdict is None:
        return "", "<p class='inconclusive'>verdict: not judged for this figure yet.</p>"
    value = html.escape(verdict.value.replace("_", " "))
    badge = f'<span class="{verdict.value}">{value}</span>'
    return badge, f'<p class="{verdict.value}">verdict: {html.escape(verdict.why)}</p>'


def _figure_section(figure: FigureResult) -> str:
    cls = "ok" if figure.status == "ok" else "bad"
    failure = "" if figure.status == "ok" else f"<p class='bad'>{html.escape(figure.message)}</p>"
    badge, why = _verdict_html(figure.verdict)
    return f"""
<h2 id="{figure.name}">figure {html.escape(figure.name)}
  <span class="{cls}">[{html.escape(figure.status)}]</span> {badge}</h2>
{why}
<p>{html.escape(figure.caption)}</p>{failure}
<img src="{figure.name}/figure.png" alt="{figure.name}">
<details><summary>numbers</summary>{_table(figure.metrics, _number)}</details>
<p><a href="{figure.name}/data.nc">data.nc</a> ·
   <a href="{figure.name}/metrics.json">metrics.json</a> ·
   full sizes: <code>lindyn reproduce {figure.name}</code></p>
"""


def _took(section: Section) -> str:
    """The section's wall time after its name in the index (nothing when not measured)."""
    if not math.isfinite(section.seconds):
        return ""
    return f' <small class="inconclusive">({section.seconds:.0f} s)</small>'


def write_index(out: Path, sections: Sequence[Section], *, quick: bool) -> Path:
    """Write ``out/index.html`` for sections already saved under ``out/<name>/``: experiments,
    then figures, each in the order given with those that do not agree first."""
    sizes = "quick sizes" if quick else "full sizes"
    ordered = sorted(sections, key=lambda s: (s.kind != "experiment", s.rank))  # stable
    toc = " · ".join(f'<a href="#{s.name}">{s.name}</a>{_took(s)}' for s in ordered)
    summary = {s.name: s.status for s in ordered}
    timings = {s.name: round(s.seconds, 1) for s in ordered if math.isfinite(s.seconds)}
    verdicts = {s.name: s.verdict.to_dict() if s.verdict is not None else None for s in ordered}
    disagree = [s.name for s in ordered if s.verdict is not None and s.verdict.value != "agree"]
    headline = (
        f"<p class='disagree'>Not in agreement: {', '.join(disagree)} (listed first).</p>"
        if disagree
        else "<p class='agree'>Every judged comparison agrees within its errors.</p>"
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>lindyn report</title><style>{_STYLE}</style></head>
<body><h1>lindyn report</h1>
<p>Every registered experiment and figure at {sizes}: simulation and theory of the same
configuration (each name is followed by its wall time).</p>
<p>Each experiment carries a verdict computed from its errors: <b>agree</b>, <b>disagree</b>,
<b>outside validity</b> (the theory marks where it stops applying) or <b>inconclusive</b>;
the reason follows it.</p>
{headline}
<p>{toc}</p>
{"".join(s.html for s in ordered)}
<script type="application/json" id="summary">{json.dumps(summary)}</script>
<script type="application/json" id="verdicts">{json.dumps(verdicts)}</script>
<script type="application/json" id="seconds">{json.dumps(timings)}</script>
</body></html>
"""
    return atomic_write_text(out / "index.html", page)
