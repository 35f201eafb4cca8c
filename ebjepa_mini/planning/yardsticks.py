"""Yardsticks: what a planner would do with the true physics, and tests of what a world model imagines
(chapters 5 and 6): energy maps of the encoder, true-physics cost functions (a perfect predictor),
hand-made plans and their energies, the wall/door push test and nearest-encoding decoding."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..data import two_rooms as tr
from ..data.two_rooms_walks import TrajectoryConfig, generate_trajectories
from .optimizers import COSTS, _total, latent_cost_fn, latent_distance, planning_energy

__all__ = ["SCORERS", "ORACLES", "EnergyMap", "map_grid", "encoder_energy_map", "oracle_cost_fn", "waypoint_actions",
           "door_and_wall_plans", "energy_breakdown", "wall_push_test", "imagined_positions", "rollout_drift", "world_diagnostics"]

SCORERS = ("positions", "encoder", "model")     # the three ways energy_breakdown scores a plan
ORACLES = ("positions", "encoder")              # evaluate(oracle=...): true physics scored on true positions,
                                                # or by the model's encoder (a perfect predictor)


@dataclass
class EnergyMap:
    """A world model's ENCODER energy on a grid of dot positions, one map per task: the term of eq. 14,
    ``d(f_θ(x(p)), z_g)``, for the dot drawn at ``p`` in the task's own layout (see
    :func:`~ebjepa_mini.planning.yardsticks.encoder_energy_map`). Calling it on positions ``[E, ..., 2]`` interpolates bilinearly."""

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
    layout, encode every frame and measure its :func:`~ebjepa_mini.planning.optimizers.latent_distance` to the task's goal latent.

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
        z_goal = model.encode(tr.observe(goal[e:e + 1], wx[e], dy[e], device))
        d = [latent_distance(model.encode(tr.observe(grid[i:i + batch], wx[e], dy[e], device)), z_goal)
             for i in range(0, len(grid), batch)]
        values[e] = torch.cat(d).cpu().double().numpy().reshape(g, g)
    return EnergyMap(values, float(step))


def oracle_cost_fn(pos, goal, wall_x, door_y, cost: str = "cumulative",
                   energy_map: EnergyMap | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A yardstick, not a JEPA: the ``cost_fn`` of a planner whose "world model" is the true physics.

    * ``energy_map=None``: the true positions (normalised) stand in for the latents,
      scored with the same :func:`~ebjepa_mini.planning.optimizers.planning_energy` as the latent planner. It shows what the search
      can do with a straight-line distance.
    * ``energy_map`` from :func:`~ebjepa_mini.planning.yardsticks.encoder_energy_map`: the world model's own encoder scores the true
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
      :func:`~ebjepa_mini.planning.yardsticks.oracle_cost_fn`);
    * ``"encoder"``: the true physics, the world model's ENCODER applied to the true frames (what the
      planner would see with a perfect predictor);
    * ``"model"``: the world model's imagined rollout (:func:`~ebjepa_mini.planning.optimizers.latent_cost_fn`, what the planner sees).

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
    enc = lambda p: model.encode(tr.observe(p, wx, dy).to(device))
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
        ``two_rooms.FIXED_LAYOUT`` (for a model trained there).
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
    enc = lambda p: model.encode(tr.observe(p, wall_x, door_y, dev))
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
    z0 = model.encode(tr.observe(start, wx, dy, device))
    z_hat = model.rollout(z0, a)
    out = np.empty((len(start), a.shape[1] + 1, 2))
    encoded = {}                                     # one grid of encodings per layout (one in all for a fixed wall)
    for e in range(len(start)):
        layout = (int(wx[e]), int(dy[e]))
        if layout not in encoded:
            encoded[layout] = torch.cat([model.encode(tr.observe(grid[i:i + 1024], *layout, device))
                                         for i in range(0, len(grid), 1024)])
        out[e] = grid[torch.cdist(z_hat[e], encoded[layout]).argmin(1).cpu().numpy()]
    return out


def rollout_drift(model, n: int = 100, length: int = 91, fixed_wall: bool = False, seed: int = 123,
                  device="cpu") -> np.ndarray:
    """How far a world model's imagination drifts: roll it out from the first frame of ``n`` random
    walks generated like the training data (``length`` frames, seed ``seed``, held out from training)
    under their true actions, decode every imagined latent by its nearest encoding
    (:func:`imagined_positions`) and measure the distance to the true position.

    Returns:
        ``[length]`` median error in pixels after 0, 1, ..., ``length - 1`` predictor calls.
    """
    walks = generate_trajectories(TrajectoryConfig(n_traj=n, length=length, fixed_wall=fixed_wall, seed=seed))
    start = {"start": walks["pos"][:, 0], "wall_x": walks["wall_x"], "door_y": walks["door_y"]}
    imagined = imagined_positions(model, start, walks["actions"], device=device)
    return np.median(np.linalg.norm(imagined - walks["pos"], axis=-1), 0)


def world_diagnostics(model, tasks: dict, plan, device="cpu", fixed_wall: bool = False) -> dict:
    """Why a world model plans as it does, in eight numbers (chapter 5 § 5.6, chapter 6 § 6.5):

    * ``kept_dot``, ``kept_wall``, ``kept_door``: share of the dot position (mean of x and y), the
      wall's x and the door's y that a linear read-out recovers from the latent
      (:func:`~ebjepa_mini.world.layout_probe`; 1 perfect, 0 no better than a constant guess;
      the layout ones are ``None`` for a model trained in one fixed layout);
    * ``wall_stop``, ``door_pass``: share of pushes into the solid wall that the model imagines
      stopping, and of pushes through the door that it imagines passing
      (:func:`~ebjepa_mini.planning.yardsticks.wall_push_test`, judged in latent space);
    * ``door_wins_true``, ``door_wins_enc``, ``door_wins_model``: share of the evaluation tasks on
      which the hand-made door plan has a lower eq. 14 energy than the wall plan
      (:func:`~ebjepa_mini.planning.yardsticks.energy_breakdown`), scored on true positions, with the encoder
      on the true frames, and with the model's imagined rollout;
    * ``drift_px_8``, ``drift_px_32``, ``drift_px_end``: how far (median, pixels) the imagined dot is
      from the true one after 8, 32 and 90 predictor calls along random walks like the training data's
      (:func:`~ebjepa_mini.planning.yardsticks.rollout_drift`).
    """
    from ..world import layout_probe

    kept = layout_probe(model).kept
    push = wall_push_test(model, fixed_wall=fixed_wall)
    plans = door_and_wall_plans(tasks, speed=plan.max_norm or _hand_plan_speed(), horizon=plan.horizon)
    e = {name: energy_breakdown(model, tasks, a, device=device) for name, a in plans.items()}
    wins = {k: float(np.mean(e["door"][k] < e["wall"][k])) for k in ("positions", "encoder", "model")}
    err = rollout_drift(model, fixed_wall=fixed_wall, device=device)
    drift = {f"drift_px_{name}": round(float(err[t]), 2) for name, t in (("8", 8), ("32", 32), ("end", len(err) - 1))}
    layout = (None, None) if fixed_wall else (round(float(kept[2]), 3), round(float(kept[3]), 3))
    return {"kept_dot": round(float(kept[:2].mean()), 3), "kept_wall": layout[0], "kept_door": layout[1],
            "wall_stop": round(push["wall_stop"], 3), "door_pass": round(push["door_pass"], 3),
            "door_wins_true": round(wins["positions"], 3), "door_wins_enc": round(wins["encoder"], 3),
            "door_wins_model": round(wins["model"], 3), **drift}




def _hand_plan_speed() -> float:
    """The speed of the hand-made plans when the planner does not clip its steps: the action box's diagonal."""
    return tr.MAX_ACTION * 2 ** 0.5
