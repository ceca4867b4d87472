"""What a training run returns: times, recorded observables and a status."""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = [
    "Solution",
    "Status",
    "TrainingError",
    "status_code",
    "raise_if_failed",
    "describe_params",
]

BLOWUP = 1e10  # growth factor over the start that counts as divergence


class Status:
    """Integer status codes (arrays of them under ``vmap``)."""

    OK = 0
    MAX_STEPS = 1
    DIVERGED = 2

    MESSAGES: ClassVar[dict[int, str]] = {
        OK: "ok",
        MAX_STEPS: "the ODE solver stopped early (step budget exhausted or step size collapsed, "
        "e.g. by a diverging flow)",
        DIVERGED: "diverged: non-finite or exploding values in the recorded observables",
    }
    NAMES: ClassVar[dict[int, str]] = {OK: "ok", MAX_STEPS: "not_converged", DIVERGED: "diverged"}


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

    @property
    def message(self) -> str:
        """The worst status over all runs, in words."""
        return Status.MESSAGES[int(np.max(np.asarray(self.status)))]


def status_code(observables: dict[str, Array], solver_ok: Array | bool = True) -> Array:
    """MAX_STEPS if the ODE solver failed, else DIVERGED or OK.

    DIVERGED means a non-finite value, or an exploding one: some recorded value exceeds
    ``BLOWUP * (1 + |its value at the first record|)``. A failed solve fills the records after
    the failure with inf, so the solver's own verdict comes first.
    """
    leaves = jax.tree_util.tree_leaves(observables)
    sane = jnp.all(jnp.asarray([_sane(v) for v in leaves]))
    return jnp.where(solver_ok, jnp.where(sane, Status.OK, Status.DIVERGED), Status.MAX_STEPS)


def _sane(record: Array) -> Array:
    """Finite and not exploding, for one observable with the time axis first."""
    bound = BLOWUP * (1.0 + jnp.abs(record[0]))
    return jnp.all(jnp.isfinite(record)) & jnp.all(jnp.abs(record) <= bound)


def describe_params(params: dict[str, Any]) -> str:
    """``k1=v1, k2=v2``: the parameters named in failure messages."""
    return ", ".join(f"{k}={v}" for k, v in params.items())


class TrainingError(RuntimeError):
    """A run diverged or its solver failed; the message names the parameters."""


def raise_if_failed(solution: Solution, context: dict[str, Any]) -> None:
    """Raise :class:`TrainingError` naming ``context`` (the config) if any run failed."""
    codes = np.atleast_1d(np.asarray(solution.status))
    bad = codes != Status.OK
    if bad.any():
        code = int(codes[bad][0])
        raise TrainingError(
            f"{Status.MESSAGES[code]} in {int(bad.sum())} of {codes.size} runs "
            f"({describe_params(context)})"
        )
