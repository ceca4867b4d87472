"""The deep-linear DMFT (``shared/theory/deep_dmft.md``) against the spec's §6 numbers, closed
forms and limits."""

import doctest
import inspect
import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lindyn.theory import (
    _deep_dmft,
    _deep_dmft_limits,
    deep_dmft,
    deep_dmft_memory,
    deep_lazy_curves,
    deep_lazy_kernel,
    deep_two_layer_flow,
    deep_two_layer_recursion,
)
from lindyn.theory._deep_dmft import _problem
from lindyn.theory._deep_dmft_solver import solve

INF = math.inf
TIMES = [0, 1, 2, 5, 10, 20, 30]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The kernels are small: on the shared 2-core machine a 2-thread OpenBLAS was measured up to
    90x slower than one thread (the eigh behind the Marchenko-Pastur quadrature: 1.7 s, 0.02 s)."""
    with threadpool_limits(1):
        yield


def close_to_spec(values, reference) -> bool:
    """Spec §6: within 1e-3 relative, or within half a unit of the printed 4th decimal."""
    values, reference = np.asarray(values), np.asarray(reference)
    return bool(np.all(np.abs(values - reference) <= np.maximum(1e-3 * np.abs(reference), 5.1e-5)))


def full_dmft(**kwargs):
    """The chunked Picard solve itself, bypassing the two-layer fast path of ``deep_dmft``."""
    signature = inspect.signature(deep_dmft).parameters.items()
    args = {k: p.default for k, p in signature if p.default is not inspect.Parameter.empty}
    args.update(kwargs)
    return solve(_problem(args), args["steps"], args["chunk"], args["tol"], args["max_sweeps"])


def spectrum_7(D: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Spec §6.7: lam_k ~ k^-1/2 with mean 1, b_k ~ k^-1/2 with mean(lam b) = 1."""
    k = np.arange(1, D + 1)
    lam = k**-0.5 / np.mean(k**-0.5)
    b = k**-0.5
    return lam, b / np.mean(lam * b)


# ------------------------------------------------------------------ §6.2 initial losses


@pytest.mark.parametrize(
    ("alpha", "nu", "L", "gamma0", "sigma", "param"),
    [
        (2.0, 1.0, 2, 1.0, 0.0, "mup"),
        (0.7, 2.0, 3, 0.5, 0.3, "mup"),
        (1.5, 0.25, 1, 2.0, 0.1, "ntk"),
    ],
)
def test_initial_loss(alpha, nu, L, gamma0, sigma, param):
    res = deep_dmft(
        alpha=alpha, nu=nu, L=L, gamma0=gamma0, eta=0.05, steps=1, sigma=sigma, param=param
    )
    init = 1 / gamma0**2 if param == "ntk" else 1 / (gamma0**2 * nu)
    expected = 0.5 * (1 + sigma**2 + init)
    assert res.converged
    assert abs(res.test_loss[0] - expected) < 1e-12 and abs(res.train_loss[0] - expected) < 1e-12


def test_initial_loss_residual():
    res = deep_dmft(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.02, steps=1, residual=True)
    assert abs(res.test_loss[0] - 1.625) < 1e-12
    res = deep_dmft(
        alpha=0.8,
        nu=0.5,
        L=3,
        gamma0=0.8,
        eta=0.01,
        steps=1,
        sigma=0.2,
        residual=True,
        beta0=0.7,
        branch="constant",
    )
    assert abs(res.test_loss[0] - 0.5 * (1 + 0.04 + 1.49**3 / (0.64 * 0.5))) < 1e-12


# ------------------------------------------------------------------ §6.3-6.4 closed forms


def test_lazy_infinite_width():
    """§6.3: nu = alpha = inf, gamma0 -> 0, no init variance: (1 - eta(L+1))^(2t) / 2."""
    res = deep_dmft(alpha=INF, nu=INF, L=3, gamma0=1e-6, eta=0.1, steps=4)
    exact = 0.5 * 0.6 ** (2 * np.arange(5))
    assert close_to_spec(res.test_loss, [0.5, 0.18, 0.0648, 0.023328, 0.0083981])
    np.testing.assert_allclose(res.test_loss, exact, rtol=1e-9)
    np.testing.assert_allclose(deep_lazy_curves(L=3, eta=0.1, steps=4)[0], exact, rtol=1e-14)


@pytest.mark.parametrize(
    ("gamma0", "eta", "spec"),
    [(1.0, 0.2, [0.18, 9.1924e-4, 3.4870e-7]), (2.0, 0.1, [0.32, 2.5151e-2, 1.3993e-4])],
)
def test_two_layer_recursion_equals_full_dmft(gamma0, eta, spec):
    """§6.4: L = 1, nu = alpha = inf. The recursion is the fast path of deep_dmft."""
    full = full_dmft(alpha=INF, nu=INF, L=1, gamma0=gamma0, eta=eta, steps=10, tol=1e-13)
    fast = deep_dmft(alpha=INF, nu=INF, L=1, gamma0=gamma0, eta=eta, steps=10)
    recursion = deep_two_layer_recursion(gamma0=gamma0, eta=eta, steps=10)
    assert full.converged and full.sweeps > 0 and fast.converged and fast.sweeps == 0
    np.testing.assert_allclose(full.test_loss, recursion, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.test_loss, recursion)
    np.testing.assert_allclose(recursion[[1, 5, 10]], spec, rtol=1e-4)


def test_two_layer_modes_equal_anisotropic_dmft():
    """The weight-space recursion (§2.7, any spectrum) against the per-mode DMFT (§2.5)."""
    rng = np.random.default_rng(0)
    spectrum = (rng.uniform(0.2, 2.0, 20), rng.uniform(0.1, 2.0, 20))
    full = full_dmft(
        alpha=INF,
        nu=INF,
        L=1,
        gamma0=1.5,
        eta=0.1,
        steps=20,
        sigma=0.1,
        spectrum=spectrum,
        tol=1e-13,
    )
    recursion = deep_two_layer_recursion(
        gamma0=1.5, eta=0.1, steps=20, sigma=0.1, spectrum=spectrum
    )
    assert full.converged
    np.testing.assert_allclose(full.test_loss, recursion, rtol=0, atol=1e-12)


def test_two_layer_gradient_flow():
    """§6.4 gradient flow, and the discrete recursion converging to it at first order in eta."""
    beta = lambda loss: 1 - np.sqrt(2 * loss)  # noqa: E731
    np.testing.assert_allclose(
        beta(deep_two_layer_flow(1.0, [0.25, 0.5, 1.0, 2.0])),
        [0.40228, 0.66186, 0.90659, 0.99423],
        atol=6e-6,
    )
    np.testing.assert_allclose(
        beta(deep_two_layer_flow(3.0, [0.5, 1.0])), [0.82794, 0.99146], atol=6e-6
    )
    flow = deep_two_layer_flow(3.0, [1.0])[0]
    errors = [
        abs(deep_two_layer_recursion(gamma0=3.0, eta=eta, steps=round(1 / eta))[-1] - flow)
        for eta in (2e-3, 1e-3)
    ]
    assert 1.8 < errors[0] / errors[1] < 2.2


@pytest.mark.parametrize(
    ("alpha", "sigma", "batch_ratio"), [(0.5, 0.3, None), (2.0, 0.0, None), (INF, 0.2, 0.5)]
)
def test_lazy_ntk_limit_equals_linear_regression(alpha, sigma, batch_ratio):
    """NTK at nu = inf (gamma0 -> 1e-4) is GD on linear regression with step eta (L + 1) from a
    random start of variance 1/gbar^2: Marchenko-Pastur integrals (full batch) or the one-pass
    recursion."""
    protocol = "full" if batch_ratio is None else "sgd"
    res = deep_dmft(
        alpha=alpha,
        nu=INF,
        L=2,
        gamma0=1.5,
        eta=0.05,
        steps=30,
        sigma=sigma,
        param="ntk",
        protocol=protocol,
        batch_ratio=batch_ratio,
    )
    test, train = deep_lazy_curves(
        L=2,
        eta=0.05,
        steps=30,
        alpha=alpha,
        sigma=sigma,
        init_variance=1 / 1.5**2,
        batch_ratio=batch_ratio,
    )
    assert res.converged
    np.testing.assert_allclose(res.test_loss, test, atol=1e-8)
    np.testing.assert_allclose(res.train_loss, train, atol=1e-8)


@pytest.mark.parametrize("branch", ["sqrt_depth", "constant"])
def test_lazy_residual_kernel(branch):
    """Residual blocks at nu = inf under NTK: the lazy kernel 2(1+b^2)^L + L b^2 (1+b^2)^(L-1)."""
    res = deep_dmft(
        alpha=INF,
        nu=INF,
        L=3,
        gamma0=1.5,
        eta=0.02,
        steps=20,
        param="ntk",
        residual=True,
        beta0=0.7,
        branch=branch,
    )
    b2 = (0.7**2 / 3) if branch == "sqrt_depth" else 0.7**2
    kernel = 2 * (1 + b2) ** 3 + 3 * b2 * (1 + b2) ** 2
    assert deep_lazy_kernel(3, residual=True, beta0=0.7, branch=branch) == pytest.approx(kernel)
    t = np.arange(21)
    expected = 0.5 * (1 - 0.02 * kernel) ** (2 * t) * (1 + (1 + b2) ** 3 / 1.5**2)
    np.testing.assert_allclose(res.test_loss, expected, rtol=1e-6)  # O(gamma0^2) = 1e-8 off


# ------------------------------------------------------------------ §6.5-6.7 spec tables

TABLE_5 = [
    # (alpha, nu, L, gamma0, eta, sigma, batch_ratio), test, train (None: = test)
    (
        (2.0, 1.0, 1, 1.0, 0.2, 0.0, None),
        [1.0000, 0.4264, 0.2998, 0.1549, 0.0709, 0.0219, 0.0084],
        [1.0000, 0.2644, 0.1507, 0.0536, 0.0176, 0.0040, 0.0013],
    ),
    (
        (2.0, 1.0, 2, 1.0, 0.1, 0.0, None),
        [1.0000, 0.4821, 0.3727, 0.2344, 0.1345, 0.0566, 0.0277],
        [1.0000, 0.3441, 0.2307, 0.1086, 0.0454, 0.0134, 0.0054],
    ),
    (
        (0.7, 2.0, 3, 0.5, 0.03, 0.0, None),
        [1.5000, 1.0763, 0.9130, 0.7180, 0.6031, 0.5176, 0.4800],
        [1.5000, 0.7085, 0.4502, 0.1991, 0.0919, 0.0372, 0.0206],
    ),
    (
        (1.5, 0.5, 2, 1.0, 0.05, 0.3, None),
        [1.5450, 0.8447, 0.6892, 0.5238, 0.4289, 0.3427, 0.2905],
        [1.5450, 0.6721, 0.4976, 0.3168, 0.2133, 0.1270, 0.0863],
    ),
    (
        (INF, 1.0, 2, 1.0, 0.1, 0.2, 0.5),
        [1.0200, 0.6780, 0.4946, 0.2655, 0.1245, 0.0443, 0.0329, 0.0313],
        None,
    ),
    (
        (INF, 0.5, 1, 1.5, 0.1, 0.0, 0.25),
        [0.9444, 0.7239, 0.5791, 0.3582, 0.1948, 0.0510, 0.0116],
        None,
    ),
]


@pytest.mark.parametrize(("config", "test", "train"), TABLE_5)
def test_finite_width_and_data_table(config, test, train):
    """§6.5: finite alpha and nu, full batch and one-pass SGD."""
    alpha, nu, L, gamma0, eta, sigma, batch_ratio = config
    times = [*TIMES, 40][: len(test)]
    res = deep_dmft(
        alpha=alpha,
        nu=nu,
        L=L,
        gamma0=gamma0,
        eta=eta,
        steps=times[-1],
        sigma=sigma,
        protocol="full" if batch_ratio is None else "sgd",
        batch_ratio=batch_ratio,
    )
    assert res.converged, res.message
    assert close_to_spec(res.test_loss[times], test)
    assert close_to_spec(res.train_loss[times], test if train is None else train)


TABLE_6 = [
    # (alpha, nu, L, gamma0, eta, beta0, sigma), test at TIMES (+ t = 40), train at TIMES
    (
        (2.0, 1.0, 2, 1.0, 0.02, 1.0, 0.0),
        [1.6250, 1.0731, 0.8425, 0.5600, 0.3869, 0.2445, 0.1734, 0.1293],
        [1.6250, 0.9329, 0.6649, 0.3658, 0.2078, 0.1017, 0.0603],
    ),
    (
        (2.0, 1.0, 4, 1.0, 0.02, 1.0, 0.0),
        [1.7207, 1.0393, 0.8111, 0.5441, 0.3801, 0.2420, 0.1717],
        None,
    ),
    (
        (0.8, 1.0, 4, 0.8, 0.005, 1.5, 0.2),
        [5.1766, 3.1208, 2.4716, 1.7445, 1.3416, 1.0546, 0.9296],
        [5.1766, 2.2825, 1.5029, 0.7511, 0.4096, 0.2103, 0.1381],
    ),
]


@pytest.mark.parametrize(("config", "test", "train"), TABLE_6)
def test_residual_table(config, test, train):
    """§6.6: residual blocks with beta_res = beta0 / sqrt(L)."""
    alpha, nu, L, gamma0, eta, beta0, sigma = config
    times = [*TIMES, 40][: len(test)]
    res = deep_dmft(
        alpha=alpha,
        nu=nu,
        L=L,
        gamma0=gamma0,
        eta=eta,
        steps=times[-1],
        sigma=sigma,
        residual=True,
        beta0=beta0,
    )
    assert res.converged, res.message
    assert close_to_spec(res.test_loss[times], test)
    if train is not None:
        assert close_to_spec(res.train_loss[TIMES], train)


def test_anisotropic_table():
    """§6.7: D = 300 power-law modes, full batch (alpha = 2, sigma = 0.1) and one-pass SGD."""
    common = dict(nu=1.0, L=2, gamma0=1.0, eta=0.015, steps=30, spectrum=spectrum_7())
    full = deep_dmft(alpha=2.0, sigma=0.1, **common)
    online = deep_dmft(alpha=INF, protocol="sgd", batch_ratio=0.5, **common)
    assert full.converged and online.converged
    assert close_to_spec(
        full.test_loss[TIMES], [1.0050, 0.7629, 0.6311, 0.4411, 0.3133, 0.2120, 0.1648]
    )
    assert close_to_spec(
        full.train_loss[TIMES], [1.0050, 0.7252, 0.5736, 0.3592, 0.2232, 0.1261, 0.0864]
    )
    assert close_to_spec(
        online.test_loss[TIMES], [1.0000, 0.7645, 0.6284, 0.4207, 0.2743, 0.1587, 0.1076]
    )


def test_isotropic_is_one_mode():
    """A flat spectrum of any number of modes is isotropic data."""
    args = dict(alpha=1.5, nu=0.5, L=2, gamma0=1.0, eta=0.05, steps=10, sigma=0.3)
    iso = deep_dmft(**args)
    flat = deep_dmft(**args, spectrum=(np.ones(7), np.ones(7)))
    np.testing.assert_allclose(flat.test_loss, iso.test_loss, rtol=1e-10)
    np.testing.assert_allclose(flat.train_loss, iso.train_loss, rtol=1e-10)


# ------------------------------------------------------------------ §6.8-6.9 transfer

ETAS = np.logspace(-2, 0, 13)[2:9]  # 0.0215 ... 0.2154 of the spec's 13-point grid


def final_losses(param: str, nu: float) -> np.ndarray:
    """Test loss at T = 20 over ``ETAS`` (NaN once diverged), §4.3's setting."""
    return np.array(
        [
            deep_dmft(
                alpha=4.0, nu=nu, L=3, gamma0=3.0, eta=float(eta), steps=20, param=param
            ).test_loss[-1]
            for eta in ETAS
        ]
    )


def test_width_transfer():
    """§6.8: the muP argmin is the same grid point (0.0464) at every width, and up to it the
    muP loss falls with width; the NTK argmin grows with width, 4.6x from nu = 0.5 to inf.
    (Past the optimum the muP loss at T = 20 oscillates and is not monotone in nu, e.g. 7.9e-3,
    1.6e-2, 8.8e-3 at eta = 0.0681, nu = 1, 2, inf; the spec's reference code agrees.)"""
    widths = [0.5, 2.0, INF]
    mup = np.array([final_losses("mup", nu) for nu in widths])
    ntk = np.array([final_losses("ntk", nu) for nu in widths])
    best = np.nanargmin(mup, axis=1)
    assert np.all(ETAS[best].round(4) == 0.0464)
    assert np.all(np.diff(mup[:, : best[0] + 1], axis=0) < 0)
    argmin = ETAS[np.nanargmin(ntk, axis=1)]
    np.testing.assert_allclose(argmin, [0.0316, 0.0681, 0.1468], rtol=1e-3)
    assert argmin[-1] / argmin[0] == pytest.approx(4.64, rel=0.01)


def test_mup_and_ntk_coincide_at_unit_width():
    args = dict(alpha=1.5, nu=1.0, L=2, gamma0=2.0, eta=0.05, steps=10, sigma=0.3)
    np.testing.assert_array_equal(
        deep_dmft(**args, param="mup").test_loss, deep_dmft(**args, param="ntk").test_loss
    )


@pytest.mark.parametrize(("L", "loss"), [(1, 0.0903), (2, 0.0666), (4, 0.0516)])
def test_depth_transfer_losses(L, loss):
    """§4.4 table: depth-muP residual nets at nu = inf, alpha = 4, eta = 0.01, T = 20."""
    res = deep_dmft(alpha=4.0, nu=INF, L=L, gamma0=1.0, eta=0.01, steps=20, residual=True)
    assert res.converged and close_to_spec(res.test_loss[-1], loss)


@pytest.mark.parametrize(
    ("param", "losses"),
    [("mup", [0.3393, 0.1239, 0.1123]), ("ntk", [0.1764, 0.1351, 0.1257])],
)
def test_wider_is_better(param, losses):
    """§4.2 table (T = 60): muP improves with width towards nu = inf; NTK's start does not move
    with width and its wide limit (lazy) ends above muP's."""
    args = dict(alpha=1.5, L=2, gamma0=1.0, eta=0.05, steps=60, sigma=0.3, param=param)
    runs = [deep_dmft(nu=nu, **args) for nu in (0.25, 2.0, INF)]
    assert all(r.converged for r in runs)
    assert close_to_spec([r.test_loss[60] for r in runs], losses)
    if param == "ntk":
        assert all(abs(r.test_loss[0] - 1.045) < 1e-12 for r in runs)


def test_overfitting_peak_and_online_batches():
    """§6.10 with §4.5's numbers (L = 2, nu = inf, eta = 0.1, sigma = 0.5, T = 100): the final
    loss peaks at alpha = 1 while its minimum over time falls with alpha; one-pass SGD improves
    with the batch towards the alpha = inf noise floor sigma^2 / 2."""
    args = dict(nu=INF, L=2, gamma0=1.0, eta=0.1, steps=100, sigma=0.5)
    full = [deep_dmft(alpha=a, **args) for a in (0.75, 1.0, 1.25)]
    assert close_to_spec([r.test_loss[100] for r in full], [0.5835, 0.6531, 0.4923])
    assert close_to_spec([np.min(r.test_loss) for r in full], [0.3813, 0.3274, 0.2865])
    online = [deep_dmft(alpha=INF, protocol="sgd", batch_ratio=b, **args) for b in (0.5, 2.0)]
    assert close_to_spec([r.test_loss[100] for r in online], [0.1629, 0.1377])
    assert online[1].test_loss[100] > 0.125


# ------------------------------------------------------------------ solver statuses


def test_divergence_is_reported():
    res = deep_dmft(alpha=4.0, nu=INF, L=3, gamma0=3.0, eta=1.0, steps=20)
    assert res.status == "diverged" and not res.converged and "diverged" in res.message
    first = int(np.argmax(np.isnan(res.test_loss)))
    assert first > 0 and np.all(np.isnan(res.test_loss[first:]))
    assert np.all(np.isfinite(res.test_loss[:first]))
    fast = deep_dmft(alpha=INF, nu=INF, L=1, gamma0=1.0, eta=2.0, steps=30)
    assert fast.status == "diverged" and np.isnan(fast.test_loss[-1])


def test_chunk_transient_is_not_divergence():
    """§3.2's pitfall inside a chunk: at L = 1, eta = 0.316 (stable per §4.4: the first
    diverging grid point is 0.562) a 5-step chunk blows up in its Picard transient; the
    retried, shorter horizons give the same solution as single steps."""
    args = dict(alpha=4.0, nu=INF, L=1, gamma0=1.0, eta=0.3162, steps=20, residual=True)
    chunked, single = deep_dmft(**args), deep_dmft(**args, chunk=1)
    assert chunked.converged and "retried" in chunked.message
    np.testing.assert_allclose(chunked.test_loss, single.test_loss, rtol=1e-8)
    assert chunked.test_loss[-1] < chunked.test_loss[0]
    assert deep_dmft(**{**args, "eta": 0.5623}).status == "diverged"


def test_not_converged_is_reported():
    res = deep_dmft(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.1, steps=5, max_sweeps=1)
    assert res.status == "not_converged" and res.residual > 1e-10
    assert np.all(np.isnan(res.test_loss)) and "did not converge" in res.message


def test_progress_per_chunk():
    calls = []
    deep_dmft(
        alpha=2.0,
        nu=1.0,
        L=2,
        gamma0=1.0,
        eta=0.1,
        steps=12,
        chunk=5,
        progress=lambda *a: calls.append(a),
    )
    assert calls == [("deep DMFT", n, 13) for n in (1, 6, 11, 13)]


def test_memory_refusal():
    need = deep_dmft_memory(L=2, steps=10**5)
    assert need > 8 * 2**30
    with pytest.raises(ValueError, match=r"^steps: .*steps=100000.*GiB"):
        deep_dmft(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.1, steps=10**5)
    small = deep_dmft_memory(L=2, steps=20, residual=True)
    assert small > deep_dmft_memory(L=2, steps=20) > deep_dmft_memory(L=1, steps=20)
    with pytest.raises(ValueError, match=r"^steps: "):
        deep_dmft(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.1, steps=20, memory_limit=small / 100)


GOOD = dict(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.1, steps=5)


@pytest.mark.parametrize(
    ("override", "name"),
    [
        (dict(alpha=0.0), "alpha"),
        (dict(alpha=math.nan), "alpha"),
        (dict(nu=-1.0), "nu"),
        (dict(L=0), "L"),
        (dict(L=1.5), "L"),
        (dict(eta=0.0), "eta"),
        (dict(gamma0=INF), "gamma0"),
        (dict(steps=0), "steps"),
        (dict(sigma=-0.1), "sigma"),
        (dict(param="sp"), "param"),
        (dict(protocol="online"), "protocol"),
        (dict(protocol="sgd"), "batch_ratio"),
        (dict(protocol="sgd", batch_ratio=0.0), "batch_ratio"),
        (dict(batch_ratio=0.5), "batch_ratio"),
        (dict(branch="linear"), "branch"),
        (dict(spectrum=(np.ones(3), np.ones(4))), "spectrum"),
        (dict(spectrum=(np.array([1.0, -1.0]), np.ones(2))), "spectrum"),
        (dict(spectrum=(np.ones((2, 2)), np.ones((2, 2)))), "spectrum"),
        (dict(chunk=0), "chunk"),
        (dict(max_sweeps=0), "max_sweeps"),
    ],
)
def test_bad_input(override, name):
    with pytest.raises(ValueError, match=f"^{name}: must be ") as info:
        deep_dmft(**{**GOOD, **override})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("module", [_deep_dmft, _deep_dmft_limits])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
