"""Planning in latent space: MPPI and CEM over batched world-model rollouts (chapter 6; paper eq. 14, Alg. 1).

Planning is inference in an energy-based model whose variable is the action sequence: given the
current observation ``x_0`` and a goal ``x_g``, find actions ``a_{0:H}`` that minimise the planning
energy (:func:`planning_energy`, paper eq. 14)::

    E(a) = Σ_{t=1..H} d(ẑ_t, z_g),   ẑ_0 = f_θ(x_0),  ẑ_{t+1} = g_φ(ẑ_t, a_t),  z_g = f_θ(x_g)

Both optimisers below are sampling-based ("zeroth-order"): they draw ``N`` action sequences from a
Gaussian, score them with ``cost_fn``, keep the ``Q`` cheapest (the elites) and refit the Gaussian.

* :func:`mppi` refits with weights ``w_i ∝ exp(-(S_i - S_min) / τ)`` over the elites (the paper's
  convention: τ DIVIDES the cost gap; τ -> 0 keeps only the best elite, τ -> ∞ averages the elites
  uniformly). The reference code multiplies by τ = 0.005 instead, which makes its weights almost
  uniform; here that corresponds to a large τ.
* :func:`cem` refits with the plain mean and standard deviation of the elites.

Both return the final mean (paper Alg. 1). The reference MPPI executes a randomly drawn elite
instead and restarts from zero at every replan (``PlanSettings.execute``, ``warm_start``); :func:`evaluate` can warm
start from the previous plan.

``cost_fn`` maps actions ``[N, H, A]`` to costs ``[N]``. For many episodes at once pass a batched
``init_mean`` of shape ``[E, H, A]``: ``cost_fn`` then maps ``[E, N, H, A]`` to ``[E, N]`` and the
result is ``[E, H, A]``.

To ask *why* a planner fails, :func:`energy_breakdown` scores given plans (e.g. the hand-made
door and wall plans of :func:`door_and_wall_plans`) with eq. 14 three ways: on true positions,
with the encoder on the true frames, and with the model's imagined rollout (chapter 6, § 6.5).
:func:`evaluate` can also plan with the true physics in place of the predictor
(:func:`oracle_cost_fn`), scored on true positions or by the model's own encoder
(:func:`encoder_energy_map`): the second is the planner with a perfect predictor.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .data import two_rooms as tr
from .presets import PlanSettings

__all__ = ["mppi", "cem", "plan", "planning_energy", "latent_distance", "latent_cost_fn", "oracle_cost_fn", "clip_norm", "PlanResult", "evaluate", "PLANNERS", "COSTS",
           "ORACLES", "EnergyMap", "map_grid", "encoder_energy_map", "waypoint_actions", "door_and_wall_plans", "energy_breakdown",
           "wall_push_test", "imagined_positions"]

PLANNERS = ("mppi", "cem")
COSTS = ("cumulative", "last")
SCORERS = ("positions", "encoder", "model")     # the three ways energy_breakdown scores a plan
ORACLES = ("positions", "encoder")              # evaluate(oracle=...): true physics scored on true positions,
                                                # or by the model's encoder (a perfect predictor)


def clip_norm(actions: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Rescale every action vector (last dim) longer than ``max_norm`` to length ``max_norm``."""
    norm = actions.norm(dim=-1, keepdim=True)
    return actions * torch.clamp(max_norm / (norm + 1e-6), max=1.0)


def _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature=None):
    for name, v in (("horizon", horizon), ("action_dim", action_dim), ("num_samples", num_samples),
                    ("num_iters", num_iters), ("num_elites", num_elites)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if num_elites > num_samples:
        raise ValueError(f"num_elites must be <= num_samples ({num_samples}), got {num_elites}")
    if not noise_std > 0:
        raise ValueError(f"noise_std must be > 0, got {noise_std!r}")
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0 (it divides the cost gap), got {temperature!r}")


def _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature,
              init_mean, generator, max_norm, history, execute="mean"):
    batched = init_mean is not None and init_mean.dim() == 3
    if init_mean is None:
        mean = torch.zeros(1, horizon, action_dim, device=generator.device if generator is not None else "cpu")
    else:
        mean = init_mean.detach().clone().float()
        mean = mean if batched else mean.unsqueeze(0)
        if mean.shape[1:] != (horizon, action_dim):
            raise ValueError(f"init_mean must be [H, A] = [{horizon}, {action_dim}] (or [E, H, A]), "
                             f"got {tuple(init_mean.shape)}")
    e = mean.shape[0]
    std = torch.full_like(mean, float(noise_std))
    for _ in range(num_iters):
        eps = torch.randn(e, num_samples, horizon, action_dim, generator=generator, device=mean.device)
        samples = mean.unsqueeze(1) + std.unsqueeze(1) * eps
        if max_norm is not None:
            samples = clip_norm(samples, max_norm)
        costs = cost_fn(samples if batched else samples[0])
        costs = costs.reshape(e, num_samples).float().to(mean.device)
        elite_cost, idx = costs.topk(num_elites, dim=1, largest=False)
        elites = samples.gather(1, idx[:, :, None, None].expand(-1, -1, horizon, action_dim))
        if temperature is None:   # CEM
            w = torch.full((e, num_elites, 1, 1), 1.0 / num_elites, device=mean.device)
            mean = elites.mean(1)
            std = elites.std(1) if num_elites > 1 else std
        else:                     # MPPI: w ∝ exp(-(S - S_min) / τ) over the elites
            w = torch.softmax(-(elite_cost - elite_cost[:, :1]) / temperature, dim=1)[:, :, None, None]
            mean = (w * elites).sum(1)
            std = ((w * (elites - mean.unsqueeze(1)) ** 2).sum(1)).sqrt().clamp_min(1e-3)
        if history is not None:
            history.append({"samples": samples, "costs": costs, "elite_idx": idx, "mean": mean.clone()})
    if execute == "elite":        # the reference: one elite of the last iteration, drawn with its weight
        pick = torch.multinomial(w[:, :, 0, 0], 1, generator=generator)[:, 0]
        mean = elites[torch.arange(e, device=mean.device), pick]
    if max_norm is not None:
        mean = clip_norm(mean, max_norm)
    return mean if batched else mean[0]


def mppi(cost_fn: Callable[[torch.Tensor], torch.Tensor], horizon: int, action_dim: int, num_samples: int,
         num_iters: int, num_elites: int, noise_std: float, temperature: float, init_mean: torch.Tensor | None = None,
         generator: torch.Generator | None = None, max_norm: float | None = None,
         history: list | None = None, execute: str = "mean") -> torch.Tensor:
    """Model Predictive Path Integral control with elites (paper Alg. 1).

    Each of ``num_iters`` iterations: sample ``a_i = μ + σ ⊙ ε_i`` (``num_samples`` of them), score
    ``S_i = cost_fn(a_i)``, keep the ``num_elites`` lowest, weight them ``w_i ∝ exp(-(S_i - S_min)/τ)``
    and set ``μ ← Σ w_i a_i``, ``σ ← sqrt(Σ w_i (a_i - μ)²)``.

    Args:
        cost_fn: actions ``[N, H, A]`` -> costs ``[N]`` (batched: ``[E, N, H, A]`` -> ``[E, N]``).
        horizon: H; action_dim: A.
        num_samples, num_iters, num_elites: N, J, Q.
        noise_std: initial σ.
        temperature: τ > 0, in cost units (divides the cost gap; see the module docstring).
        init_mean: initial μ ``[H, A]`` (or ``[E, H, A]`` for E problems at once); default zeros.
        generator: torch.Generator for reproducible sampling; samples are drawn on ``init_mean``'s
            device (default: the generator's), which must be the generator's.
        max_norm: clip every sampled step to this length (``None``: no clipping).
        history: if a list is given, one dict per iteration is appended (samples, costs, elites, mean).
        execute: ``"mean"`` returns ``μ`` (paper Alg. 1); ``"elite"`` returns one elite of the last
            iteration drawn with probability ``w_i`` (the reference code).

    Returns:
        The optimised action sequence ``μ`` (or the drawn elite): ``[H, A]`` (or ``[E, H, A]``).
    """
    _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature)
    if execute not in ("mean", "elite"):
        raise ValueError(f"execute must be 'mean' or 'elite', got {execute!r}")
    return _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, float(temperature),
                     init_mean, generator, max_norm, history, execute)


def cem(cost_fn: Callable[[torch.Tensor], torch.Tensor], horizon: int, action_dim: int, num_samples: int,
        num_iters: int, num_elites: int, noise_std: float, init_mean: torch.Tensor | None = None,
        generator: torch.Generator | None = None, max_norm: float | None = None,
        history: list | None = None) -> torch.Tensor:
    """Cross-Entropy Method: like :func:`mppi` but the elites are refitted with their plain mean and
    (unbiased) standard deviation. Same arguments as :func:`mppi` except ``temperature``."""
    _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std)
    return _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, None,
                     init_mean, generator, max_norm, history)


def plan(cost_fn: Callable[[torch.Tensor], torch.Tensor], settings: PlanSettings, planner: str = "mppi",
         horizon: int | None = None, init_mean: torch.Tensor | None = None, generator: torch.Generator | None = None,
         history: list | None = None) -> torch.Tensor:
    """One plan with the sizes of a (validated) :class:`~ebjepa_mini.presets.PlanSettings`: :func:`mppi`
    (its τ, step cap and executed action) or :func:`cem`, over ``horizon`` steps (default ``settings.horizon``).
    The one place where settings become optimiser arguments (:func:`evaluate`, the Planner Lab)."""
    if planner not in PLANNERS:
        raise ValueError(f"planner must be one of {PLANNERS}, got {planner!r}")
    s = settings
    args = dict(horizon=s.horizon if horizon is None else horizon, action_dim=2, num_samples=s.num_samples,
                num_iters=s.num_iters, num_elites=s.num_elites, noise_std=s.noise_std, init_mean=init_mean,
                generator=generator, max_norm=s.max_norm, history=history)
    if planner == "mppi":
        return mppi(cost_fn, temperature=s.temperature, execute=s.execute, **args)
    return cem(cost_fn, **args)


def planning_energy(z_traj: torch.Tensor, z_goal: torch.Tensor, cost: str = "cumulative") -> torch.Tensor:
    """Planning energy (paper eq. 14) with the reference's distance: mean over dimensions of the squared
    difference to the goal latent, summed over the predicted states ``t = 1..H`` (``"cumulative"``) or
    taken at ``t = H`` only (``"last"``).

    Args:
        z_traj: rollouts ``[..., H+1, D]`` (index 0 is the current latent, left out: a constant).
        z_goal: ``[..., D]`` broadcastable against ``z_traj[..., 0, :]``.

    Returns:
        ``[...]`` costs.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    return _total(latent_distance(z_traj[..., 1:, :], z_goal.unsqueeze(-2)), cost)


def latent_distance(z: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
    """The per-step term of eq. 14 as the reference computes it: mean over the latent dimensions of
    the squared difference to the goal latent (``[..., D]`` -> ``[...]``)."""
    return (z - z_goal).pow(2).mean(-1)


def _total(d: torch.Tensor, cost: str) -> torch.Tensor:
    """Eq. 14 from per-step distances ``[..., H]``: their sum (cumulative) or the last one."""
    return d.sum(-1) if cost == "cumulative" else d[..., -1]


def latent_cost_fn(model, z0: torch.Tensor, z_goal: torch.Tensor, cost: str = "cumulative",
                   device="cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``cost_fn`` that :func:`mppi` / :func:`cem` minimise: roll the world model out from ``z0``
    under the sampled actions and score the imagined latents with eq. 14, step by step
    (:func:`latent_distance` per step; the same numbers as :func:`planning_energy` on the stacked rollout).

    Args:
        model: a world model with ``predict(z [M, D], a [M, A]) -> [M, D]`` (one step of its rollout).
        z0, z_goal: current and goal latents, ``[E, D]`` for E problems (or ``[D]`` / ``[1, D]`` for one).

    Returns:
        ``cost_fn``: actions ``[N, H, A]`` -> ``[N]`` for one problem, ``[E, N, H, A]`` -> ``[E, N]`` for E.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    z0 = z0.reshape(-1, z0.shape[-1]).to(device)
    z_goal = z_goal.reshape(-1, z_goal.shape[-1]).to(device)

    def cost_fn(actions: torch.Tensor) -> torch.Tensor:
        batched = actions.dim() == 4
        a = actions if batched else actions.unsqueeze(0)
        e, n, h, _ = a.shape
        if e != len(z0):
            raise ValueError(f"actions are for {e} problems but z0 holds {len(z0)}")
        a = a.to(device).reshape(e * n, h, -1)
        z, goal = z0.repeat_interleave(n, 0), z_goal.repeat_interleave(n, 0)
        # the rollout of model.rollout, scored step by step: the same numbers as planning_energy on the
        # stacked trajectory, without holding [E·N, H+1, D] latents in memory (about twice as fast)
        d = []
        for t in range(h):
            z = model.predict(z, a[:, t])
            d.append(latent_distance(z, goal))
        costs = _total(torch.stack(d, -1), cost).reshape(e, n)
        return costs if batched else costs[0]

    return cost_fn


@dataclass
class EnergyMap:
    """A world model's ENCODER energy on a grid of dot positions, one map per task: the term of eq. 14,
    ``d(f_θ(x(p)), z_g)``, for the dot drawn at ``p`` in the task's own layout (see
    :func:`encoder_energy_map`). Calling it on positions ``[E, ..., 2]`` interpolates bilinearly."""

    values: np.ndarray          # [E, G, G]: rows are y, columns x, at lo, lo + step, ...
    step: float
    lo: float = tr.BORDER[0]

    def __call__(self, pos: np.ndarray) -> np.ndarray:
        pos = np.asarray(pos, dtype=np.float64)
        if pos.shape[0] != len(self.values) or pos.shape[-1] != 2:
            raise ValueError(f"pos must be [E, ..., 2] with E = {len(self.values)} maps, got {pos.shape}")
        g = self.values.shape[-1]
        f = np.clip((pos - self.lo) / self.step, 0, g - 1)      # beyond the last grid point: its value
        i = np.minimum(np.floor(f).astype(np.int64), g - 2)
        w = f - i
        ix, iy, wx, wy = i[..., 0], i[..., 1], w[..., 0], w[..., 1]
        e = np.arange(len(self.values)).reshape((-1,) + (1,) * (pos.ndim - 2))
        v = self.values
        return ((1 - wx) * (1 - wy) * v[e, iy, ix] + wx * (1 - wy) * v[e, iy, ix + 1]
                + (1 - wx) * wy * v[e, iy + 1, ix] + wx * wy * v[e, iy + 1, ix + 1])


def map_grid(step: float) -> np.ndarray:
    """The dot positions of an energy map: ``[G, G, 2]`` pixel ``(x, y)`` from border to border,
    ``step`` px apart (row ``i`` is ``y = 4 + i·step``, column ``j`` is ``x = 4 + j·step``)."""
    if not step > 0:
        raise ValueError(f"step must be > 0 (px), got {step!r}")
    xs = np.arange(tr.BORDER[0], tr.BORDER[1] + 1e-9, step)
    return np.stack(np.meshgrid(xs, xs, indexing="xy"), -1)


@torch.no_grad()
def encoder_energy_map(model, tasks: dict, step: float = 2.0, device="cpu", batch: int = 1024) -> EnergyMap:
    """Draw the dot at every point of a grid (``step`` px apart, border to border) in each task's
    layout, encode every frame and measure its :func:`latent_distance` to the task's goal latent.

    This is the landscape the planner would descend if the predictor were perfect: eq. 14 of a true
    path is the sum of the map along it. 2-px steps give the same planning results as 1-px steps
    (94% vs 93% on the cpu model's 100 tasks) at a quarter of the frames (841 per task).
    """
    grid = map_grid(step)
    g = grid.shape[0]
    grid = grid.reshape(-1, 2)                                                   # [G·G, (x, y)], row-major in y
    model.eval()
    goal = np.asarray(tasks["goal"], dtype=np.float64).reshape(-1, 2)
    wx, dy = np.broadcast_to(tasks["wall_x"], len(goal)), np.broadcast_to(tasks["door_y"], len(goal))
    values = np.empty((len(goal), g, g))
    for e in range(len(goal)):
        z_goal = model.encode(tr.normalize_obs(tr.render(goal[e:e + 1], wx[e], dy[e], device)))
        d = [latent_distance(model.encode(tr.normalize_obs(tr.render(grid[i:i + batch], wx[e], dy[e], device))), z_goal)
             for i in range(0, len(grid), batch)]
        values[e] = torch.cat(d).cpu().double().numpy().reshape(g, g)
    return EnergyMap(values, float(step))


def oracle_cost_fn(pos, goal, wall_x, door_y, cost: str = "cumulative",
                   energy_map: EnergyMap | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A yardstick, not a JEPA: the ``cost_fn`` of a planner whose "world model" is the true physics.

    * ``energy_map=None``: the true positions (normalised) stand in for the latents,
      scored with the same :func:`planning_energy` as the latent planner. It shows what the search
      can do with a straight-line distance.
    * ``energy_map`` from :func:`encoder_energy_map`: the world model's own encoder scores the true
      positions. This is the planner with a *perfect predictor*: the gap between it and the
      latent planner at the same settings is the predictor's alone.

    Args:
        pos, goal: ``[E, 2]`` current and goal positions (pixels); wall_x, door_y: ``[E]`` layouts.
        energy_map: per-task encoder energies (the goal is then the map's, ``goal`` is unused).

    Returns:
        ``cost_fn``: actions ``[E, N, H, 2]`` -> ``[E, N]`` (or ``[N, H, 2]`` -> ``[N]`` when E = 1).
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    pos = np.asarray(pos, dtype=np.float64).reshape(-1, 2)
    goal_n = tr.normalize_pos(np.asarray(goal, dtype=np.float64).reshape(-1, 2))
    wall_x, door_y = np.broadcast_to(wall_x, len(pos)), np.broadcast_to(door_y, len(pos))
    if energy_map is not None and len(energy_map.values) != len(pos):
        raise ValueError(f"energy_map holds {len(energy_map.values)} tasks but pos holds {len(pos)}")

    def cost_fn(actions: torch.Tensor) -> torch.Tensor:
        batched = actions.dim() == 4
        a = (actions if batched else actions.unsqueeze(0)).double().cpu().numpy()
        e, n, h, _ = a.shape
        path = tr.simulate(np.repeat(pos, n, 0), a.reshape(e * n, h, 2), np.repeat(wall_x, n), np.repeat(door_y, n))
        path = path.reshape(e, n, h + 1, 2)
        if energy_map is None:
            costs = planning_energy(tr.normalize_pos(path), goal_n.unsqueeze(1), cost)
        else:
            costs = _total(torch.from_numpy(energy_map(path[:, :, 1:])), cost)
        return costs if batched else costs[0]

    return cost_fn


def waypoint_actions(start, waypoints, speed: float, horizon: int) -> torch.Tensor:
    """Hand-made plans: walk from ``start`` ``[E, 2]`` through ``waypoints`` ``[E, W, 2]`` in straight
    lines at ``speed`` px per step (the last step to each waypoint may be shorter), then stand still.

    Returns:
        actions ``[E, horizon, 2]`` (float32).
    """
    start = np.asarray(start, dtype=np.float64).reshape(-1, 2)
    waypoints = np.asarray(waypoints, dtype=np.float64).reshape(len(start), -1, 2)
    if not speed > 0:
        raise ValueError(f"speed must be > 0 (px per step), got {speed!r}")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1, got {horizon!r}")
    out = np.zeros((len(start), horizon, 2))
    for e in range(len(start)):
        pos, t = start[e].copy(), 0
        for w in waypoints[e]:
            while t < horizon and np.linalg.norm(w - pos) > 1e-9:
                d = w - pos
                step = d if np.linalg.norm(d) <= speed else d / np.linalg.norm(d) * speed
                out[e, t], pos, t = step, pos + step, t + 1
    return torch.from_numpy(out).float()


def door_and_wall_plans(tasks: dict, speed: float, horizon: int, margin: float = 3.0) -> dict[str, torch.Tensor]:
    """Two hand-made plans per task (``[E, horizon, 2]`` each), to ask which one an energy prefers:

    * ``"door"``: to the door on the start's side, through it, then straight to the goal;
    * ``"wall"``: straight to the start-side face of the wall at the goal's height, and stay there
      (the best a plan can do without the door).

    ``margin``: distance (px) from the wall's centre line of the points before and after the door.
    """
    start = np.asarray(tasks["start"], dtype=np.float64)
    goal = np.asarray(tasks["goal"], dtype=np.float64)
    wx, dy = np.asarray(tasks["wall_x"], dtype=np.float64), np.asarray(tasks["door_y"], dtype=np.float64)
    side = np.where(start[:, 0] < wx, -1.0, 1.0)                 # the start's side of the wall
    before = np.stack([wx + side * margin, dy], 1)
    after = np.stack([wx - side * margin, dy], 1)
    face = np.stack([wx + side * margin, np.clip(goal[:, 1], tr.BORDER[0] + 2, tr.BORDER[1] - 2)], 1)
    return {"door": waypoint_actions(start, np.stack([before, after, goal], 1), speed, horizon),
            "wall": waypoint_actions(start, face[:, None], speed, horizon)}


@torch.no_grad()
def energy_breakdown(model, tasks: dict, actions: torch.Tensor, cost: str = "cumulative",
                     device="cpu", scorers=SCORERS) -> dict[str, np.ndarray]:
    """Eq. 14 of given plans (``[E, H, 2]``, one per task), scored three ways:

    * ``"positions"``: the true physics, true normalised positions as latents (the oracle's energy,
      :func:`oracle_cost_fn`);
    * ``"encoder"``: the true physics, the world model's ENCODER applied to the true frames (what the
      planner would see with a perfect predictor);
    * ``"model"``: the world model's imagined rollout (:func:`latent_cost_fn`, what the planner sees).

    Where the three disagree on which of two plans is cheaper, the disagreement locates the fault:
    in the distance itself, in the encoder's geometry, or in the predictor. ``scorers`` picks a
    subset (the encoder's score encodes every frame of every plan: the slow one).

    Returns:
        ``{scorer: energies [E]}`` for each of ``scorers``.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    if not scorers or any(k not in SCORERS for k in scorers):
        raise ValueError(f"scorers must be a non-empty subset of {SCORERS}, got {scorers!r}")
    start = np.asarray(tasks["start"], dtype=np.float64)
    goal = np.asarray(tasks["goal"], dtype=np.float64)
    wx, dy = tasks["wall_x"], tasks["door_y"]
    if actions.dim() != 3 or len(actions) != len(start):
        raise ValueError(f"actions must be [E, H, 2] with E = {len(start)} tasks, got {tuple(actions.shape)}")
    a = actions.float()
    out = {}
    if "positions" in scorers:
        out["positions"] = oracle_cost_fn(start, goal, wx, dy, cost)(a.unsqueeze(1))[:, 0].numpy()
    if "encoder" not in scorers and "model" not in scorers:
        return out                                  # the true physics alone: no model involved
    model.eval()
    enc = lambda p: model.encode(tr.normalize_obs(tr.render(p, wx, dy)).to(device))
    z0, z_goal = enc(start), enc(goal)
    if "encoder" in scorers:
        path = tr.simulate(start, a.double().numpy(), wx, dy)                      # [E, H+1, 2]
        z = torch.stack([enc(path[:, t]) for t in range(1, path.shape[1])], 1)
        out["encoder"] = _total(latent_distance(z, z_goal.unsqueeze(1)), cost).cpu().numpy()
    if "model" in scorers:
        out["model"] = latent_cost_fn(model, z0, z_goal, cost, device)(a.unsqueeze(1))[:, 0].cpu().numpy()
    return out


@torch.no_grad()
def wall_push_test(model, n: int = 600, pushes: int = 6, step: float = 1.8, seed: int = 0,
                   fixed_wall: bool = False) -> dict[str, float]:
    """Does the model imagine the wall and the door? Put the dot 0.3–2 px from the inner wall and push
    it ``pushes`` times by ``step`` px straight across, ``n`` times against a solid part of the wall and
    ``n`` times through the door (dot level with the door's middle, ±2 px). Each imagined final latent
    is compared with the encodings of two frames: the dot where it would be had the wall not been
    there ("through"), and the dot stopped at the wall face ("stopped"). Judged in latent space, not
    with the position probe (the probe is fitted on encodings of real frames and says little about
    imagined ones).

    Returns:
        ``{"wall_stop": share of wall pushes imagined nearer the stopped frame,
        "door_pass": share of door pushes imagined nearer the through frame}``. A model that knows the
        room scores high on both; one that walks through walls fails the first, one that does not move
        the dot in imagination (or refuses the door) the second. ``fixed_wall``: every push in
        :data:`~ebjepa_mini.data.two_rooms.FIXED_LAYOUT` (for a model trained there).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    wall_x, door_y = tr.sample_layouts(2 * n, rng, fixed_wall)
    side = np.where(rng.random(2 * n) < 0.5, -1.0, 1.0)                  # -1: dot left of the wall
    gap = tr.WALL_HALF + rng.uniform(0.3, 2.0, 2 * n)
    # first n: a y where the wall is solid (above or below the door, 2 px from its edge and the border)
    lo_above, hi_above = tr.BORDER[0] + 2.0, door_y - tr.DOOR_HALF - 2.0
    lo_below, hi_below = door_y + tr.DOOR_HALF + 2.0, tr.BORDER[1] - 2.0
    above = (rng.random(2 * n) < 0.5) & (hi_above > lo_above) | (hi_below <= lo_below)
    y_wall = np.where(above, rng.uniform(lo_above, np.maximum(hi_above, lo_above)),
                      rng.uniform(lo_below, np.maximum(hi_below, lo_below)))
    y_door = door_y + rng.uniform(-2.0, 2.0, 2 * n)
    y = np.where(np.arange(2 * n) < n, y_wall, y_door)
    start = np.stack([wall_x - side * gap, y], 1)
    actions = np.zeros((2 * n, pushes, 2))
    actions[:, :, 0] = side[:, None] * step
    through = start + actions.sum(1)
    stopped = start.copy()
    stopped[:, 0] = wall_x - side * (tr.WALL_HALF + tr.CONTACT_GAP)
    model.eval()
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    enc = lambda p: model.encode(tr.normalize_obs(tr.render(p, wall_x, door_y, dev)))
    z_hat = model.rollout(enc(start), torch.as_tensor(actions, dtype=torch.float32, device=dev))[:, -1]
    nearer_stop = (latent_distance(z_hat, enc(stopped)) < latent_distance(z_hat, enc(through))).cpu().numpy()
    return {"wall_stop": float(nearer_stop[:n].mean()), "door_pass": float(1 - nearer_stop[n:].mean())}


@torch.no_grad()
def imagined_positions(model, tasks: dict, actions, step: float = 1.0, device="cpu") -> np.ndarray:
    """Where does the model imagine the dot? Roll the model out from each task's start under
    ``actions`` and decode every imagined latent by its NEAREST ENCODING: the dot position, on a grid
    ``step`` px apart in the task's layout, whose frame the encoder maps closest (Euclidean) to it.
    Unlike the position probe, which was fitted on encodings of real frames only, this decoding
    asks the encoder itself, so a latent that drifts off the encoder's manifold shows up as a wrong
    position rather than a plausible-looking one.

    Args:
        tasks: ``start [E, 2]``, ``wall_x [E]``, ``door_y [E]``; actions: ``[E, H, 2]``.

    Returns:
        imagined positions ``[E, H+1, 2]`` (pixels; index 0 decodes the start's own encoding).
    """
    a = torch.as_tensor(np.asarray(actions), dtype=torch.float32, device=device)
    start = np.asarray(tasks["start"], dtype=np.float64).reshape(-1, 2)
    if a.dim() != 3 or a.shape[0] != len(start) or a.shape[2] != 2:
        raise ValueError(f"actions must be [E, H, 2] with E = {len(start)} tasks, got {tuple(a.shape)}")
    wx, dy = np.broadcast_to(tasks["wall_x"], len(start)), np.broadcast_to(tasks["door_y"], len(start))
    model.eval()
    grid = map_grid(step).reshape(-1, 2)
    z0 = model.encode(tr.normalize_obs(tr.render(start, wx, dy, device)))
    z_hat = model.rollout(z0, a)
    out = np.empty((len(start), a.shape[1] + 1, 2))
    encoded = {}                                     # one grid of encodings per layout (one in all for a fixed wall)
    for e in range(len(start)):
        layout = (int(wx[e]), int(dy[e]))
        if layout not in encoded:
            encoded[layout] = torch.cat([model.encode(tr.normalize_obs(tr.render(grid[i:i + 1024], *layout, device)))
                                         for i in range(0, len(grid), 1024)])
        out[e] = grid[torch.cdist(z_hat[e], encoded[layout]).argmin(1).cpu().numpy()]
    return out


@dataclass
class PlanResult:
    """Outcome of :func:`evaluate` over a set of episodes."""

    planner: str
    cost: str
    success: np.ndarray              # [E] bool, final distance < 4.5 px
    final_distance: np.ndarray       # [E] pixels
    paths: np.ndarray                # [E, M+1, 2] executed positions
    tasks: dict
    plan_s: float
    plans: list = field(default_factory=list)   # optional: per replan, the planned actions [E, H, 2]

    @property
    def success_rate(self) -> float:
        return float(self.success.mean())

    @property
    def mean_final_distance(self) -> float:
        return float(self.final_distance.mean())

    @property
    def stuck_in_start_room(self) -> np.ndarray:
        """``[E]`` bool: the episode failed and ended on the start's side of the wall (door never used)."""
        wx = self.tasks["wall_x"]
        same = tr.same_room(self.paths[:, -1], wx) == tr.same_room(self.tasks["start"], wx)
        return ~self.success & same

    def summary(self) -> dict:
        return {"planner": self.planner, "cost": self.cost, "episodes": int(len(self.success)),
                "success_rate": round(self.success_rate, 4), "mean_final_distance": round(self.mean_final_distance, 3),
                "failures_in_start_room": int(self.stuck_in_start_room.sum()), "plan_wall_s": round(self.plan_s, 1)}


@torch.no_grad()
def evaluate(model, tasks: dict | int, settings: PlanSettings, planner: str = "mppi", cost: str = "cumulative",
             seed: int = 0, record_plans: bool = False, device="cpu", progress: bool | None = None,
             oracle: str | None = None) -> PlanResult:
    """Plan and act in many Two Rooms episodes at once (batched over episodes; the protocol of paper § 5.3).

    Every ``settings.replan_every`` steps: encode the current frames, optimise ``[E, H, 2]`` action
    sequences with the chosen planner against the goal latents (the goal frame is the same layout
    with the dot at the goal), execute the first ``replan_every`` actions with the true physics.
    Success is judged after the last of ``settings.max_steps`` steps (distance < 4.5 px).

    Args:
        model: a :class:`~ebjepa_mini.world.WorldModel` (``encode``, ``rollout``).
        tasks: a dict from :func:`~ebjepa_mini.data.two_rooms.sample_tasks`, or a number of episodes
            (tasks drawn with ``seed``).
        settings: planner sizes (:class:`~ebjepa_mini.presets.PlanSettings`).
        planner: ``"mppi"`` or ``"cem"``; cost: ``"cumulative"`` or ``"last"``.
        record_plans: keep every plan (for pictures).
        oracle: plan with the true physics instead of the model's predictor (:func:`oracle_cost_fn`):
            ``"positions"`` scores true positions (``model`` may be ``None``): the search's ceiling
            with a straight-line energy; ``"encoder"`` scores them with the model's encoder
            (:func:`encoder_energy_map`): the planner with a perfect predictor.
    """
    if planner not in PLANNERS:
        raise ValueError(f"planner must be one of {PLANNERS}, got {planner!r}")
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    if oracle is not None and oracle not in ORACLES:
        raise ValueError(f"oracle must be None or one of {ORACLES}, got {oracle!r}")
    if model is None and oracle != "positions":
        raise ValueError(f"a model is needed unless oracle='positions', got oracle={oracle!r}")
    if isinstance(tasks, (int, np.integer)):
        tasks = tr.sample_tasks(int(tasks), seed=seed)
    s = settings
    energy_map = encoder_energy_map(model, tasks, device=device) if oracle == "encoder" else None
    device = torch.device("cpu" if oracle else device)     # the oracles simulate in NumPy
    if not oracle:
        model.eval()
    e = len(tasks["start"])
    wx, dy = tasks["wall_x"], tasks["door_y"]
    pos = np.asarray(tasks["start"], dtype=np.float64).copy()
    goal = np.asarray(tasks["goal"], dtype=np.float64)
    z_goal = None if oracle else model.encode(tr.normalize_obs(tr.render(goal, wx, dy)).to(device))
    gen = torch.Generator(device=device).manual_seed(seed)    # samples are drawn where they are scored
    paths = [pos.copy()]
    plans = []
    mean = None
    t0 = time.perf_counter()
    steps_done = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=s.max_steps, desc=f"planning ({planner})", leave=False)
    while steps_done < s.max_steps:
        h = min(s.horizon, s.max_steps - steps_done)
        if oracle:
            cost_fn = oracle_cost_fn(pos, goal, wx, dy, cost, energy_map)
        else:
            z0 = model.encode(tr.normalize_obs(tr.render(pos, wx, dy)).to(device))
            cost_fn = latent_cost_fn(model, z0, z_goal, cost, device)     # [E, N, H, 2] -> [E, N]
        init = torch.zeros(e, h, 2, device=device)
        if s.warm_start and mean is not None:       # the previous plan, shifted by the executed steps
            keep = min(mean.shape[1] - s.replan_every, h)
            if keep > 0:
                init[:, :keep] = mean[:, s.replan_every:s.replan_every + keep]
        mean = plan(cost_fn, s, planner, horizon=h, init_mean=init, generator=gen)
        if record_plans:
            plans.append(mean.cpu().numpy().copy())
        for k in range(min(s.replan_every, h)):
            pos = tr.move(pos, mean[:, k].cpu().numpy().astype(np.float64), wx, dy)
            paths.append(pos.copy())
            steps_done += 1
        if bar is not None:
            bar.update(min(s.replan_every, h))
    if bar is not None:
        bar.close()
    final = np.linalg.norm(pos - goal, axis=1)
    return PlanResult(planner, cost, final < tr.SUCCESS_RADIUS, final, np.stack(paths, 1), tasks,
                      time.perf_counter() - t0, plans)
