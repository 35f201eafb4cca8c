"""Chapter 1 toy energy-based models: the maths (free-energy limits, distances), inference,
what training does to the energy (collapse or not), the unified JEPA energy, the exercise
checks, and input validation."""
from __future__ import annotations

import math

import pytest
import torch

from ebjepa_mini import checks, energy

A, B = energy.ELLIPSE_RADII


@pytest.fixture
def points():
    gen = torch.Generator().manual_seed(1)
    return (2 * torch.rand(64, 2, generator=gen) - 1) * energy.EXTENT


@pytest.fixture(scope="module")
def data():
    return energy.sample_ellipse(120, generator=torch.Generator().manual_seed(0))


def brute_force_sq_distance(y: torch.Tensor, n: int = 20_000) -> torch.Tensor:
    """Squared distance to the ellipse from a dense sweep, written independently of the module."""
    t = torch.linspace(0, 2 * math.pi, n + 1, dtype=torch.float64)[:-1]
    curve = torch.stack([A * torch.cos(t), B * torch.sin(t)], dim=1)   # [n, 2]
    return torch.cdist(y.double(), curve).min(dim=1).values ** 2


# ---------------------------------------------------------------- free energy
def test_zero_temp_free_energy_is_squared_distance_to_ellipse(points):
    F = energy.free_energy_zero_temp(points, n_latent=4096)
    torch.testing.assert_close(F.double(), brute_force_sq_distance(points), atol=2e-4, rtol=1e-3)
    # on-manifold points have zero energy; a point on the long axis is (3 - a)^2 away
    on = energy.ellipse_decoder(energy.latent_grid(16))
    assert energy.free_energy_zero_temp(on, 16).abs().max() < 1e-10
    assert energy.free_energy_zero_temp(torch.tensor([[3.0, 0.0]]), 360).item() == pytest.approx((3 - A) ** 2)


def test_zero_temp_argmin_decodes_to_the_closest_point(points):
    F, z = energy.free_energy_zero_temp(points, 720, return_argmin=True)
    torch.testing.assert_close(((points - energy.ellipse_decoder(z)) ** 2).sum(-1), F)


def test_free_energy_large_beta_gives_zero_temperature(points):
    K = 48
    F0 = energy.free_energy_zero_temp(points, K)
    for beta in (1e3, 1e5):
        Fb = energy.free_energy(points, beta, K)
        # softmin is above the min by at most log(K) / beta
        assert (Fb - F0).min() >= -1e-6
        assert (Fb - F0).max() <= math.log(K) / beta + 1e-5
    torch.testing.assert_close(energy.free_energy(points, math.inf, K), F0)


def test_free_energy_small_beta_gives_mean_energy(points):
    K = 48
    mean_e = energy.latent_energy(points, energy.latent_grid(K)).mean(dim=1)
    torch.testing.assert_close(energy.free_energy(points, 1e-6, K), mean_e, atol=1e-4, rtol=1e-4)
    # far from the limit the two differ clearly: the test above is not vacuous
    assert (energy.free_energy(points, 1.0, K) - mean_e).abs().max() > 0.1


def test_free_energy_decreases_with_beta_between_mean_and_min(points):
    K = 36
    e = energy.latent_energy(points, energy.latent_grid(K))
    values = [energy.free_energy(points, b, K) for b in (0.01, 0.1, 1.0, 10.0, 100.0)]
    for hot, cold in zip(values, values[1:]):
        assert (cold <= hot + 1e-6).all()
    assert (values[0] <= e.mean(1) + 1e-6).all() and (values[-1] >= e.min(1).values - 1e-6).all()


def test_relaxed_min_is_stable_for_large_energies():
    e = torch.tensor([[1000.0, 1001.0, 1500.0]])
    out = energy.relaxed_min(e, 50.0)
    assert torch.isfinite(out).all() and out.item() == pytest.approx(1000.0 + math.log(3) / 50, abs=1e-3)


def test_horn_at_x_one_is_the_ellipse_and_shrinks_for_small_x(points):
    torch.testing.assert_close(energy.free_energy_zero_temp(points, 64, x=1.0),
                               energy.free_energy_zero_temp(points, 64))
    x, y = energy.sample_horn(50, noise=0.0, generator=torch.Generator().manual_seed(0))
    assert energy.free_energy_zero_temp(y, 720, x=x).max() < 1e-3       # each sample lies on its own ellipse
    assert energy.free_energy_zero_temp(y, 720).mean() > 0.05            # ... but not on the x = 1 ellipse


# ---------------------------------------------------------------- inference
def test_gradient_descent_on_z_reaches_the_energy_minimum():
    gen = torch.Generator().manual_seed(3)
    y = energy.sample_ellipse(40, noise=0.2, generator=gen)
    coarse = energy.latent_grid(8)
    z0 = coarse[energy.latent_energy(y, coarse).argmin(dim=1)]           # start in the right basin
    z_path = energy.infer_latent(y, z0, steps=300, lr=0.05)
    e_start = energy.latent_energy(y, z_path[0].unsqueeze(1)).squeeze(1)
    e_end = energy.latent_energy(y, z_path[-1].unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(e_end.double(), brute_force_sq_distance(y), atol=1e-4, rtol=1e-3)
    assert (e_end <= e_start + 1e-6).all() and (e_start - e_end).max() > 1e-3


def test_gradient_descent_on_z_can_stop_in_a_local_minimum():
    y = torch.tensor([[0.2, 1.2]])                                       # above the short axis
    near = energy.infer_latent(y, torch.tensor([1.0]), steps=300, lr=0.05)[-1]
    far = energy.infer_latent(y, torch.tensor([4.2]), steps=300, lr=0.05)[-1]
    e_near = energy.latent_energy(y, near.unsqueeze(1)).item()
    e_far = energy.latent_energy(y, far.unsqueeze(1)).item()
    assert e_near == pytest.approx(brute_force_sq_distance(y).item(), abs=1e-4)
    assert e_far > e_near + 3.0                                          # stuck on the far side ...
    z = far.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(energy.latent_energy(y, z.unsqueeze(1)).sum(), z)
    assert grad.abs().item() < 1e-3                                     # ... at a true stationary point
    assert (energy.latent_energy(y, torch.stack([far - 0.05, far + 0.05], 1)) > e_far).all()  # a minimum


def test_gradient_descent_on_y_lands_on_the_ellipse(points):
    path = energy.infer_y(points, steps=30, lr=0.2, n_latent=360)
    assert path.shape == (31, 64, 2)
    assert energy.free_energy_zero_temp(path[-1], 2048).max() < 1e-3
    assert energy.free_energy_zero_temp(path[0], 2048).mean() > 0.3


# ---------------------------------------------------------------- training shapes the energy
@pytest.fixture(scope="module")
def trained(data):
    return {m: energy.train_energy_model(m, data, 150, n_latent=36) for m in energy.TRAIN_METHODS}


def test_pull_down_only_makes_the_energy_flat(trained, data):
    stats = energy.energy_stats(trained["pull_down"].energy, data, energy.off_manifold_points(21))
    assert stats["spread"] < 1e-2 and stats["e_off"] < 1e-2             # low everywhere: collapsed
    assert trained["pull_down"].history["e_off"][0] > 10 * stats["e_off"]  # ... and it got there by training


@pytest.mark.parametrize("method", ["contrastive", "regularised"])
def test_contrastive_and_regularised_keep_data_below_off_manifold(trained, data, method):
    stats = energy.energy_stats(trained[method].energy, data, energy.off_manifold_points(21))
    assert stats["e_data"] < 0.2
    assert stats["e_off"] > 0.5 and stats["e_off"] > 5 * stats["e_data"]
    assert stats["spread"] > 0.3


def test_regularised_latent_energy_interpolates_flat_and_distance(points):
    flat = energy.RegularisedLatentEnergy(lam=0.0, n_latent=72)
    flat.A.data = torch.diag(torch.tensor([A, B]))
    stiff = energy.RegularisedLatentEnergy(lam=1e6, n_latent=720)
    stiff.A.data = torch.diag(torch.tensor([A, B]))
    with torch.no_grad():
        assert flat(points).max() < 0.05                                 # lam = 0: every y decodes exactly
        torch.testing.assert_close(stiff(points).double(), brute_force_sq_distance(points), atol=2e-3, rtol=2e-3)


def test_training_is_deterministic(data):
    r1 = energy.train_energy_model("contrastive", data, 5, seed=3)
    r2 = energy.train_energy_model("contrastive", data, 5, seed=3)
    assert r1.history["loss"] == r2.history["loss"]


# ---------------------------------------------------------------- the unified JEPA energy
def test_jepa_energy_instantiations():
    gen = torch.Generator().manual_seed(0)
    f = torch.nn.Linear(3, 4)
    x, xp = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(energy.jepa_energy(f, None, x, xp), ((f(x) - f(xp)) ** 2).sum(-1))
        assert energy.jepa_energy(f, None, x, x).abs().max() == 0
        # video: the predictor reads the two most recent frame representations
        frames = torch.randn(5, 2, 3, generator=gen)
        g_video = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 4))
        assert energy.jepa_energy(f, g_video, frames, xp).shape == (5,)
        # action-conditioned: GRU predictor, identity action encoder
        gru = torch.nn.GRUCell(2, 4)
        a = torch.randn(5, 2, generator=gen)
        e_ac = energy.jepa_energy(f, lambda z, u: gru(u, z), x, xp, a=a)
        torch.testing.assert_close(e_ac, ((gru(a, f(x)) - f(xp)) ** 2).sum(-1))
        torch.testing.assert_close(energy.jepa_energy(f, lambda z, u: gru(u, z), x, xp, a=a, q=lambda t: t), e_ac)
    # a constant encoder gives zero energy to every pair: complete collapse
    const = lambda t: torch.zeros(t.shape[0], 4)                          # noqa: E731
    assert energy.jepa_energy(const, None, x, xp).abs().max() == 0


def test_toy_jepa_collapses_without_regulariser_and_not_with_one(data):
    gen = torch.Generator().manual_seed(0)
    x, xp = data + 0.2 * torch.randn_like(data), data + 0.2 * torch.randn(data.shape, generator=gen)
    free = energy.train_toy_jepa(x, xp, 150)
    assert free["z_std"][-1] < 1e-3 * free["z_std"][0] and free["e_neg"][-1] < 1e-6
    var_hinge = lambda z: torch.relu(1.0 - z.std(0)).mean()              # noqa: E731
    kept = energy.train_toy_jepa(x, xp, 150, reg=var_hinge, lam=1.0, lr=0.05)
    assert kept["z_std"][-1] > 0.5 and kept["e_neg"][-1] > 10 * kept["e_pos"][-1]


# ---------------------------------------------------------------- exercise checks
def test_checks_accept_the_reference(capsys):
    checks.check_free_energy(energy.relaxed_min)
    checks.check_hinge_loss(energy.hinge_loss)
    checks.check_jepa_energy(energy.jepa_energy)
    grid, _, _ = energy.make_grid(21)
    with torch.no_grad():
        checks.check_flat_energy(energy.RegularisedLatentEnergy(lam=0.0, n_latent=36)(grid))
    assert capsys.readouterr().out.count("Correct!") == 4


def test_checks_reject_common_mistakes():
    log_sum = lambda e, b: -torch.logsumexp(-b * e, -1) / b                                  # noqa: E731
    naive = lambda e, b: -torch.log(torch.exp(-b * e).mean(-1)) / b                        # noqa: E731
    no_hinge = lambda p, n, m: p.mean() + (m - n).mean()                                    # noqa: E731
    for fn, word in ((log_sum, "MEAN"), (naive, "logsumexp")):
        with pytest.raises(AssertionError, match=word):
            checks.check_free_energy(fn)
    with pytest.raises(AssertionError, match="hinge"):
        checks.check_hinge_loss(no_hinge)
    grid, _, _ = energy.make_grid(21)
    with pytest.raises(AssertionError, match="not flat"):
        checks.check_flat_energy(energy.free_energy_zero_temp(grid, 36))
    with pytest.raises(AssertionError, match="mismatch"):
        checks.check_jepa_energy(lambda f, g, x, xp, a=None, q=None: energy.jepa_energy(f, g, x, xp, a, q) * 2)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("call, name", [
    (lambda: energy.latent_grid(1), "n_latent"),
    (lambda: energy.latent_grid(2.5), "n_latent"),
    (lambda: energy.free_energy(torch.zeros(3, 2), 0.0), "beta"),
    (lambda: energy.free_energy(torch.zeros(3, 2), -1.0), "beta"),
    (lambda: energy.free_energy(torch.zeros(3, 2), float("nan")), "beta"),
    (lambda: energy.free_energy(torch.zeros(3, 3), 1.0), "y"),
    (lambda: energy.free_energy_zero_temp(torch.zeros(3, 2), 0), "n_latent"),
    (lambda: energy.free_energy_zero_temp(torch.zeros(3, 2), 8, x=torch.tensor([0.5, 2.0, 0.1])), "x"),
    (lambda: energy.latent_energy(torch.zeros(3, 2), torch.zeros(4, 5)), "z"),
    (lambda: energy.sample_ellipse(0), "n"),
    (lambda: energy.sample_ellipse(5, noise=-0.1), "noise"),
    (lambda: energy.make_grid(1), "n"),
    (lambda: energy.infer_latent(torch.zeros(3, 2), torch.zeros(3), steps=0), "steps"),
    (lambda: energy.infer_latent(torch.zeros(3, 2), torch.zeros(4), steps=2), "z0"),
    (lambda: energy.infer_y(torch.zeros(3, 2), steps=2, lr=0.0), "lr"),
    (lambda: energy.train_energy_model("push_down", torch.zeros(3, 2), 5), "method"),
    (lambda: energy.train_energy_model("regularised", torch.zeros(3, 2), 5, lam=-1.0), "lam"),
    (lambda: energy.hinge_loss(torch.zeros(3), torch.zeros(3), margin=0.0), "margin"),
    (lambda: energy.RegularisedLatentEnergy(lam=-0.5), "lam"),
    (lambda: energy.jepa_energy(lambda t: t, None, torch.zeros(3, 2), torch.zeros(4, 2)), "batch size"),
    (lambda: energy.jepa_energy(lambda t: t, None, torch.zeros(3, 2), torch.zeros(3, 2), q=lambda t: t), "q"),
    (lambda: energy.jepa_energy(lambda t: t, None, torch.zeros(3, 2), torch.zeros(3, 2), a=torch.zeros(3, 1)),
     "predictor"),
    (lambda: energy.train_toy_jepa(torch.zeros(4, 2), torch.zeros(4, 3), 5), "same shape"),
])
def test_bad_input_raises_value_error(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="y"):
        energy.latent_energy([[0.0, 0.0]], energy.latent_grid(4))
    with pytest.raises(TypeError, match="encoder"):
        energy.jepa_energy("not a function", None, torch.zeros(2, 2), torch.zeros(2, 2))
