"""Long-time fixed points of diagonal networks (spec §5): reference values, limits, finite d."""

import jax
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from lindyn.data import gaussian_design, noisy_labels, sparse_teacher
from lindyn.theory import dln_fixed_point

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
