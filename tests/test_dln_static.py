"""Long-time fixed points of diagonal networks (spec §5): reference values, limits, finite d."""

import jax
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from lindyn.data import gaussian_design, noisy_labels, sparse_teacher
from lindyn.theory import convergence_rate, dln_fixed_point

DELTA, RHO, SIGMA = 0.5, 0.2, 0.1


def test_closed_form_cases():
    ols = dln_fixed_point(2.0, 0.5)
    assert (ols.case, ols.test_error, ols.train_loss) == (
        "ols",
        pytest.approx(0.01),
        pytest.approx(0.0025),
    )
    l2 = dln_fixed_point(DELTA, np.inf)
    assert l2.test_error == pytest.approx((1 - DELTA) * RHO + DELTA * SIGMA**2 / (1 - DELTA))


def test_basis_pursuit_and_lasso_reference_values():
    """Spec §5.3 / §10 items 6-7: basis pursuit 0.0482; Lasso (lambda = 0.1) 0.0440 and 0.00546."""
    bp = dln_fixed_point(DELTA, 0.0)
    assert bp.status == "converged" and bp.test_error == pytest.approx(0.0482, abs=5e-5)
    lasso = dln_fixed_point(DELTA, 0.5, lam=0.1)
    assert lasso.test_error == pytest.approx(0.0440, abs=5e-5)
    assert lasso.train_loss == pytest.approx(0.00546, abs=5e-6)


def test_min_q_alpha_interpolator_between_l1_and_l2():
    """alpha = 0.5 gives 0.0817 (spec table), between basis pursuit 0.0482 and min-l2 0.11."""
    mid = dln_fixed_point(DELTA, 0.5)
    assert mid.case == "min_Q_alpha" and mid.status == "converged"
    assert mid.test_error == pytest.approx(0.0817, abs=5e-5)
    assert mid.train_loss == 0.0


@pytest.mark.slow
def test_min_q_alpha_table_and_monotone_limits():
    """Spec §5.3 table: 0.05319 (alpha = 0.1), 0.10939 (alpha = 2); increasing in alpha."""
    small, large = dln_fixed_point(DELTA, 0.1), dln_fixed_point(DELTA, 2.0)
    assert small.test_error == pytest.approx(0.05319, abs=5e-5)
    assert large.test_error == pytest.approx(0.10939, abs=5e-5)
    assert dln_fixed_point(DELTA, 0.0).test_error < small.test_error < large.test_error < 0.11


def test_lasso_state_evolution_matches_a_convex_solver_at_finite_d():
    """Coordinate-descent Lasso (scikit-learn) at d = 4000, 4 instances, against the static value.

    Our loss 1/2 |y - X b|^2 + lam |b|_1 is scikit-learn's with alpha = lam / n. Tolerance:
    4 standard errors over the instances plus 2/d of the signal for the finite-size bias.
    """
    d, lam, seeds = 4000, 0.1, 4
    n = round(DELTA * d)
    errors = []
    for seed in range(seeds):
        kx, kb, ke = jax.random.split(jax.random.key(seed), 3)
        X = np.asarray(gaussian_design(kx, n, d, variance=1 / d))
        beta = np.array(sparse_teacher(kb, d, RHO, stratified=True))
        beta *= np.sqrt(RHO / np.mean(beta**2))
        y = np.asarray(noisy_labels(ke, X @ beta, SIGMA))
        fit = Lasso(alpha=lam / n, fit_intercept=False, tol=1e-10, max_iter=100_000).fit(X, y)
        errors.append(np.mean((fit.coef_ - beta) ** 2))
    static = dln_fixed_point(DELTA, 0.5, lam=lam).test_error
    se = np.std(errors, ddof=1) / np.sqrt(seeds)
    assert abs(np.mean(errors) - static) <= 4 * se + 2 / d * RHO, (np.mean(errors), static, se)


def test_convergence_rate_reference_and_constant_d_identity():
    """Spec §10 item 8: kappa(0.5) = 0.0556, above the lazy value 2 alpha^2 (1 - sqrt(delta))^2."""
    kappa = convergence_rate(DELTA, 0.5)
    assert kappa == pytest.approx(0.05564, abs=2e-5)
    assert kappa > 2 * 0.5**2 * (1 - np.sqrt(DELTA)) ** 2


@pytest.mark.slow
def test_convergence_rate_approaches_the_lazy_rate():
    """alpha = 2: 0.6886 against the lazy 2 alpha^2 (1 - sqrt(delta))^2 = 0.6863 (spec §5.3)."""
    kappa = convergence_rate(DELTA, 2.0)
    assert kappa == pytest.approx(0.6886, abs=2e-4)
    assert kappa / (2 * 4 * (1 - np.sqrt(DELTA)) ** 2) == pytest.approx(1.003, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"delta": 0.0}, "delta"), ({"rho": 1.5}, "rho"), ({"alpha": -1.0}, "alpha")],
)
def test_bad_arguments(kwargs, field):
    args = {"delta": DELTA, "alpha": 0.5, **kwargs}
    with pytest.raises(ValueError, match=f"^{field}: must be"):
        dln_fixed_point(args.pop("delta"), args.pop("alpha"), **args)
