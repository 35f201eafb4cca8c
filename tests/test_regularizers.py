"""Regularisers (spec §2): VICReg variance / covariance, Epps-Pulley, SIGReg, temporal similarity,
inverse dynamics and the two-view objective. Values are checked against hand computations and an
independent NumPy implementation, not only shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebjepa_mini import regularizers as R


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------- VICReg variance
def test_variance_hand_computed_tiny_matrix():
    # column 0: [0, .5, 1] -> unbiased var 0.25 (biased would be 1/6); column 1: [0, 0, 3] -> var 3 (> gamma^2)
    z = torch.tensor([[0.0, 0.0], [0.5, 0.0], [1.0, 3.0]], dtype=torch.float64)
    expected = (max(0.0, 1.0 - math.sqrt(0.25 + 1e-4)) + 0.0) / 2
    assert R.vicreg_variance(z).item() == pytest.approx(expected, rel=1e-12)
    biased = (1.0 - math.sqrt(1 / 6 + 1e-4)) / 2
    assert abs(R.vicreg_variance(z).item() - biased) > 1e-2


def test_variance_constant_batch_is_gamma_minus_sqrt_eps():
    z = torch.full((16, 5), 3.0, dtype=torch.float64)
    # eps is inside the square root: std = sqrt(0 + 1e-4) = 0.01 (eps outside would give 1e-4)
    assert R.vicreg_variance(z).item() == pytest.approx(1.0 - 0.01, abs=1e-12)
    assert R.vicreg_variance(z, gamma=2.0).item() == pytest.approx(2.0 - 0.01, abs=1e-12)
    assert R.vicreg_variance(z, eps=0.0).item() == pytest.approx(1.0, abs=1e-12)


def test_variance_zero_when_every_std_exceeds_gamma():
    z = 3.0 * torch.randn(200, 8, generator=gen(0), dtype=torch.float64)
    assert z.std(dim=0).min() > 1.5
    assert R.vicreg_variance(z).item() == 0.0
    # only the dimensions below gamma count, each weighted 1/D
    z[:, 0] = 0.0
    assert R.vicreg_variance(z).item() == pytest.approx((1 - 0.01) / 8, abs=1e-12)


def test_variance_is_centring_invariant():
    z = 0.5 * torch.randn(64, 6, generator=gen(1), dtype=torch.float64)
    shifted = z + torch.linspace(-100, 100, 6, dtype=torch.float64)
    v = R.vicreg_variance(z).item()
    assert v > 0.1
    assert R.vicreg_variance(shifted).item() == pytest.approx(v, abs=1e-10)
    assert R.vicreg_variance(z - z.mean(0)).item() == pytest.approx(v, abs=1e-12)


def test_variance_gradient_pushes_small_dims_up():
    z = (0.1 * torch.randn(32, 4, generator=gen(2))).requires_grad_()
    R.vicreg_variance(z).backward()
    # gradient descent (z - lr * grad) must spread the batch: grad anti-aligned with the centred z
    zc = (z - z.mean(0)).detach()
    assert (z.grad * zc).sum() < 0


# ----------------------------------------------------------------------------- VICReg covariance
def test_covariance_hand_computed_3x3():
    # means (1, 1, 2); centred rows (-1,-1,-2), (0,1,-1), (1,0,3)
    # C12 = 1/2, C13 = 5/2, C23 = 1/2; sum_{i!=j} C_ij^2 = 2 * (1/4 + 25/4 + 1/4) = 13.5; / (D(D-1) = 6) = 2.25
    z = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 1.0], [2.0, 1.0, 5.0]], dtype=torch.float64)
    assert R.vicreg_covariance(z).item() == pytest.approx(2.25, rel=1e-12)  # VICReg's /D would give 4.5


def test_covariance_matches_numpy_on_random_matrix():
    z = torch.randn(40, 7, generator=gen(3), dtype=torch.float64)
    c = np.cov(z.numpy(), rowvar=False)
    off = c[~np.eye(7, dtype=bool)]
    assert R.vicreg_covariance(z).item() == pytest.approx(float((off ** 2).mean()), rel=1e-10)


def test_covariance_small_for_isotropic_gaussian_large_for_rank_one():
    iso = torch.randn(20_000, 8, generator=gen(4), dtype=torch.float64)
    assert R.vicreg_covariance(iso).item() < 1e-3
    u = torch.randn(500, 1, generator=gen(5), dtype=torch.float64)
    rank1 = u @ torch.ones(1, 8, dtype=torch.float64)
    val = R.vicreg_covariance(rank1).item()
    assert val == pytest.approx(float(u.var()) ** 2, rel=1e-10)   # every C_ij equals Var(u)
    assert val > 0.5


def test_covariance_is_shift_invariant():
    z = torch.randn(30, 4, generator=gen(6), dtype=torch.float64)
    assert R.vicreg_covariance(z + 7.0).item() == pytest.approx(R.vicreg_covariance(z).item(), rel=1e-9)


# --------------------------------------------------------------------------------- Epps-Pulley
def epps_pulley_numpy(y: np.ndarray) -> np.ndarray:
    """Direct implementation of spec §2.4: 10 knots on [-3, 3], phi = exp(-t^2/2), trapezoid rule."""
    t = np.linspace(-3.0, 3.0, 10)
    phi = np.exp(-t ** 2 / 2)
    out = []
    for col in y.T:
        ecf = np.exp(1j * np.outer(col, t)).mean(axis=0)
        e = phi * np.abs(ecf - phi) ** 2
        out.append(np.sum((e[1:] + e[:-1]) / 2 * np.diff(t)))
    return np.array(out)


def test_epps_pulley_knots_convention():
    lo, hi, k = R.EPPS_PULLEY_KNOTS
    assert (lo, hi, k) == (-3.0, 3.0, 10)


def test_epps_pulley_shape_and_numpy_reference():
    y = torch.randn(300, 7, generator=gen(7), dtype=torch.float64)
    y[:, 3] *= 2.0
    y[:, 5] += 1.0
    g = R.epps_pulley(y)
    assert g.shape == (7,)
    np.testing.assert_allclose(g.numpy(), epps_pulley_numpy(y.numpy()), rtol=1e-9, atol=1e-14)
    assert (g >= 0).all()


def test_epps_pulley_matches_gaussian_noise_floor():
    n = 1000
    y = torch.randn(n, 400, generator=gen(8), dtype=torch.float64)
    floor = R.epps_pulley_gaussian_mean(n)
    assert floor == pytest.approx(float(epps_pulley_numpy_floor(n)), rel=1e-9)
    mean = R.epps_pulley(y).mean().item()
    assert mean == pytest.approx(floor, rel=0.15)


def epps_pulley_numpy_floor(n: int) -> float:
    t = np.linspace(-3.0, 3.0, 10)
    phi = np.exp(-t ** 2 / 2)
    e = phi * (1 - phi ** 2) / n
    return float(np.sum((e[1:] + e[:-1]) / 2 * np.diff(t)))


def test_epps_pulley_much_larger_for_constant_or_scaled_column():
    n = 1000
    y = torch.randn(n, 3, generator=gen(9), dtype=torch.float64)
    y[:, 1] = 0.7            # constant column: ECF = exp(0.7 i t), far from phi
    y[:, 2] *= 3.0           # std 3: ECF decays too fast
    g = R.epps_pulley(y)
    floor = R.epps_pulley_gaussian_mean(n)
    assert g[0] < 5 * floor
    assert g[1] > 100 * floor and g[2] > 100 * floor


# ---------------------------------------------------------------------------------------- SIGReg
def test_random_slices_unit_columns_and_seeded():
    a = R.random_slices(16, 32, gen(0))
    assert a.shape == (16, 32)
    torch.testing.assert_close(a.norm(dim=0), torch.ones(32))
    torch.testing.assert_close(a, R.random_slices(16, 32, gen(0)))
    assert not torch.allclose(a, R.random_slices(16, 32, gen(1)))
    with pytest.raises(ValueError, match="num_slices"):
        R.random_slices(16, 0)


def test_sigreg_lower_for_gaussian_than_collapsed():
    z = torch.randn(512, 16, generator=gen(10))
    collapsed = torch.randn(1, 16, generator=gen(11)).expand(512, 16) + 1e-3 * torch.randn(512, 16, generator=gen(12))
    good = R.sigreg(z, 128, gen(0)).item()
    bad = R.sigreg(collapsed, 128, gen(0)).item()
    assert good < 3 * R.epps_pulley_gaussian_mean(512)
    assert bad > 50 * good


def test_sigreg_equals_mean_epps_pulley_on_slices():
    z = torch.randn(64, 8, generator=gen(13), dtype=torch.float64)
    a = R.random_slices(8, 20, gen(3), dtype=torch.float64)
    expected = epps_pulley_numpy((z @ a).numpy()).mean()
    assert R.sigreg(z, 20, gen(3)).item() == pytest.approx(float(expected), rel=1e-9)


def test_sigreg_reproducible_with_seeded_generator():
    z = 2.0 * torch.rand(128, 8, generator=gen(14))     # non-Gaussian: directions matter
    a = R.sigreg(z, 16, gen(5)).item()
    assert R.sigreg(z, 16, gen(5)).item() == a
    assert R.sigreg(z, 16, gen(6)).item() != a


def test_sigreg_gradients_finite_and_nonzero():
    z = (3.0 * torch.randn(64, 8, generator=gen(15))).requires_grad_()
    R.sigreg(z, 32, gen(0)).backward()
    assert torch.isfinite(z.grad).all()
    assert z.grad.abs().sum() > 0
    # a step against the gradient lowers the statistic
    with torch.no_grad():
        before = R.sigreg(z, 32, gen(0)).item()
        after = R.sigreg(z - 0.5 * z.grad / z.grad.norm(), 32, gen(0)).item()
    assert after < before


def test_sigreg_bad_num_slices():
    with pytest.raises(ValueError, match="num_slices"):
        R.sigreg(torch.randn(8, 3), num_slices=0)


# ------------------------------------------------------------------ temporal similarity and IDM
def test_temporal_similarity_hand_value():
    # z_0 = (0, 0), z_1 = (1, 2), z_2 = (1, 0): squared steps 1, 4, 0, 4 -> mean 9/4
    z = torch.tensor([[[0.0, 0.0]], [[1.0, 2.0]], [[1.0, 0.0]]])
    assert R.temporal_similarity(z).item() == pytest.approx(2.25)


def test_temporal_similarity_zero_for_single_step_and_constant():
    assert R.temporal_similarity(torch.randn(1, 4, 3)).item() == 0.0
    z = torch.randn(1, 4, 3).expand(5, 4, 3)
    assert R.temporal_similarity(z).item() == 0.0
    with pytest.raises(ValueError, match="z"):
        R.temporal_similarity(torch.randn(4, 3))
    with pytest.raises(TypeError, match="z"):
        R.temporal_similarity([[1.0]])


def test_inverse_dynamics_exact_linear_idm_gives_zero():
    t, n, d = 5, 6, 3
    z = torch.randn(t, n, d, generator=gen(16))
    actions = z[1:] - z[:-1]                     # a_t = z_{t+1} - z_t
    idm = torch.nn.Linear(2 * d, d)
    with torch.no_grad():
        idm.weight.copy_(torch.cat([-torch.eye(d), torch.eye(d)], dim=1))
        idm.bias.zero_()
    assert R.inverse_dynamics_loss(idm, z, actions).item() == pytest.approx(0.0, abs=1e-12)
    # a wrong sign is penalised by the MSE: (-a - a)^2 = 4 a^2
    expected = (4 * actions ** 2).mean().item()
    assert R.inverse_dynamics_loss(idm, z, -actions).item() == pytest.approx(expected, rel=1e-5)


def test_inverse_dynamics_bad_shapes():
    idm = torch.nn.Linear(6, 2)
    z = torch.randn(4, 2, 3)
    with pytest.raises(ValueError, match="actions"):
        R.inverse_dynamics_loss(idm, z, torch.randn(4, 2, 2))     # needs T-1 = 3 steps
    with pytest.raises(ValueError, match="z"):
        R.inverse_dynamics_loss(idm, torch.randn(4, 3), torch.randn(3, 2))


# ---------------------------------------------------------------------------- two-view objective
@pytest.fixture
def views():
    z1 = torch.randn(64, 12, generator=gen(20), dtype=torch.float64)
    z2 = z1 + 0.3 * torch.randn(64, 12, generator=gen(21), dtype=torch.float64)
    z2[:, :3] *= 0.2
    return z1, z2


def test_two_view_loss_decomposition(views):
    z1, z2 = views
    total, terms = R.two_view_loss(z1, z2, invariance=1.5, variance=2.0, covariance=3.0, sigreg=4.0,
                                   num_slices=32, generator=gen(7))
    mse = ((z1 - z2) ** 2).mean()
    v = R.vicreg_variance(z1) + R.vicreg_variance(z2)
    c = R.vicreg_covariance(z1) + R.vicreg_covariance(z2)
    s = R.sigreg(z1, 32, gen(7)) + R.sigreg(z2, 32, gen(7))      # both views share the directions
    expected = 1.5 * mse + 2.0 * v + 3.0 * c + 4.0 * 0.5 * s
    assert total.item() == pytest.approx(expected.item(), rel=1e-10)
    assert terms["total"] == pytest.approx(expected.item(), rel=1e-10)
    assert terms["invariance"] == pytest.approx(mse.item(), rel=1e-10)
    assert terms["variance"] == pytest.approx(v.item(), rel=1e-10)
    assert terms["covariance"] == pytest.approx(c.item(), rel=1e-10)
    assert terms["sigreg"] == pytest.approx(0.5 * s.item(), rel=1e-10)
    assert all(isinstance(x, float) for x in terms.values())


def test_two_view_loss_unregularised_is_plain_mse(views):
    z1, z2 = views
    total, terms = R.two_view_loss(z1, z2)
    assert total.item() == pytest.approx(((z1 - z2) ** 2).mean().item(), rel=1e-12)
    assert set(terms) == {"invariance", "total"}
    # identical views: zero loss, the collapse-friendly minimum
    assert R.two_view_loss(z1, z1.clone())[0].item() == 0.0


def test_two_view_vicreg_and_sigreg_match_their_formulas(views):
    z1, z2 = views
    v_total, _ = R.two_view_loss(z1, z2, invariance=1.0, variance=1.0, covariance=80.0)
    expected = ((z1 - z2) ** 2).mean() + R.vicreg_variance(z1) + R.vicreg_variance(z2) \
        + 80 * (R.vicreg_covariance(z1) + R.vicreg_covariance(z2))
    assert v_total.item() == pytest.approx(expected.item(), rel=1e-10)

    s_total, _ = R.two_view_loss(z1, z2, sigreg=10.0, num_slices=16, generator=gen(3))
    expected = ((z1 - z2) ** 2).mean() + 10 * 0.5 * (R.sigreg(z1, 16, gen(3)) + R.sigreg(z2, 16, gen(3)))
    assert s_total.item() == pytest.approx(expected.item(), rel=1e-10)


def test_monitor_reports_switched_off_terms_without_changing_total(views):
    z1, z2 = views
    z1 = z1.clone().requires_grad_()
    plain, plain_terms = R.two_view_loss(z1, z2, variance=1.0, num_slices=16, generator=gen(1))
    mon, mon_terms = R.two_view_loss(z1, z2, variance=1.0, num_slices=16, generator=gen(1), monitor=True)
    assert mon.item() == plain.item()
    assert set(plain_terms) == {"invariance", "variance", "total"}
    assert set(mon_terms) == {"invariance", "variance", "covariance", "sigreg", "total"}
    assert mon_terms["covariance"] == pytest.approx((R.vicreg_covariance(z1) + R.vicreg_covariance(z2)).item())
    assert mon_terms["sigreg"] > 0
    # monitored terms carry no gradient: the gradient equals the unmonitored one
    g_plain, = torch.autograd.grad(plain, z1)
    g_mon, = torch.autograd.grad(mon, z1)
    torch.testing.assert_close(g_mon, g_plain)


def test_two_view_loss_gradient_flows_to_both_views(views):
    z1, z2 = (v.clone().requires_grad_() for v in views)
    total, _ = R.two_view_loss(z1, z2, variance=1.0, covariance=80.0)
    total.backward()
    assert z1.grad.abs().sum() > 0 and z2.grad.abs().sum() > 0
    assert torch.isfinite(z1.grad).all()


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("fn", [R.vicreg_variance, R.vicreg_covariance, R.sigreg])
def test_bad_z_shapes_and_types(fn):
    with pytest.raises(ValueError, match=r"\bz\b.*\[N, D\]"):
        fn(torch.randn(10))
    with pytest.raises(ValueError, match=r"\bz\b.*\[N, D\]"):
        fn(torch.randn(4, 5, 6))
    with pytest.raises(ValueError, match=r"\bz\b.*N >= 2"):
        fn(torch.randn(1, 5))
    with pytest.raises(TypeError, match=r"\bz\b.*floating"):
        fn(torch.ones(4, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"\bz\b"):
        fn(np.zeros((4, 5)))


def test_epps_pulley_bad_input_names_y():
    with pytest.raises(ValueError, match=r"\by\b"):
        R.epps_pulley(torch.randn(10))
    with pytest.raises(TypeError, match=r"\by\b"):
        R.epps_pulley(torch.ones(4, 2, dtype=torch.int32))


def test_variance_bad_gamma_eps_and_covariance_one_dim():
    z = torch.randn(8, 3)
    with pytest.raises(ValueError, match="gamma"):
        R.vicreg_variance(z, gamma=0.0)
    with pytest.raises(ValueError, match="eps"):
        R.vicreg_variance(z, eps=-1.0)
    with pytest.raises(ValueError, match="D >= 2"):
        R.vicreg_covariance(torch.randn(8, 1))


@pytest.mark.parametrize("name,kwargs", [("invariance", {"invariance": -1.0}), ("variance", {"variance": -0.1}),
                                         ("covariance", {"covariance": -5}),
                                         ("sigreg", {"sigreg": -10.0})])
def test_two_view_loss_rejects_negative_weights(name, kwargs):
    z = torch.randn(8, 4)
    with pytest.raises(ValueError, match=name):
        R.two_view_loss(z, z.clone(), **kwargs)


def test_two_view_loss_bad_views():
    with pytest.raises(ValueError, match="z1.*z2"):
        R.two_view_loss(torch.randn(8, 4), torch.randn(8, 5))
    with pytest.raises(ValueError, match="z1"):
        R.two_view_loss(torch.randn(8), torch.randn(8))
    with pytest.raises(ValueError, match="z2"):
        R.two_view_loss(torch.randn(8, 4), torch.randn(1, 4))
    with pytest.raises(TypeError, match="z2"):
        R.two_view_loss(torch.randn(8, 4), torch.ones(8, 4, dtype=torch.int64))


# ------------------------------------------------- input-validation cases
# CONTRIBUTING: bad input raises ValueError/TypeError naming the argument, before compute. These cases
# used not to (bugs found by these tests, now fixed in the modules).
@pytest.mark.parametrize("z", [np.zeros((3, 2, 2)), torch.zeros(3, 2, 2, dtype=torch.int64)])
def test_inverse_dynamics_rejects_non_float_z(z):
    with pytest.raises(TypeError, match="z"):
        R.inverse_dynamics_loss(torch.nn.Linear(4, 1), z, torch.zeros(2, 2, 1))


def test_temporal_similarity_rejects_integer_z():
    with pytest.raises(TypeError, match="z"):
        R.temporal_similarity(torch.zeros(3, 2, 2, dtype=torch.int64))


def test_two_view_loss_rejects_nan_weight():
    with pytest.raises(ValueError, match="variance"):
        R.two_view_loss(torch.randn(8, 4), torch.randn(8, 4), variance=float("nan"))


def test_check_weights_is_the_one_weight_check():
    R.check_weights(variance=1, covariance=25.0, sigreg=0.0, similarity=12, idm=1.0, invariance=1.0)
    with pytest.raises(ValueError, match="'std'; allowed weights are: invariance, variance, covariance, sigreg, "
                                         "similarity, idm"):
        R.check_weights(std=1.0)
    with pytest.raises(ValueError, match="allowed weights are: variance, covariance$"):
        R.check_weights(("variance", "covariance"), sigreg=1.0)
    for bad in (-1, float("inf"), True, "1"):
        with pytest.raises(ValueError, match="similarity must be a finite number >= 0"):
            R.check_weights(similarity=bad)


def test_one_name_per_weight_everywhere():
    """Weight classes, switches, presets and loss terms all use the names of ``WEIGHT_NAMES``."""
    from dataclasses import fields

    from ebjepa_mini.collapse import SWITCHES
    from ebjepa_mini.regularizers import RegularizerWeights
    from ebjepa_mini.presets import ImageSettings, VideoSettings, WorldSettings

    names = set(R.WEIGHT_NAMES)
    assert {f.name for f in fields(RegularizerWeights)} == set(SWITCHES) == {"invariance", "variance", "covariance",
                                                                              "sigreg"}
    assert {f.name for f in fields(R.WorldWeights)} == {"variance", "covariance", "similarity", "idm"}
    assert {"variance", "covariance", "sigreg"} <= {f.name for f in fields(ImageSettings)}
    assert {"variance", "covariance"} <= {f.name for f in fields(VideoSettings)}
    assert isinstance(WorldSettings().weights, R.WorldWeights)
    _, terms = R.two_view_loss(torch.randn(8, 4), torch.randn(8, 4), monitor=True)
    assert set(terms) - {"total"} <= names
