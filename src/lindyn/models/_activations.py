"""Built-in activation functions, by name."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

__all__ = ["ACTIVATIONS", "KINKS", "activation"]

Activation = Callable[[jax.Array], jax.Array]

ACTIVATIONS: dict[str, Activation] = {
    "linear": lambda z: z,
    "relu": jax.nn.relu,
    "erf": lambda z: jsp.erf(z / jnp.sqrt(2.0)),
    "tanh": jnp.tanh,
    "quadratic": lambda z: z**2,
    "sigmoid": jax.nn.sigmoid,
    "gelu": lambda z: jax.nn.gelu(z, approximate=False),
    "silu": jax.nn.silu,
    "softplus": jax.nn.softplus,
}

KINKS: dict[str, tuple[float, ...]] = {"relu": (0.0,)}
"""Where a built-in activation is not analytic (Gaussian quadratures split there)."""


def activation(spec: str | Activation) -> Activation:
    """The activation named ``spec`` (see :data:`ACTIVATIONS`), or ``spec`` itself if callable.

    Raises:
        ValueError: unknown name, or a function that is not finite on standard-normal inputs.
    """
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"activation: unknown {spec!r}; one of {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[spec]
    if not callable(spec):
        raise ValueError(f"activation: must be a name or a function, got {spec!r}")
    probe = np.asarray(spec(jnp.linspace(-4.0, 4.0, 17)))
    if probe.shape != (17,) or not np.all(np.isfinite(probe)):
        raise ValueError("activation: must map arrays elementwise to finite values")
    return spec
