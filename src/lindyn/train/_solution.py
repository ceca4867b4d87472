"""What a training run returns: times, recorded observables and a status."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = ["Solution", "Status", "TrainingError", "status_code", "raise_if_failed"]


class Status:
    """Integer status codes (arrays of them under ``vmap``)."""

    OK = 0
    MAX_STEPS = 1
    DIVERGED = 2

    MESSAGES = {
        OK: "ok",
        MAX_STEPS: "the ODE solver stopped early (step budget exhausted or step size collapsed)",
        DIVERGED: "diverged: non-finite values (NaN/inf) in the recorded observables",
    }
    NAMES = {OK: "ok", MAX_STEPS: "not_converged", DIVERGED: "diverged"}


class Solution(NamedTuple):
    """A training run. Under ``vmap`` every field gains a leading ``seed`` axis.

    Attributes:
        times: flow times of the records (GD step ``k`` at rate ``eta`` sits at ``eta * k``).
        observables: name -> array with the time axis first.
        status: :class:`Status` code.
    """

    times: Array
    observables: dict[str, Array]
    status: Array


def status_code(observables: dict[str, Array], solver_ok: Array | bool = True) -> Array:
    """DIVERGED if any observable is non-finite, else MAX_STEPS if the solver failed, else OK."""
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(v)) for v in observables.values()]))
    return jnp.where(finite, jnp.where(solver_ok, Status.OK, Status.MAX_STEPS), Status.DIVERGED)


class TrainingError(RuntimeError):
    """A run diverged or its solver failed; the message names the parameters."""


def raise_if_failed(solution: Solution, context: dict[str, Any]) -> None:
    """Raise :class:`TrainingError` naming ``context`` (the config) if any run failed."""
    codes = np.atleast_1d(np.asarray(solution.status))
    bad = codes != Status.OK
    if bad.any():
        code = int(codes[bad][0])
        params = ", ".join(f"{k}={v}" for k, v in context.items())
        raise TrainingError(
            f"{Status.MESSAGES[code]} in {int(bad.sum())} of {codes.size} runs ({params})"
        )
