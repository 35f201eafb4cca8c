"""Embedding diagnostics (chapter 2): effective rank on matrices with a known singular spectrum,
per-dimension std, covariance spectrum, and the healthy / dimensional / complete-collapse verdict."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebjepa_mini import metrics as M


def with_spectrum(s, n: int = 200, d: int = 16, seed: int = 0) -> torch.Tensor:
    """Z = U diag(s) V^T with orthonormal, centred columns of U (so Z is centred) and orthonormal V."""
    g = torch.Generator().manual_seed(seed)
    k = len(s)
    a = torch.randn(n, k, generator=g, dtype=torch.float64)
    u, _ = torch.linalg.qr(a - a.mean(0))            # columns orthogonal to the ones vector -> centred
    v, _ = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=torch.float64))
    return u @ torch.diag(torch.as_tensor(s, dtype=torch.float64)) @ v.T


def entropy_rank(s) -> float:
    p = np.asarray(s, dtype=float) / np.sum(s)
    return float(np.exp(-np.sum(p * np.log(p))))


# ----------------------------------------------------------------------------------- effective rank
@pytest.mark.parametrize("k", [1, 3, 8, 16])
def test_effective_rank_equal_singular_values_gives_k(k):
    z = with_spectrum([2.5] * k)
    assert M.effective_rank(z) == pytest.approx(k, rel=1e-6)


def test_effective_rank_entropy_formula_on_non_uniform_spectrum():
    s = [5.0, 3.0, 1.0, 0.5, 0.25]
    z = with_spectrum(s, seed=1)
    expected = entropy_rank(s)                                   # about 3.2, between 1 and 5
    assert 2.5 < expected < 4.0
    assert M.effective_rank(z) == pytest.approx(expected, rel=1e-6)
    # a singular-value (not eigenvalue = s^2) distribution: the squared spectrum gives another number
    assert abs(M.effective_rank(z) - entropy_rank(np.square(s))) > 0.3


def test_effective_rank_is_scale_and_shift_invariant():
    z = with_spectrum([4.0, 2.0, 1.0], seed=2)
    r = M.effective_rank(z)
    assert M.effective_rank(10 * z) == pytest.approx(r, rel=1e-6)
    assert M.effective_rank(z + 5.0) == pytest.approx(r, rel=1e-6)     # centred by default


def test_effective_rank_rank_one_constant_and_uncentred():
    g = torch.Generator().manual_seed(3)
    u = torch.randn(100, 1, generator=g, dtype=torch.float64)
    v = torch.randn(1, 12, generator=g, dtype=torch.float64)
    assert M.effective_rank(u @ v + 3.0) == pytest.approx(1.0, abs=1e-6)
    const = torch.full((50, 8), 2.0)
    assert M.effective_rank(const) == 0.0
    assert M.effective_rank(torch.zeros(50, 8), centered=False) == 0.0
    # RankMe variant: the shared mean counts as one direction
    assert M.effective_rank(const, centered=False) == pytest.approx(1.0, abs=1e-6)
    # uncentred isotropic data around the origin: both variants agree roughly
    iso = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    assert M.effective_rank(iso, centered=False) == pytest.approx(M.effective_rank(iso), rel=0.02)
    assert M.effective_rank(iso) > 7.8


def test_effective_rank_accepts_numpy_and_returns_float():
    z = with_spectrum([1.0, 1.0], seed=4).numpy().astype(np.float32)
    r = M.effective_rank(z)
    assert isinstance(r, float)
    assert r == pytest.approx(2.0, rel=1e-4)


# ------------------------------------------------------------------------------ std and spectrum
def test_per_dim_std_unbiased():
    z = torch.randn(30, 5, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * torch.arange(1, 6)
    std = M.per_dim_std(z)
    assert isinstance(std, np.ndarray) and std.shape == (5,)
    np.testing.assert_allclose(std, np.std(z.numpy(), axis=0, ddof=1), rtol=1e-12)


def test_covariance_spectrum_sorted_and_sums_to_total_variance():
    s = [6.0, 3.0, 2.0, 1.0]
    n = 200
    z = with_spectrum(s, n=n, d=10, seed=6)
    spec = M.covariance_spectrum(z)
    assert spec.shape == (10,)
    assert np.all(np.diff(spec) <= 1e-12)                              # largest first
    np.testing.assert_allclose(spec[:4], np.square(s) / (n - 1), rtol=1e-8)
    np.testing.assert_allclose(spec[4:], 0.0, atol=1e-10)
    total_var = np.var(z.numpy(), axis=0, ddof=1).sum()
    assert spec.sum() == pytest.approx(total_var, rel=1e-10)
    assert (spec >= 0).all()


# --------------------------------------------------------------------------------------- verdict
def test_verdict_complete_collapse_for_constant_plus_tiny_noise():
    g = torch.Generator().manual_seed(7)
    centre = torch.randn(1, 32, generator=g)
    z = centre + 1e-4 * torch.randn(500, 32, generator=g)
    rep = M.collapse_verdict(z)
    assert rep.verdict == "complete collapse"
    assert rep.relative_spread < 0.01
    assert rep.dim == 32
    # exact constant (spread 0) too, also when the constant is 0
    assert M.collapse_verdict(torch.zeros(10, 4)).verdict == "complete collapse"


def test_verdict_dimensional_collapse_for_rank_one_with_spread():
    g = torch.Generator().manual_seed(8)
    u = torch.randn(500, 1, generator=g)
    v = torch.randn(1, 32, generator=g)
    z = 5 * u @ v + 1e-3 * torch.randn(500, 32, generator=g)
    rep = M.collapse_verdict(z)
    assert rep.verdict == "dimensional collapse"
    assert rep.relative_spread > 0.5
    assert rep.effective_rank < 2


def test_verdict_healthy_for_isotropic_gaussian():
    z = torch.randn(1000, 32, generator=torch.Generator().manual_seed(9))
    rep = M.collapse_verdict(z)
    assert rep.verdict == "healthy"
    assert rep.effective_rank > 28
    assert rep.mean_std == pytest.approx(1.0, abs=0.05)
    assert "healthy" in str(rep) and "effective rank" in str(rep)
    assert rep.verdict in M.VERDICTS


def test_verdict_thresholds_are_used():
    z = with_spectrum([1.0] * 4, n=300, d=32, seed=11)
    # effective rank 4 = 0.125 D: healthy at rank_fraction 0.1, dimensional collapse at 0.2
    assert M.collapse_verdict(z, rank_fraction=0.1).verdict == "healthy"
    assert M.collapse_verdict(z, rank_fraction=0.2).verdict == "dimensional collapse"


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("fn", [M.effective_rank, M.per_dim_std, M.covariance_spectrum, M.collapse_verdict])
def test_bad_input(fn):
    with pytest.raises(ValueError, match=r"\bz\b.*\[N, D\]"):
        fn(torch.randn(10))
    with pytest.raises(ValueError, match=r"\bz\b.*\[N, D\]"):
        fn(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"\bz\b.*N >= 2"):
        fn(torch.randn(1, 4))
    with pytest.raises(TypeError, match=r"\bz\b"):
        fn([[1.0, 2.0], [3.0, 4.0]])


def test_verdict_bad_thresholds():
    z = torch.randn(10, 4)
    with pytest.raises(ValueError, match="complete_tol"):
        M.collapse_verdict(z, complete_tol=0.0)
    with pytest.raises(ValueError, match="rank_fraction"):
        M.collapse_verdict(z, rank_fraction=1.5)


def test_metrics_do_not_need_gradients():
    z = torch.randn(20, 4, requires_grad=True)
    assert math.isfinite(M.effective_rank(z))
    assert M.per_dim_std(z).shape == (4,)
