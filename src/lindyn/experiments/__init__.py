"""Experiments: one module per paper system, each a Config and simulate/predict/compare/figure."""

from lindyn._stats import calibrated_error as calibrated_error
from lindyn.experiments import capacity as capacity
from lindyn.experiments import deep as deep
from lindyn.experiments import dln as dln
from lindyn.experiments import linreg as linreg
from lindyn.experiments import mixed as mixed
from lindyn.experiments import pesme as pesme
from lindyn.experiments import saddle as saddle
from lindyn.experiments import saxe as saxe
from lindyn.experiments._common import ClockConfig as ClockConfig
from lindyn.experiments._compare import curve_metrics as curve_metrics
from lindyn.experiments._phase import phase_figure as phase_figure
from lindyn.experiments._phase import save_phase_figure as save_phase_figure
from lindyn.experiments._registry import Experiment as Experiment
from lindyn.experiments._registry import get as get
from lindyn.experiments._registry import names as names
from lindyn.experiments._registry import register as register
from lindyn.experiments._run import RunResult as RunResult
from lindyn.experiments._run import check_seeds as check_seeds
from lindyn.experiments._run import run as run
from lindyn.experiments._verdict import VERDICTS as VERDICTS
from lindyn.experiments._verdict import Verdict as Verdict
from lindyn.experiments._verdict import combined_verdict as combined_verdict
from lindyn.experiments._verdict import curve_verdict as curve_verdict
from lindyn.experiments._verdict import observables as observables
