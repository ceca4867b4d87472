"""The storage-capacity theory of one system in one namespace (capacity spec, issue 7).

The same objects as in :mod:`lindyn.theory`, gathered for ``from lindyn.theory import
capacity``: activations and their Gaussian statistics (``_activations``), the
:math:`K \\to \\infty` replica-symmetric theory (``_capacity``: :func:`capacity_theory`,
:class:`CapacityTheory` with ``alpha_c``, ``transition()``, ``overlap``, ``sum_vector``), and
finite width (``_capacity_finite``: one unit exactly, the Gaussian approximation's
:func:`finite_width_capacity` and the saddle point :func:`finite_width_saddle`).

Example:
    >>> from lindyn.theory import capacity
    >>> round(capacity.capacity_theory("quadratic").alpha_c, 10)
    4.0
"""

from lindyn.theory._activations import ACTIVATIONS as ACTIVATIONS
from lindyn.theory._activations import Activation as Activation
from lindyn.theory._activations import ActivationStats as ActivationStats
from lindyn.theory._activations import activation as activation
from lindyn.theory._activations import activation_stats as activation_stats
from lindyn.theory._activations import derivative_kernel as derivative_kernel
from lindyn.theory._capacity import TABLE_ACTIVATIONS as TABLE_ACTIVATIONS
from lindyn.theory._capacity import CapacityTheory as CapacityTheory
from lindyn.theory._capacity import Transition as Transition
from lindyn.theory._capacity import capacity_row as capacity_row
from lindyn.theory._capacity import capacity_theory as capacity_theory
from lindyn.theory._capacity import gardner_energy as gardner_energy
from lindyn.theory._capacity import gardner_slope as gardner_slope
from lindyn.theory._capacity_finite import FiniteWidthCapacity as FiniteWidthCapacity
from lindyn.theory._capacity_finite import FiniteWidthSaddle as FiniteWidthSaddle
from lindyn.theory._capacity_finite import finite_width_capacity as finite_width_capacity
from lindyn.theory._capacity_finite import finite_width_saddle as finite_width_saddle
from lindyn.theory._capacity_finite import gardner_threshold_capacity as gardner_threshold_capacity
from lindyn.theory._capacity_finite import single_unit_capacity as single_unit_capacity

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ActivationStats",
    "activation",
    "activation_stats",
    "derivative_kernel",
    "TABLE_ACTIVATIONS",
    "CapacityTheory",
    "Transition",
    "capacity_row",
    "capacity_theory",
    "gardner_energy",
    "gardner_slope",
    "FiniteWidthCapacity",
    "FiniteWidthSaddle",
    "finite_width_capacity",
    "finite_width_saddle",
    "gardner_threshold_capacity",
    "single_unit_capacity",
]
