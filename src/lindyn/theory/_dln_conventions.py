r"""Converting other diagonal-network conventions to lindyn's (the README's dln notes §1.4).

lindyn: :math:`\beta = u\odot v`, :math:`u(0) = \sqrt2\alpha`, :math:`v(0) = 0`, gradient flow on
:math:`\frac12\|y - X\beta\|^2 + \frac\lambda2(\|u\|^2 + \|v\|^2)`, design entries
:math:`\mathcal N(0, 1/d)` (a design :math:`x \sim \mathcal N(0, I)` with predictor
:math:`\langle x, \beta\rangle/\sqrt d` is the same thing).

Their parametrization, and what it is in ours:

* ``"uv"``: lindyn's; unchanged.
* ``"uv_unit"``: :math:`u(0) = \alpha_E`, :math:`v(0) = 0`; :math:`\alpha = \alpha_E/\sqrt2`.
* ``"pm"``: :math:`\beta = w_+^2 - w_-^2`, :math:`w_\pm(0) = \alpha_W` (Woodworth et al.);
  :math:`\alpha = \sqrt2\alpha_W`, :math:`t = 2t_W`, :math:`\lambda = \lambda'/2`.
* ``"pm_half"``: :math:`\beta = (w_+^2 - w_-^2)/2`, :math:`w_\pm(0) = \alpha`; unchanged (an
  orthogonal change of variables).

A loss multiplied by ``loss_scale`` :math:`c` (the mean over samples: :math:`c = 1/n`) runs at
:math:`t = c\,t_{\rm theirs}` with weight decay :math:`\lambda'/c`.
"""

from __future__ import annotations

import dataclasses
import math

from lindyn.theory._checks import validate

__all__ = ["DLNUnits", "to_lindyn_units"]

# parametrization -> (alpha factor, time factor); the weight decay divides by the time factor
_FACTORS = {
    "uv": (1.0, 1.0),
    "uv_unit": (1.0 / math.sqrt(2.0), 1.0),
    "pm": (math.sqrt(2.0), 2.0),
    "pm_half": (1.0, 1.0),
}


@dataclasses.dataclass(frozen=True)
class DLNUnits:
    """Initialization scale, time and weight decay in lindyn's convention."""

    alpha: float
    time: float | None
    lam: float


def to_lindyn_units(
    parametrization: str,
    alpha: float,
    *,
    time: float | None = None,
    weight_decay: float = 0.0,
    loss_scale: float = 1.0,
) -> DLNUnits:
    r"""Map a configuration in another convention (module table) to lindyn's.

    Args:
        parametrization: ``"uv"``, ``"uv_unit"``, ``"pm"`` or ``"pm_half"``.
        alpha: their initialization scale (> 0).
        time: their gradient-flow time (optional).
        weight_decay: their :math:`\lambda'` on all factors, :math:`\frac{\lambda'}2\|w\|^2`.
        loss_scale: :math:`c` in their loss :math:`c\cdot\frac12\|y - X\beta\|^2` (> 0).

    Example:
        >>> to_lindyn_units("pm", 0.1, time=3.0, weight_decay=0.2)
        DLNUnits(alpha=0.14142135623730953, time=6.0, lam=0.1)
    """
    known = ", ".join(_FACTORS)
    validate(
        [
            ("parametrization", parametrization, parametrization in _FACTORS, f"one of {known}"),
            ("alpha", alpha, alpha > 0, "> 0"),
            ("loss_scale", loss_scale, loss_scale > 0, "> 0"),
            ("weight_decay", weight_decay, weight_decay >= 0, ">= 0"),
        ]
    )
    scale, speed = _FACTORS[parametrization]
    speed *= loss_scale
    return DLNUnits(scale * alpha, None if time is None else speed * time, weight_decay / speed)
