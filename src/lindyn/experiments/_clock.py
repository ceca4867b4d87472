"""One time grid for simulation and theory, and the choice between flow and descent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from jax import Array

from lindyn.train import Solution, gradient_descent, gradient_flow, log_steps, log_times

__all__ = ["Clocked", "time_grid", "train"]


class Clocked(Protocol):
    """Config fields that fix the clock: ``method`` (flow | gd), ``eta``, ``t_max``, ``num_times``."""

    method: str
    eta: float
    t_max: float
    num_times: int


def _gd_steps(config: Clocked) -> np.ndarray:
    return log_steps(max(1, round(config.t_max / config.eta)), config.num_times)


def time_grid(config: Clocked) -> np.ndarray:
    """Record times: log-spaced flow times, or ``eta * k`` at log-spaced GD steps ``k``."""
    if config.method == "flow":
        return log_times(config.t_max, config.num_times)
    return config.eta * _gd_steps(config)


def train(
    config: Clocked,
    grad_fn: Callable[[Any], Any],
    params0: Any,
    observe: Callable[[Any], dict[str, Array]],
) -> Solution:
    """Gradient flow (``method="flow"``) or descent (``"gd"``) recorded on :func:`time_grid`."""
    if config.method == "flow":
        return gradient_flow(grad_fn, params0, time_grid(config), observe=observe)
    return gradient_descent(
        grad_fn, params0, eta=config.eta, record_steps=_gd_steps(config), observe=observe
    )
