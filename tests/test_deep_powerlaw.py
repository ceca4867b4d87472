"""Power-law loss exponents of deep linear networks (spec ``deep_dmft.md`` §4.6, issue 6).

The open question of the spec: is the rich-regime exponent ``2b/(1+b)`` at every depth, or
``(L+1)b/(1+Lb)``? The balanced end-to-end flow (``lindyn.theory._deep_powerlaw``) is checked
against the raw-weight gradient flow of finite networks, then integrated over ten decades,
where the fitted exponent is compared with both answers.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from lindyn.theory import balanced_flow, fit_exponent, powerlaw_exponents, powerlaw_modes
from lindyn.theory._deep_powerlaw import Modes

WINDOW = (1e4, 1e10)  # t: after the start has been forgotten, before any cut-off


def _chain_flow(modes: Modes, weights: list[np.ndarray], times: np.ndarray) -> np.ndarray:
    """Population loss along the raw-weight gradient flow of ``weights[-1] @ ... @ weights[0]``
    (the first ``(N, D)``, the last ``(1, N)``), by an explicit adaptive solver at 1e-11."""
    shapes = [w.shape for w in weights]
    sizes = np.cumsum([0] + [w.size for w in weights])

    def unpack(z):
        return [z[a:b].reshape(s) for a, b, s in zip(sizes[:-1], sizes[1:], shapes, strict=True)]

    def product(ws):
        out = ws[0]
        for w in ws[1:]:
            out = w @ out
        return out

    def field(_t, z):
        ws = unpack(z)
        beta = product(ws)[0]
        grad_beta = (modes.lam * (beta - modes.target))[None, :]  # dL/dbeta, a row
        grads = []
        for i in range(len(ws)):
            left = product(ws[i + 1 :]) if i + 1 < len(ws) else np.eye(1)
            right = product(ws[:i]) if i else np.eye(ws[0].shape[1])
            grads.append(-(left.T @ grad_beta @ right.T))
        return np.concatenate([g.ravel() for g in grads])

    z0 = np.concatenate([w.ravel() for w in weights])
    sol = solve_ivp(
        field, (0, times[-1]), z0, t_eval=times, method="DOP853", rtol=1e-11, atol=1e-14
    )
    assert sol.success, sol.message
    return np.array([modes.loss(product(unpack(z))[0]) for z in sol.y.T])


def _balanced_start(modes: Modes, L: int, width: int, start: float, rng) -> list[np.ndarray]:
    """Rank-one balanced weights whose product is ``start * beta*_1 e_1``."""
    D = modes.lam.size
    v = [q / np.linalg.norm(q) for q in rng.normal(size=(L, width))]
    s = (start * modes.target[0]) ** (1 / (L + 1))
    first = s * np.outer(v[0], np.eye(D)[0])
    hidden = [s * np.outer(v[j], v[j - 1]) for j in range(1, L)]
    return [first, *hidden, s * v[-1][None, :]]


@pytest.mark.parametrize("L", [1, 2, 3])
def test_balanced_flow_is_the_gradient_flow_of_a_balanced_network(L):
    """Arora et al.'s end-to-end equation, integrated in kernel time, against the network."""
    full = powerlaw_modes(1.5, 0.5, exact=12, kmax=13.0, per_decade=1)
    modes = Modes(full.lam[:12], full.target[:12], full.weight[:12])
    errors = []
    for per_decade in (400, 4000):
        flow = balanced_flow(modes, L, tau_max=30.0, per_decade=per_decade, start=0.05)
        keep = flow.t > 0
        chain = _chain_flow(
            modes, _balanced_start(modes, L, 5, 0.05, np.random.default_rng(L)), flow.t[keep]
        )
        errors.append(np.max(np.abs(flow.loss[keep] / chain - 1)))
    assert errors[1] < 5e-3  # the network, to the first-order error of the scheme
    assert errors[1] < errors[0] / 5  # which falls with the step


@pytest.mark.parametrize("b", [0.25, 0.5])
@pytest.mark.parametrize("L", [1, 2, 3])
def test_rich_exponent_grows_with_depth(L, b):
    """The fitted exponent is (L+1)b/(1+Lb) within 0.05 (in fact 1e-3), and for L >= 2 it is
    not the depth-independent 2b/(1+b)."""
    flow = balanced_flow(powerlaw_modes(1.5, b), L)
    fitted = fit_exponent(flow.t, flow.loss, *WINDOW)
    expected = powerlaw_exponents(b, L)
    assert fitted == pytest.approx(expected.rich, abs=1e-3)
    if L >= 2:
        assert abs(fitted - expected.two_layer) > 0.05
    kernel = fit_exponent(flow.t, 1 / flow.kernel, *WINDOW)  # kernel ~ t^((1-b)L/(1+Lb))
    assert kernel == pytest.approx((1 - b) * L / (1 + L * b), abs=2e-3)


@pytest.mark.parametrize("L", [1, 3])
def test_easy_tasks_and_lazy_flow_keep_b(L):
    """b > 1: the learned norm converges, the kernel saturates, the exponent stays b; a frozen
    kernel gives b at any b."""
    easy = balanced_flow(powerlaw_modes(1.5, 1.5), L)
    assert fit_exponent(easy.t, easy.loss, *WINDOW) == pytest.approx(1.5, abs=2e-3)
    lazy = balanced_flow(powerlaw_modes(1.5, 0.5), L, lazy=True)
    assert np.array_equal(lazy.t, lazy.tau)
    assert fit_exponent(lazy.t, lazy.loss, *WINDOW) == pytest.approx(0.5, abs=1e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="b: must be"):
        powerlaw_exponents(0.0, 2)
    with pytest.raises(ValueError, match="L: must be"):
        powerlaw_exponents(0.5, 0)
    with pytest.raises(ValueError, match="a: must be"):
        powerlaw_modes(-1.0, 0.5)
    with pytest.raises(ValueError, match="L: must be"):
        balanced_flow(powerlaw_modes(1.5, 0.5), 1.5)
