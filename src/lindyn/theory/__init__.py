"""What the theory predicts."""

from lindyn.theory._dln_conventions import DLNUnits as DLNUnits
from lindyn.theory._dln_conventions import to_lindyn_units as to_lindyn_units
from lindyn.theory._dln_dmft import DLNDMFT as DLNDMFT
from lindyn.theory._dln_dmft import dln_dmft as dln_dmft
from lindyn.theory._dln_static import StaticPoint as StaticPoint
from lindyn.theory._dln_static import convergence_rate as convergence_rate
from lindyn.theory._dln_static import dln_fixed_point as dln_fixed_point
from lindyn.theory._dln_static import dln_fixed_point_sweep as dln_fixed_point_sweep
from lindyn.theory._dln_timescales import activation_time as activation_time
from lindyn.theory._dln_timescales import field_quantile as field_quantile
from lindyn.theory._dln_timescales import lazy_curves as lazy_curves
from lindyn.theory._dln_timescales import rich_time as rich_time
from lindyn.theory._dln_timescales import search_field_scale as search_field_scale
from lindyn.theory._dln_timescales import search_plateau as search_plateau
from lindyn.theory._fixed_point import FixedPointResult as FixedPointResult
from lindyn.theory._fixed_point import damped_fixed_point as damped_fixed_point
from lindyn.theory._grids import flow_grid as flow_grid
from lindyn.theory._linreg import LinregMoments as LinregMoments
from lindyn.theory._linreg import linreg_flow as linreg_flow
from lindyn.theory._marchenko_pastur import linear_curves as linear_curves
from lindyn.theory._marchenko_pastur import mp_integral as mp_integral
from lindyn.theory._saxe import saxe_half_time as saxe_half_time
from lindyn.theory._saxe import saxe_mode as saxe_mode
