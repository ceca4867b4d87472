"""Reproducible figures of the papers' systems: ``lindyn reproduce NAME``.

A layer between the command line / report and the experiments: a figure recipe runs many
configurations of one or more experiments (through :func:`lindyn.run`, so every curve has its
simulation, theory and metrics), adds theory-only curves (static limits, timescales) and draws
them together. Its result carries the datasets, the metrics, a caption computed from those
metrics, and the first failure of any run or solver.
"""

from lindyn.figures import capacity_curves as capacity_curves
from lindyn.figures import deep_data as deep_data
from lindyn.figures import deep_depth as deep_depth
from lindyn.figures import deep_lr as deep_lr
from lindyn.figures import deep_powerlaw as deep_powerlaw
from lindyn.figures import deep_residual as deep_residual
from lindyn.figures import deep_sgd as deep_sgd
from lindyn.figures import deep_width as deep_width
from lindyn.figures import dln_alpha as dln_alpha
from lindyn.figures import dln_curves as dln_curves
from lindyn.figures import dln_grokking as dln_grokking
from lindyn.figures import dln_real as dln_real
from lindyn.figures import dln_search as dln_search
from lindyn.figures import mixed_phase as mixed_phase
from lindyn.figures import pesme_limit as pesme_limit
from lindyn.figures import saddle_depth as saddle_depth
from lindyn.figures._registry import FigureRecipe as FigureRecipe
from lindyn.figures._registry import FigureResult as FigureResult
from lindyn.figures._registry import figure_names as figure_names
from lindyn.figures._registry import get_figure as get_figure
from lindyn.figures._registry import register_figure as register_figure
