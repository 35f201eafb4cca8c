"""Auto-checks for the book's exercises.

A learner writes a function (or computes a value) in an exercise and passes it to the
matching ``check_*`` here. The check compares it with the package's reference
implementation on random inputs, prints a short "Correct!" line, or raises
``AssertionError`` with a hint about the most likely mistake. The chapters' hidden
solution cells end with the same calls, so CI runs every check.

Sections follow the chapters; each check names the exercise it belongs to.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from . import energy

__all__ = ["check_free_energy", "check_hinge_loss", "check_flat_energy", "check_jepa_energy"]


def _as_tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should return a torch.Tensor, got {type(value).__name__}.")
    return value


def _correct(message: str) -> None:
    print(f"Correct! {message}")


# ---- Chapter 1 ----
def check_free_energy(fn: Callable[[torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 1.1: ``fn(energies [N, K], beta) -> [N]`` must be the relaxed free energy.

    The reference is :func:`ebjepa_mini.energy.relaxed_min`:
    ``-1/beta * log(mean_k exp(-beta * E[:, k]))``.
    """
    gen = torch.Generator().manual_seed(seed)
    e = 3.0 * torch.rand(6, 24, generator=gen, dtype=torch.float64)
    for beta in (0.3, 1.0, 5.0):
        got = _as_tensor(fn(e.clone(), beta), "your function")
        want = energy.relaxed_min(e, beta)
        if got.shape != want.shape:
            raise AssertionError(f"For energies of shape {tuple(e.shape)} expected one value per row, shape "
                                 f"{tuple(want.shape)}, got {tuple(got.shape)}. Reduce over the last dimension (z).")
        if not torch.allclose(got.double(), want, atol=1e-4, rtol=1e-4):
            log_sum = -torch.logsumexp(-beta * e, dim=-1) / beta
            if torch.allclose(got.double(), log_sum, atol=1e-4):
                raise AssertionError("You computed -1/beta * log(SUM exp(-beta E)): use the MEAN over z, "
                                     "i.e. subtract log(K) inside, so that beta -> 0 gives the mean energy.")
            if torch.allclose(got.double(), -want, atol=1e-4):
                raise AssertionError("Sign error: F_beta = -(1/beta) * log(mean exp(-beta E)) is positive here.")
            raise AssertionError(f"Mismatch at beta={beta}: max abs error "
                                 f"{(got.double() - want).abs().max().item():.3g}. "
                                 "Check the factor -1/beta and the minus sign inside exp(-beta * E).")
    big = torch.tensor([[900.0, 1000.0, 1100.0]], dtype=torch.float64)
    got = _as_tensor(fn(big, 10.0), "your function").double()
    if not torch.isfinite(got).all() or abs(got.item() - energy.relaxed_min(big, 10.0).item()) > 1e-3:
        raise AssertionError("For large beta * E (here 10 * 900) exp underflows to 0 and log gives inf: "
                             "use torch.logsumexp, which subtracts the maximum before exponentiating.")
    _correct("Your relaxed free energy matches the reference, also where a naive exp would underflow.")


def check_hinge_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 1.2: ``fn(e_pos [N], e_neg [M], margin) -> scalar`` must be the contrastive hinge.

    The reference is :func:`ebjepa_mini.energy.hinge_loss`: ``mean(e_pos) + mean(max(0, margin - e_neg))``.
    """
    gen = torch.Generator().manual_seed(seed)
    e_pos, e_neg = 2.0 * torch.rand(16, generator=gen), 2.0 * torch.rand(12, generator=gen)
    for margin in (0.5, 1.0):
        got = _as_tensor(fn(e_pos.clone(), e_neg.clone(), margin), "your loss")
        if got.dim() != 0:
            raise AssertionError(f"The loss should be a scalar (0-dim tensor); got shape {tuple(got.shape)}. "
                                 "Average over the points.")
        want = energy.hinge_loss(e_pos, e_neg, margin)
        if not torch.allclose(got, want, atol=1e-5):
            no_clip = e_pos.mean() + (margin - e_neg).mean()
            if torch.allclose(got, no_clip, atol=1e-5):
                raise AssertionError("Negatives above the margin should cost nothing: clip with "
                                     "torch.relu(margin - e_neg) (a hinge), else energies are pushed up forever.")
            raise AssertionError(f"Mismatch for margin={margin}: got {got.item():.4f}, expected {want.item():.4f}. "
                                 "Pull data down (+ mean of e_pos) and push negatives up only below the margin.")
    e_pos.requires_grad_(True)
    e_neg_far = torch.full((4,), 5.0, requires_grad=True)
    fn(e_pos, e_neg_far, 1.0).backward()
    if e_neg_far.grad is not None and e_neg_far.grad.abs().max() > 0:
        raise AssertionError("Negatives already above the margin still receive a gradient: use a hinge (relu).")
    _correct("Your hinge pulls data down and pushes negatives up until they reach the margin.")


def check_flat_energy(values: torch.Tensor, tol: float = 0.05) -> None:
    """Exercise 1.3: ``values`` (an energy on the plotting grid) must be flat, i.e. collapsed.

    Args:
        values: energies ``[n*n]`` (or any shape) on :func:`ebjepa_mini.energy.make_grid`.
        tol: largest standard deviation still called flat.
    """
    values = _as_tensor(values, "your computation").detach().double().reshape(-1)
    if values.numel() < 4:
        raise AssertionError("Pass the energy on the whole grid (many points), not a single value.")
    spread, top = values.std().item(), values.max().item()
    if not math.isfinite(spread):
        raise AssertionError("The energy contains inf or nan values.")
    if spread > tol:
        raise AssertionError(f"The energy varies over the plane (std {spread:.3f} > {tol}, max {top:.3f}): "
                             "it is not flat. With lam = 0 every point y can be decoded exactly; did you set lam=0?")
    _correct(f"Flat: std over the plane {spread:.4f}, max {top:.4f}. Every point has (almost) zero energy.")


def check_jepa_energy(fn: Callable, seed: int = 0) -> None:
    """Exercise 1.4: ``fn(f, g, x, x_prime, a=None, q=None) -> [B]`` must be the unified energy (paper eq. 1).

    The reference is :func:`ebjepa_mini.energy.jepa_energy`.
    """
    gen = torch.Generator().manual_seed(seed)
    w_enc, w_pred = torch.randn(3, 4, generator=gen), torch.randn(4 + 2, 4, generator=gen)
    f = lambda x: x @ w_enc                                        # noqa: E731  toy linear encoder
    g = lambda z, u=None: (z if u is None else torch.cat([z, u], -1) @ w_pred)  # noqa: E731
    x, xp, a = (torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen), torch.randn(5, 2, generator=gen))
    cases = [("image (g = identity)", (f, None, x, xp), {}), ("action-conditioned", (f, g, x, xp), {"a": a})]
    for name, args, kwargs in cases:
        got = _as_tensor(fn(*args, **kwargs), "your energy")
        want = energy.jepa_energy(*args, **kwargs)
        if got.shape != want.shape:
            raise AssertionError(f"[{name}] expected one energy per example, shape {tuple(want.shape)}; "
                                 f"got {tuple(got.shape)}. Sum the squared error over the embedding dimension.")
        if not torch.allclose(got, want, atol=1e-4, rtol=1e-4):
            raise AssertionError(f"[{name}] mismatch: max abs error {(got - want).abs().max().item():.3g}. "
                                 "E = ||g(f(x), q(a)) - f(x')||^2, summed over dimensions, one value per example.")
    _correct("Your energy matches paper eq. 1 for the image and the action-conditioned instantiations.")


# ---- Chapter 2 ----
__all__ += ["check_vicreg_variance", "check_effective_rank", "check_collapse_diagnosis"]


def check_vicreg_variance(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 2.1: ``fn(z [N, D]) -> scalar`` must be the VICReg variance hinge (paper eq. 6, gamma=1, eps=1e-4)."""
    from .regularizers import vicreg_variance

    gen = torch.Generator().manual_seed(seed)
    cases = [torch.randn(64, 8, generator=gen) * torch.linspace(0.1, 2.0, 8),
             torch.zeros(16, 4), torch.randn(5, 3, generator=gen) * 3]
    for z in cases:
        got = _as_tensor(fn(z.clone()), "your function")
        want = vicreg_variance(z)
        if got.numel() != 1:
            raise AssertionError(f"Return one number (the mean over dimensions), got shape {tuple(got.shape)}.")
        if abs(got.item() - want.item()) > 1e-4:
            biased = torch.relu(1 - torch.sqrt(z.var(0, unbiased=False) + 1e-4)).mean()
            no_eps = torch.relu(1 - z.std(0)).mean()
            if abs(got.item() - biased.item()) < 1e-5:
                raise AssertionError("Use the unbiased variance (divide by N-1): z.var(dim=0) or unbiased=True.")
            if abs(got.item() - no_eps.item()) < 1e-5 and z.abs().sum() > 0:
                raise AssertionError("Add eps = 1e-4 to the variance INSIDE the square root.")
            raise AssertionError(f"Expected {want.item():.5f}, got {got.item():.5f}. The term is "
                                 "mean_j max(0, 1 - sqrt(Var(z_j) + 1e-4)), with the variance over the batch (dim 0).")
    z = torch.zeros(16, 4, requires_grad=True)
    _as_tensor(fn(z), "your function").backward()
    if z.grad is None:
        raise AssertionError("Your function must be differentiable (use torch operations, no .item()/.numpy()).")
    _correct("Your variance hinge matches paper eq. 6, including the constant batch where it equals gamma.")


def check_effective_rank(fn: Callable, seed: int = 0) -> None:
    """Exercise 2.2: ``fn(z [N, D]) -> float`` must be the effective rank of the centred ``z`` (Roy & Vetterli)."""
    from .metrics import effective_rank

    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(200, 6, generator=gen, dtype=torch.float64))
    cases = {"isotropic": torch.randn(500, 6, generator=gen, dtype=torch.float64),
             "rank 1": torch.randn(300, 1, generator=gen, dtype=torch.float64) * torch.ones(1, 6, dtype=torch.float64),
             "skewed spectrum": (q - q.mean(0)) * torch.tensor([5.0, 2, 1, 0.5, 0.1, 0.01], dtype=torch.float64)}
    for name, z in cases.items():
        got = float(fn(z.clone()))
        want = effective_rank(z)
        if abs(got - want) > 1e-3 * max(1.0, want):
            uncentred = effective_rank(z, centered=False)
            if abs(got - uncentred) < 1e-3 * max(1.0, uncentred):
                raise AssertionError(f"{name}: you forgot to centre z (subtract the mean over the batch) first.")
            raise AssertionError(f"{name}: expected {want:.3f}, got {got:.3f}. Normalise the SINGULAR VALUES "
                                 "(not their squares) to sum to 1, then exp(-sum p log p).")
    _correct("Your effective rank matches on an isotropic, a rank-1 and a skewed spectrum.")


def check_collapse_diagnosis(answers: dict) -> None:
    """Exercise 2.3: map each setting to the collapse it shows.

    ``answers`` maps ``"none"``, ``"variance"``, ``"covariance"``, ``"vicreg"`` to one of
    ``"healthy"``, ``"dimensional collapse"``, ``"complete collapse"``.
    """
    from .metrics import VERDICTS

    expected = {"none": "complete collapse", "variance": "dimensional collapse",
                "covariance": "complete collapse", "vicreg": "healthy"}
    hints = {"none": "with only the invariance term, mapping everything to one point is a perfect solution.",
             "variance": "each dimension keeps std >= gamma, but nothing stops them all being the same dimension.",
             "covariance": "a constant embedding has zero covariance: the covariance term alone is satisfied by collapse.",
             "vicreg": "variance keeps spread, covariance spreads it over dimensions."}
    if not isinstance(answers, dict):
        raise AssertionError(f"Pass a dict like {{'none': 'complete collapse', ...}}, got {type(answers).__name__}.")
    for key, want in expected.items():
        got = answers.get(key)
        if got not in VERDICTS:
            raise AssertionError(f"answers[{key!r}] must be one of {VERDICTS}, got {got!r}.")
        if got != want:
            raise AssertionError(f"{key}: not {got!r}. Hint: {hints[key]}")
    _correct("All four diagnoses are right.")


# ---- Chapter 3 ----
__all__ += ["check_epps_pulley", "check_lejepa_lambda", "check_collapsing_run"]


def check_epps_pulley(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 3.1: ``fn(y [N, M]) -> [M]`` must be the Epps-Pulley statistic of each column
    (EB-JEPA convention: 10 knots on [-3, 3], trapezoid rule, window = target CF, not times N)."""
    from .regularizers import epps_pulley

    gen = torch.Generator().manual_seed(seed)
    cases = [torch.randn(256, 5, generator=gen), torch.randn(64, 3, generator=gen) * 0.1 + 1.0,
             torch.zeros(32, 2)]
    for y in cases:
        got = _as_tensor(fn(y.clone()), "your function")
        want = epps_pulley(y)
        if got.shape != want.shape:
            raise AssertionError(f"Return one statistic per column, shape {tuple(want.shape)}; got {tuple(got.shape)}.")
        if not torch.allclose(got.to(want.dtype), want, atol=1e-5, rtol=1e-4):
            ratio = float(got.flatten()[0] / want.flatten()[0]) if want.flatten()[0] != 0 else float("nan")
            if abs(ratio - y.shape[0]) < 1e-2 * y.shape[0]:
                raise AssertionError("Your statistic is N times too large: that is LeJEPA's convention; "
                                     "EB-JEPA does not multiply by the batch size.")
            raise AssertionError(f"Expected {want.tolist()}, got {got.tolist()}. Integrate "
                                 "exp(-t^2/2) * ((mean cos(t y) - exp(-t^2/2))^2 + (mean sin(t y))^2) with "
                                 "torch.trapezoid over t = torch.linspace(-3, 3, 10).")
    _correct("Your Epps-Pulley statistic matches the package's (paper eq. 8 building block).")


def check_lejepa_lambda(value: float, batch_size: int = 256, ebjepa_lambda: float = 10.0) -> None:
    """Exercise 3.2: the LeJEPA-convention weight equivalent to EB-JEPA's ``lambda``.

    LeJEPA multiplies its statistic by the batch size, so its weight is EB-JEPA's divided by it."""
    want = ebjepa_lambda / batch_size
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise AssertionError(f"Give a number, got {type(value).__name__}.")
    if abs(value - ebjepa_lambda * batch_size) < 1e-6 * ebjepa_lambda * batch_size:
        raise AssertionError("The other way round: LeJEPA's statistic is already N times larger, so its weight "
                             "must be N times smaller.")
    if abs(value - want) > 1e-3 * want:
        raise AssertionError(f"Expected lambda / N = {want:.4g}. LeJEPA multiplies the statistic by N = {batch_size}.")
    _correct(f"lambda' = {ebjepa_lambda:g} / {batch_size} = {want:.4f} on LeJEPA's N-scaled statistic.")


def check_collapsing_run(run, healthy) -> None:
    """Exercise 3.3: ``run`` (an :class:`~ebjepa_mini.image.ImageRun`) must have collapsed compared with ``healthy``.

    Collapsed here means: projector outputs with less than a third of the healthy run's spread, or an
    effective rank of the encoder features below 60 % of the healthy run's.
    """
    for name, r in (("run", run), ("healthy", healthy)):
        if not hasattr(r, "proj_std") or not hasattr(r, "effective_rank"):
            raise AssertionError(f"{name} must be an ImageRun (from ImageExperiment.train), got {type(r).__name__}.")
    spread = run.proj_std < healthy.proj_std / 3
    rank = run.effective_rank < 0.6 * healthy.effective_rank
    if not (spread or rank):
        raise AssertionError(f"{run.name} did not collapse: projector std {run.proj_std:.3f} vs {healthy.proj_std:.3f}, "
                             f"effective rank {run.effective_rank:.1f} vs {healthy.effective_rank:.1f}. "
                             "Try a smaller weight (the invariance term then wins).")
    _correct(f"{run.name} collapsed: projector std {run.proj_std:.3f} (healthy {healthy.proj_std:.3f}), "
             f"effective rank {run.effective_rank:.1f} (healthy {healthy.effective_rank:.1f}).")


# ---- Chapter 4 ----
__all__ += ["check_prediction_orders", "check_average_precision"]


def check_prediction_orders(fn: Callable[[int, int], "object"]) -> None:
    """Exercise 4.1: ``fn(n_frames, K) -> [K+1, T]`` must give the order of every frame of every
    rollout state ``S^(k)`` (predictor calls since ground truth; 0 for the two context frames)."""
    import numpy as np

    from .video import prediction_orders

    for t_len, k in ((10, 4), (10, 1), (6, 8), (3, 2)):
        got = np.asarray(fn(t_len, k))
        want = prediction_orders(t_len, k)
        if got.shape != want.shape:
            raise AssertionError(f"For T = {t_len}, K = {k} return shape {want.shape} (rows k = 0..K, columns t), "
                                 f"got {got.shape}.")
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)[0]
            k_, t_ = int(bad[0]), int(bad[1])
            hint = ("frames 0 and 1 are copied from the ground truth at every step, so their order stays 0"
                    if t_ < 2 else "frame t at step k is predicted from frames t-2 and t-1 of step k-1, so its "
                    "order is one more than theirs, capped by how far it is from the last true frame (t - 1)")
            raise AssertionError(f"T = {t_len}, K = {k}: entry (k={k_}, t={t_}) should be {want[k_, t_]}, got "
                                 f"{got[k_, t_]}; {hint}.")
    _correct("Frame t of S(k) is a min(t - 1, k)-step-ahead prediction (the reference code's \"parallel\" rollout).")


def check_average_precision(fn: Callable, seed: int = 0) -> None:
    """Exercise 4.2: ``fn(scores [N], labels [N]) -> float`` must be the (non-interpolated) average
    precision that :func:`sklearn.metrics.average_precision_score` computes."""
    import numpy as np
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(seed)
    cases = [(np.array([0.9, 0.8, 0.7, 0.1]), np.array([1, 0, 1, 0])),
             (rng.random(500), (rng.random(500) < 0.05).astype(int)),
             (np.round(rng.random(300), 1), (rng.random(300) < 0.3).astype(int))]   # with ties
    for scores, labels in cases:
        got = fn(scores.copy(), labels.copy())
        want = average_precision_score(labels, scores)
        if not isinstance(got, (float, np.floating)) and not (hasattr(got, "item") and np.ndim(got) == 0):
            raise AssertionError(f"Return one number, got {type(got).__name__}.")
        if abs(float(got) - want) > 1e-6:
            raise AssertionError(f"Expected AP = {want:.4f}, got {float(got):.4f}. Sort by score (descending); at "
                                 "each distinct threshold the precision is weighted by the increase in recall; "
                                 "tied scores enter together.")
    _correct("Your average precision matches scikit-learn's on three cases, including ties.")


# ---- Chapters 5 and 6 ----
__all__ += ["check_temporal_similarity", "check_world_rollout", "check_mppi_weights", "check_reference_temperature"]


def check_temporal_similarity(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 5.1: ``fn(z [B, T, D]) -> scalar`` must be paper eq. 12's temporal similarity term."""
    from .regularizers import temporal_similarity

    g = torch.Generator().manual_seed(seed)
    z = torch.randn(4, 6, 5, generator=g)
    got = _as_tensor(fn(z.clone()), "fn(z)")
    want = temporal_similarity(z.transpose(0, 1))
    if got.dim() != 0:
        raise AssertionError(f"Return a scalar, got shape {tuple(got.shape)}.")
    if torch.isclose(got, want * 5, rtol=1e-4):
        raise AssertionError("You summed over the dimensions: the term is a MEAN over batch, time and dimensions.")
    if not torch.isclose(got, want, rtol=1e-4):
        raise AssertionError(f"Expected {want.item():.5f}, got {got.item():.5f}. Differences are taken along time "
                             "(dim 1): z[:, 1:] - z[:, :-1].")
    _correct("Mean squared change between consecutive latents (paper eq. 12).")


def check_world_rollout(fn: Callable, seed: int = 0) -> None:
    """Exercise 5.2: ``fn(model, z0 [N, D], actions [N, H, 2]) -> [N, H+1, D]`` must be the autoregressive rollout."""
    from .world import WorldModel

    torch.manual_seed(seed)
    model = WorldModel(stacks=(4, 4, 4), blocks=1, latent_dim=8, idm_hidden=8, probe_hidden=8, pool=2).eval()
    z0 = torch.randn(3, 8)
    actions = torch.randn(3, 5, 2)
    with torch.no_grad():
        got = _as_tensor(fn(model, z0, actions), "fn(model, z0, actions)")
        want = model.rollout(z0, actions)
    if got.shape != want.shape:
        raise AssertionError(f"Expected shape {tuple(want.shape)} (index 0 is z0 itself), got {tuple(got.shape)}.")
    if not torch.allclose(got[:, 0], z0):
        raise AssertionError("The first latent of the rollout should be z0 itself.")
    if torch.allclose(got[:, 2], model.predict(z0, actions[:, 1]), atol=1e-5):
        raise AssertionError("Each step must start from the PREVIOUS PREDICTION, not from z0.")
    if not torch.allclose(got, want, atol=1e-5):
        raise AssertionError("Mismatch: step t uses predict(previous latent, actions[:, t]).")
    _correct("Your rollout feeds the predictor its own outputs (paper eq. 9).")


def check_mppi_weights(fn: Callable[[torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 6.1: ``fn(elite_costs [Q], temperature) -> weights [Q]`` must be MPPI's normalised
    weights ``exp(-(S_i - S_min) / τ)`` (the paper's convention)."""
    g = torch.Generator().manual_seed(seed)
    costs = torch.rand(10, generator=g) * 20 + 100
    for tau in (0.1, 1.0, 10.0, 1000.0):
        got = _as_tensor(fn(costs.clone(), tau), "fn(costs, temperature)")
        want = torch.softmax(-(costs - costs.min()) / tau, 0)
        if got.shape != want.shape:
            raise AssertionError(f"Expected one weight per elite, shape {tuple(want.shape)}, got {tuple(got.shape)}.")
        if not torch.isclose(got.sum(), torch.tensor(1.0), atol=1e-4):
            raise AssertionError(f"The weights must sum to 1 (τ = {tau}); got {got.sum().item():.4f}.")
        if not torch.allclose(got, want, atol=1e-5):
            low = torch.softmax(-(costs - costs.min()) * tau, 0)
            if torch.allclose(got, low, atol=1e-5):
                raise AssertionError("You multiplied by τ (the reference code's convention); the paper, and this "
                                     "book, DIVIDE the cost gap by τ.")
            raise AssertionError(f"Mismatch at τ = {tau}: low cost must mean high weight, exp(-(S - S_min) / τ).")
    _correct("Small τ picks the best elite; large τ averages them (paper Alg. 1).")


def check_reference_temperature(value: float, multiplier: float = 0.005) -> None:
    """Exercise 6.2: the τ of this book's convention that reproduces the reference's ``exp(0.005·(S_min - S))``."""
    want = 1.0 / multiplier
    if not isinstance(value, (int, float)) or not math.isclose(float(value), want, rel_tol=1e-3):
        raise AssertionError(f"exp(-(S - S_min)/τ) = exp(-0.005·(S - S_min)) requires 1/τ = 0.005; got τ = {value!r}.")
    _correct(f"τ = {want:g}: with cost gaps of a few units the weights are almost uniform, MPPI ≈ CEM's mean.")


__all__ += ["check_mppi_update"]


def check_mppi_update(fn: Callable, seed: int = 0) -> None:
    """Exercise 6.6: ``fn(samples [N, H, A], costs [N], num_elites, temperature) -> (mean [H, A], std [H, A])``
    must be ONE refit of MPPI (paper Alg. 1) exactly as :func:`ebjepa_mini.planning.optimizers.mppi` does it.

    The reference is the package itself, not a copy of its formula: ``mppi`` runs two iterations on the
    quadratic cost ``E(a) = sum_{t, j} (a_{t,j} - target_{t,j})^2`` with a seeded generator and records the
    samples, costs and new mean of the first; the new std is read back from the second iteration's
    samples, ``a_i = μ + σ ⊙ ξ_i``, with the same generator's ``ξ_i``.
    """
    from .planning import mppi

    horizon, action_dim, n, q = 6, 2, 32, 8
    target = torch.linspace(-1.5, 1.5, horizon * action_dim).reshape(horizon, action_dim)

    def cost(a):                                       # [N, H, A] -> [N]
        return (a - target).pow(2).sum((-2, -1))

    for tau in (1.0, 10.0, 1000.0):
        history = []
        mppi(cost, horizon, action_dim, n, 2, q, noise_std=1.0, temperature=tau,
             generator=torch.Generator().manual_seed(seed), history=history)
        g = torch.Generator().manual_seed(seed)
        torch.randn(1, n, horizon, action_dim, generator=g)              # the first iteration's noise
        xi = torch.randn(1, n, horizon, action_dim, generator=g)[0]      # the second's
        samples, costs = history[0]["samples"][0], history[0]["costs"][0]
        want_mean = history[0]["mean"][0]
        k = xi.abs().argmax(0, keepdim=True)                              # the largest |ξ| per entry: exact
        want_std = ((history[1]["samples"][0] - want_mean).gather(0, k) / xi.gather(0, k))[0]
        out = fn(samples.clone(), costs.clone(), q, tau)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise AssertionError("Return a pair (new_mean, new_std).")
        mean, std = (_as_tensor(v, f"fn(...)[{i}]") for i, v in enumerate(out))
        if mean.shape != want_mean.shape or std.shape != want_std.shape:
            raise AssertionError(f"Expected mean and std of shape {tuple(want_mean.shape)} ([H, A]), got "
                                 f"{tuple(mean.shape)} and {tuple(std.shape)}. Sum over the elites (dim 0).")
        if not torch.allclose(mean, want_mean, atol=1e-4):
            idx = costs.topk(q, largest=False).indices
            e, c = samples[idx], costs[idx]
            for wrong, hint in ((torch.softmax((c - c.min()) / tau, 0), "The weights need the minus sign: LOW cost "
                                 "must get HIGH weight, w_i ∝ exp(-(E_i - E_min) / τ)."),
                                (torch.softmax(-(c - c.min()) * tau, 0), "You multiplied the cost gap by τ; this "
                                 "book (and the paper) DIVIDES it by τ."),
                                (torch.full((q,), 1.0 / q), "Uniform weights are CEM's; MPPI weights the elites "
                                 "by exp(-(E_i - E_min) / τ).")):
                if torch.allclose(mean, (wrong[:, None, None] * e).sum(0), atol=1e-4):
                    raise AssertionError(f"Mean mismatch at τ = {tau}. {hint}")
            w_all = torch.softmax(-(costs - costs.min()) / tau, 0)
            if torch.allclose(mean, (w_all[:, None, None] * samples).sum(0), atol=1e-4):
                raise AssertionError(f"Mean mismatch at τ = {tau}: you weighted ALL samples; keep only the "
                                     f"{q} cheapest (the elites, costs.topk(num_elites, largest=False)).")
            raise AssertionError(f"Mean mismatch at τ = {tau}: max abs error {(mean - want_mean).abs().max():.3g}. "
                                 "new_mean = sum_i w_i a_i over the elites.")
        if not torch.allclose(std, want_std, atol=1.01e-3, rtol=1e-4):
            raise AssertionError(f"Std mismatch at τ = {tau}: max abs error {(std - want_std).abs().max():.3g}. "
                                 "new_std = sqrt(sum_i w_i (a_i - new_mean)^2) over the elites, with the same "
                                 "weights, around the NEW mean, floored at 1e-3.")
    _correct("Your update reproduces one MPPI iteration of the package: the same mean and std (paper Alg. 1).")
