"""Planning episodes: plan and act in many Two Rooms tasks at once (chapter 6), and their outcome."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data import two_rooms as tr
from ..presets import PlanSettings
from .optimizers import plan, plan_step
from .yardsticks import ORACLES, encoder_energy_map, oracle_cost_fn

__all__ = ["PlanResult", "evaluate"]


@dataclass
class PlanResult:
    """Outcome of :func:`~ebjepa_mini.planning.episodes.evaluate` over a set of episodes."""

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
        same = tr.wall_side(self.paths[:, -1], wx) == tr.wall_side(self.tasks["start"], wx)
        return ~self.success & same

    def summary(self) -> dict:
        return {"planner": self.planner, "cost": self.cost, "episodes": int(len(self.success)),
                "success_rate": round(self.success_rate, 4), "mean_final_distance": round(self.mean_final_distance, 3),
                "failures_in_start_room": int(self.stuck_in_start_room.sum()), "plan_wall_s": round(self.plan_s, 1)}


@torch.no_grad()
def evaluate(model, tasks: dict | int, settings: PlanSettings, seed: int = 0, record_plans: bool = False,
             device="cpu", progress: bool | None = None, oracle: str | None = None) -> PlanResult:
    """Plan and act in many Two Rooms episodes at once (batched over episodes; the protocol of paper § 5.3).

    Every ``settings.replan_every`` steps: encode the current frames, optimise ``[E, H, 2]`` action
    sequences with ``settings.planner`` and energy ``settings.cost``
    (:func:`~ebjepa_mini.planning.optimizers.plan_step`) against the goal latents (the goal frame is the same layout
    with the dot at the goal), execute the first ``replan_every`` actions with the true physics.
    Success is judged after the last of ``settings.max_steps`` steps (distance < 4.5 px).

    Args:
        model: a :class:`~ebjepa_mini.world.WorldModel` (``encode``, ``rollout``).
        tasks: a dict from :func:`~ebjepa_mini.data.two_rooms.sample_tasks`, or a number of episodes
            (tasks drawn with ``seed``).
        settings: the planning request (:class:`~ebjepa_mini.presets.PlanSettings`: planner, cost, sizes; validated
            when it was made).
        record_plans: keep every plan (for pictures).
        oracle: plan with the true physics instead of the model's predictor (:func:`~ebjepa_mini.planning.yardsticks.oracle_cost_fn`):
            ``"positions"`` scores true positions (``model`` may be ``None``): the search's ceiling
            with a straight-line energy; ``"encoder"`` scores them with the model's encoder
            (:func:`~ebjepa_mini.planning.yardsticks.encoder_energy_map`): the planner with a perfect predictor.
    """
    if not isinstance(settings, PlanSettings):
        raise TypeError(f"settings must be a PlanSettings, got {type(settings).__name__}")
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
    z_goal = None if oracle else model.encode(tr.observe(goal, wx, dy).to(device))
    gen = torch.Generator(device=device).manual_seed(seed)    # samples are drawn where they are scored
    paths = [pos.copy()]
    plans = []
    mean = None
    t0 = time.perf_counter()
    steps_done = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=s.max_steps, desc=f"planning ({s.planner})", leave=False)
    while steps_done < s.max_steps:
        h = min(s.horizon, s.max_steps - steps_done)
        init = torch.zeros(e, h, 2, device=device)
        if s.warm_start and mean is not None:       # the previous plan, shifted by the executed steps
            keep = min(mean.shape[1] - s.replan_every, h)
            if keep > 0:
                init[:, :keep] = mean[:, s.replan_every:s.replan_every + keep]
        if oracle:
            mean = plan(oracle_cost_fn(pos, goal, wx, dy, s.cost, energy_map), s, horizon=h, init_mean=init, generator=gen)
        else:
            mean = plan_step(model, model.encode(tr.observe(pos, wx, dy).to(device)), z_goal, s, horizon=h,
                             init_mean=init, generator=gen, device=device)
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
    return PlanResult(s.planner, s.cost, final < tr.SUCCESS_RADIUS, final, np.stack(paths, 1), tasks,
                      time.perf_counter() - t0, plans)
