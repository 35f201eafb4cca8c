"""Two Rooms: a dot, two rooms, one door (chapters 5 and 6; paper § 5.3).

The world is a 65×65 canvas. A dot at a continuous position ``(x, y)`` (pixels; ``x`` indexes
columns, ``y`` rows) moves by 2-D displacement actions. Border walls sit on the lines 4 and 60;
an inner vertical wall fills the band ``wall_x - 1 <= x <= wall_x + 1`` except for a door, the
opening ``door_y - 4 < y < door_y + 4``. Layouts are random: ``wall_x`` in 20..44, ``door_y`` in
10..54 (1,125 layouts). An observation has two channels: the dot as a Gaussian blob
(σ = 1.3) and the walls.

Everything here is vectorised over a leading batch dimension, so one function moves a thousand
dots as cheaply as one: :func:`move` is the physics used by the Gymnasium environment
(:class:`TwoRoomsEnv`), by the offline data generator
(:func:`~ebjepa_mini.data.two_rooms_walks.generate_trajectories`) and by the
batched planning evaluation (``ebjepa_mini.planning.episodes.evaluate``).

Collision rule (one rule everywhere; the reference library moves dots differently in its data and its environment):
a step that would enter a wall stops ``CONTACT_GAP`` pixels before the wall. No noise.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

__all__ = ["SIZE", "SIGMA", "SUCCESS_RADIUS", "MAX_ACTION", "WALL_X_RANGE", "DOOR_Y_RANGE",
           "move", "simulate", "render", "normalize_obs", "observe", "wall_masks", "sample_layouts", "sample_tasks", "FIXED_LAYOUT", "EVAL_SEED", "wall_side",
           "TwoRoomsEnv",
           "POS_MEAN", "POS_STD", "normalize_pos", "denormalize_pos", "probe_error_px"]

SIZE = 65                     # canvas side (pixels)
BORDER = (4.0, 60.0)          # border wall lines
WALL_HALF = 1.0               # inner wall band: wall_x ± 1 (3 pixels wide)
DOOR_HALF = 4.0               # door opening: door_y ± 4
SIGMA = 1.3                   # dot blob width
SUCCESS_RADIUS = 4.5          # success: final distance to the goal < 4.5 px
MAX_ACTION = 2.45             # declared action bound (per coordinate); planners clip the step norm to its diagonal
WALL_X_RANGE = (20, 44)       # inclusive
DOOR_Y_RANGE = (10, 54)       # inclusive
CONTACT_GAP = 0.1             # a blocked step stops this far before the wall
START_MARGIN = 2 * SIGMA      # start/goal keep 2σ away from walls (as the reference environment)
FIXED_LAYOUT = (32, 18)       # (wall_x, door_y) of the fixed-wall setting (EB-JEPA's fixed-wall config)
EVAL_SEED = 1000              # seed of the benchmark's evaluation tasks (training uses seeds 0, 1, ...)

# Normalisation constants of the reference code: (dot, wall) channels after per-frame min-max.
OBS_MEAN = (0.0026, 0.0989)
OBS_STD = (0.0369, 0.2986)
POS_MEAN = (31.5863, 32.0618)
POS_STD = (16.1025, 16.1353)


def _as_layout(wall_x, door_y, n: int) -> tuple[np.ndarray, np.ndarray]:
    wx = np.broadcast_to(np.asarray(wall_x, dtype=np.float64), (n,))
    dy = np.broadcast_to(np.asarray(door_y, dtype=np.float64), (n,))
    return wx, dy


def _hit_fraction(p: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Fraction ``t`` in [0, 1] at which segments ``p + t·d`` enter boxes ``[lo, hi]`` (inf if never).

    Slab method, vectorised: ``p, d, lo, hi`` are ``[N, 2]``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - p) / d
        t2 = (hi - p) / d
    t_near = np.minimum(t1, t2)
    t_far = np.maximum(t1, t2)
    # a zero component: inside the slab for all t, or never
    still = d == 0
    inside = (p >= lo) & (p <= hi)
    t_near = np.where(still, np.where(inside, -np.inf, np.inf), t_near)
    t_far = np.where(still, np.where(inside, np.inf, -np.inf), t_far)
    enter = t_near.max(axis=1)
    leave = t_far.min(axis=1)
    hit = (enter < leave) & (leave > 1e-9) & (enter <= 1.0)
    return np.where(hit, np.maximum(enter, 0.0), np.inf)


def move(pos, action, wall_x, door_y) -> np.ndarray:
    """One step of the dynamics for a batch of dots.

    Args:
        pos: positions ``[N, 2]`` (pixels, x then y), inside the free space.
        action: displacements ``[N, 2]``.
        wall_x, door_y: layout, scalars or ``[N]``.

    Returns:
        New positions ``[N, 2]``: ``pos + action`` unless the segment enters a wall, in which case
        the dot stops ``CONTACT_GAP`` px before the first wall it meets.
    """
    p = np.asarray(pos, dtype=np.float64).reshape(-1, 2)
    a = np.asarray(action, dtype=np.float64).reshape(-1, 2)
    if a.shape != p.shape:
        raise ValueError(f"action must have the shape of pos {p.shape}, got {a.shape}")
    n = len(p)
    wx, dy = _as_layout(wall_x, door_y, n)
    lo_b, hi_b = BORDER
    # leaving the room through a border line
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo = np.where(a < 0, (lo_b - p) / a, np.inf)
        t_hi = np.where(a > 0, (hi_b - p) / a, np.inf)
    t = np.minimum(t_lo, t_hi).min(axis=1)
    # the two blocks of the inner wall, above and below the door
    for y0, y1 in ((np.full(n, lo_b), dy - DOOR_HALF), (dy + DOOR_HALF, np.full(n, hi_b))):
        lo = np.stack([wx - WALL_HALF, y0], axis=1)
        hi = np.stack([wx + WALL_HALF, y1], axis=1)
        t = np.minimum(t, _hit_fraction(p, a, lo, hi))
    length = np.linalg.norm(a, axis=1)
    blocked = t <= 1.0
    frac = np.where(blocked, np.clip(t - CONTACT_GAP / np.maximum(length, 1e-12), 0.0, 1.0), 1.0)
    return p + frac[:, None] * a


def simulate(pos, actions, wall_x, door_y) -> np.ndarray:
    """The true path of action sequences: :func:`move` applied step by step.

    Args:
        pos: start positions ``[N, 2]``; actions: ``[N, H, 2]`` (NumPy or torch).
        wall_x, door_y: layout, scalars or ``[N]``.

    Returns:
        positions ``[N, H+1, 2]`` (index 0 is ``pos``).
    """
    a = np.asarray(actions, dtype=np.float64)
    path = [np.asarray(pos, dtype=np.float64).reshape(-1, 2)]
    if a.ndim != 3 or a.shape[0] != len(path[0]) or a.shape[2] != 2:
        raise ValueError(f"actions must be [N, H, 2] with N = {len(path[0])}, got {a.shape}")
    for t in range(a.shape[1]):
        path.append(move(path[-1], a[:, t], wall_x, door_y))
    return np.stack(path, 1)


def wall_side(pos, wall_x) -> np.ndarray:
    """``[N]`` side of the inner wall: -1 left of it, +1 right of it, 0 inside the door band."""
    p = np.asarray(pos, dtype=np.float64).reshape(-1, 2)
    wx = np.broadcast_to(np.asarray(wall_x, dtype=np.float64), (len(p),))
    return np.where(p[:, 0] < wx - WALL_HALF, -1, np.where(p[:, 0] > wx + WALL_HALF, 1, 0))


_GRID = torch.arange(SIZE, dtype=torch.float32)


def wall_masks(wall_x, door_y, device=None) -> torch.Tensor:
    """Wall channel ``[N, 65, 65]`` (bool, on ``device``): border lines at 4 and 60, the inner wall with its door."""
    wx = torch.tensor(np.asarray(wall_x, dtype=np.float32), device=device).reshape(-1, 1, 1)
    dy = torch.tensor(np.asarray(door_y, dtype=np.float32), device=device).reshape(-1, 1, 1)
    grid = _GRID.to(wx.device)
    rows = grid.view(1, -1, 1)
    cols = grid.view(1, 1, -1)
    lo, hi = BORDER
    border = ((rows == lo) | (rows == hi)) & (cols >= lo) & (cols <= hi)
    border = border | (((cols == lo) | (cols == hi)) & (rows >= lo) & (rows <= hi))
    inner = ((cols - wx).abs() <= WALL_HALF) & (rows >= lo) & (rows <= hi) & ((rows - dy).abs() > DOOR_HALF)
    return border | inner


def render(pos, wall_x, door_y, device=None) -> torch.Tensor:
    """Observations ``uint8 [N, 2, 65, 65]``: channel 0 the dot (Gaussian blob σ = 1.3), channel 1 walls.

    Args:
        pos: ``[N, 2]`` positions (x = column, y = row); wall_x, door_y: scalars or ``[N]``.
        device: where to draw them (default CPU; a GPU draws a training batch far faster).
    """
    p = torch.as_tensor(np.asarray(pos, dtype=np.float32), device=device).reshape(-1, 2)
    n = len(p)
    x = p[:, 0].view(-1, 1, 1)
    y = p[:, 1].view(-1, 1, 1)
    grid = _GRID.to(p.device)
    d2 = (grid.view(1, 1, -1) - x) ** 2 + (grid.view(1, -1, 1) - y) ** 2
    dot = (255.0 * torch.exp(-d2 / (2 * SIGMA ** 2))).clamp(0, 255).to(torch.uint8)
    wx = np.broadcast_to(np.asarray(wall_x), (n,))
    dy = np.broadcast_to(np.asarray(door_y), (n,))
    walls = wall_masks(wx, dy, p.device).to(torch.uint8) * 255
    return torch.stack([dot, walls], dim=1)


def normalize_obs(obs: torch.Tensor) -> torch.Tensor:
    """The reference code's normalisation: per-frame, per-channel min-max to [0, 1], then standardise per channel.

    Args:
        obs: ``[..., 2, H, W]`` uint8 or float.

    Returns:
        float32 tensor of the same shape.
    """
    x = obs.float()
    lo = x.amin(dim=(-1, -2), keepdim=True)
    hi = x.amax(dim=(-1, -2), keepdim=True)
    x = (x - lo) / (hi - lo + 1e-6)
    mean = torch.tensor(OBS_MEAN, device=x.device).view(2, 1, 1)
    std = torch.tensor(OBS_STD, device=x.device).view(2, 1, 1)
    return (x - mean) / (std + 1e-6)


def observe(pos, wall_x, door_y, device=None) -> torch.Tensor:
    """What a model sees at ``pos``: :func:`render`, then :func:`normalize_obs` (float ``[N, 2, 65, 65]``)."""
    return normalize_obs(render(pos, wall_x, door_y, device))


def normalize_pos(pos):
    """Pixel positions -> the probe's normalised coordinates (the reference code's constants)."""
    pos = torch.as_tensor(pos, dtype=torch.float32)
    return (pos - torch.tensor(POS_MEAN)) / torch.tensor(POS_STD)


def denormalize_pos(pos_n):
    """Inverse of :func:`normalize_pos`."""
    pos_n = torch.as_tensor(pos_n, dtype=torch.float32)
    return pos_n * torch.tensor(POS_STD, device=pos_n.device) + torch.tensor(POS_MEAN, device=pos_n.device)


def probe_error_px(mse):
    """A position probe's MSE in normalised coordinates -> its RMS error per coordinate in pixels
    (multiply by mean(std)², then take the root, as the reference reports it)."""
    return np.sqrt(np.asarray(mse, dtype=np.float64)) * float(np.mean(POS_STD))


def sample_layouts(n: int, rng: np.random.Generator, fixed_wall: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random layouts: ``wall_x`` uniform in 20..44 and ``door_y`` in 10..54 (integers); with
    ``fixed_wall`` every layout is :data:`FIXED_LAYOUT` (the random numbers are drawn all the same,
    so the rest of a seeded sample does not depend on the setting)."""
    wall_x = rng.integers(WALL_X_RANGE[0], WALL_X_RANGE[1] + 1, size=n)
    door_y = rng.integers(DOOR_Y_RANGE[0], DOOR_Y_RANGE[1] + 1, size=n)
    if fixed_wall:
        return np.full(n, FIXED_LAYOUT[0]), np.full(n, FIXED_LAYOUT[1])
    return wall_x, door_y


def sample_tasks(n: int, seed: int = EVAL_SEED, fixed_wall: bool = False) -> dict[str, np.ndarray]:
    """A fixed, seeded set of planning tasks (paper § 5.3): random layout (or :data:`FIXED_LAYOUT`
    with ``fixed_wall``), start and goal in different rooms. The book's benchmark tasks are
    ``sample_tasks(100)`` (seed :data:`EVAL_SEED`, disjoint from every training seed).

    Returns:
        dict with ``wall_x [n]``, ``door_y [n]``, ``start [n, 2]``, ``goal [n, 2]``.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    wall_x, door_y = sample_layouts(n, rng, fixed_wall)
    lo = BORDER[0] + START_MARGIN
    hi = BORDER[1] - START_MARGIN
    left = rng.uniform(lo, wall_x - WALL_HALF - START_MARGIN)
    right = rng.uniform(wall_x + WALL_HALF + START_MARGIN, hi)
    ys = rng.uniform(lo, hi, size=(n, 2))
    swap = rng.random(n) < 0.5
    start = np.stack([np.where(swap, right, left), ys[:, 0]], axis=1)
    goal = np.stack([np.where(swap, left, right), ys[:, 1]], axis=1)
    return {"wall_x": wall_x, "door_y": door_y, "start": start, "goal": goal}


class TwoRoomsEnv(gym.Env):
    """The Two Rooms world as a Gymnasium environment (chapter 5).

    ``reset(seed=None, options=None) -> (obs, info)``; ``step(action) -> (obs, reward, terminated,
    truncated, info)``. ``obs`` is ``uint8 [2, 65, 65]``; ``info`` has ``"pos"`` and ``"goal"``
    (pixels, x then y), ``"wall_x"``, ``"door_y"``, ``"distance"`` and ``"success"``.
    ``options`` may fix ``"wall_x"``, ``"door_y"``, ``"start"``, ``"goal"``.

    The reward is minus the distance to the goal; an episode never terminates early (success is
    judged after the last step, as in the paper's protocol) and is truncated after ``max_steps`` steps.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, max_steps: int = 200, render_mode: str | None = "rgb_array"):
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (2, SIZE, SIZE), dtype=np.uint8)
        self.action_space = gym.spaces.Box(-MAX_ACTION, MAX_ACTION, (2,), dtype=np.float32)
        self.pos = self.goal = None
        self.wall_x = self.door_y = None
        self.steps = 0

    def _info(self) -> dict:
        dist = float(np.linalg.norm(self.pos - self.goal))
        return {"pos": self.pos.copy(), "goal": self.goal.copy(), "wall_x": int(self.wall_x),
                "door_y": int(self.door_y), "distance": dist, "success": dist < SUCCESS_RADIUS}

    def _obs(self) -> np.ndarray:
        return render(self.pos[None], self.wall_x, self.door_y)[0].numpy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode: a new layout, start and goal (or those fixed by ``options``).

        Returns:
            ``(obs, info)``: ``uint8 [2, 65, 65]`` and the info dict.

        Raises:
            ValueError: for unknown option names, a wall or door outside its range, or a start/goal
            that is not in free space.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"wall_x", "door_y", "start", "goal"}
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; allowed: wall_x, door_y, start, goal")
        task = sample_tasks(1, seed=int(self.np_random.integers(2**31)))
        self.wall_x = int(options.get("wall_x", task["wall_x"][0]))
        self.door_y = int(options.get("door_y", task["door_y"][0]))
        if not WALL_X_RANGE[0] <= self.wall_x <= WALL_X_RANGE[1]:
            raise ValueError(f"options['wall_x'] must be in {WALL_X_RANGE[0]}..{WALL_X_RANGE[1]}, got {self.wall_x}")
        if not DOOR_Y_RANGE[0] <= self.door_y <= DOOR_Y_RANGE[1]:
            raise ValueError(f"options['door_y'] must be in {DOOR_Y_RANGE[0]}..{DOOR_Y_RANGE[1]}, got {self.door_y}")
        if "wall_x" in options and "start" not in options:   # re-draw start/goal for this wall
            task = _tasks_for_wall(self.wall_x, self.np_random)
        self.pos = np.asarray(options.get("start", task["start"][0]), dtype=np.float64).reshape(2).copy()
        self.goal = np.asarray(options.get("goal", task["goal"][0]), dtype=np.float64).reshape(2).copy()
        for name, p in (("start", self.pos), ("goal", self.goal)):
            if not _free(p, self.wall_x, self.door_y):
                raise ValueError(f"options[{name!r}] = {p.tolist()} is not in free space (inside the border "
                                 f"lines {BORDER} and outside the inner wall)")
        self.steps = 0
        return self._obs(), self._info()

    def step(self, action):
        """Move the dot by ``action`` (dx, dy) with the wall physics of :func:`move`.

        Returns:
            ``(obs, reward, terminated, truncated, info)`` with reward = minus the distance to the
            goal, ``terminated`` always False and ``truncated`` True after ``max_steps`` steps.
        """
        if self.pos is None:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (2,) or not np.all(np.isfinite(a)):
            raise ValueError(f"action must be 2 finite numbers (dx, dy), got {action!r}")
        self.pos = move(self.pos[None], a[None], self.wall_x, self.door_y)[0]
        self.steps += 1
        info = self._info()
        return self._obs(), -info["distance"], False, self.steps >= self.max_steps, info

    def render(self):
        """RGB ``uint8 [65, 65, 3]``: walls grey, dot red, goal a green blob."""
        if self.pos is None:
            raise RuntimeError("call reset() before render()")
        return to_rgb(render(self.pos[None], self.wall_x, self.door_y)[0],
                      render(self.goal[None], self.wall_x, self.door_y)[0, 0])


def to_rgb(obs, goal_channel=None) -> np.ndarray:
    """``uint8 [2, 65, 65]`` observation (plus optional goal blob) -> RGB ``[65, 65, 3]`` picture."""
    obs = torch.as_tensor(obs).float() / 255
    rgb = torch.ones(3, SIZE, SIZE)
    wall = obs[1]
    rgb = rgb * (1 - 0.65 * wall)
    if goal_channel is not None:
        g = torch.as_tensor(goal_channel).float() / 255
        rgb = rgb * (1 - g) + g * torch.tensor([0.17, 0.63, 0.17]).view(3, 1, 1)
    d = obs[0]
    rgb = rgb * (1 - d) + d * torch.tensor([0.84, 0.15, 0.16]).view(3, 1, 1)
    return (rgb.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _tasks_for_wall(wall_x: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    lo, hi = BORDER[0] + START_MARGIN, BORDER[1] - START_MARGIN
    left = rng.uniform(lo, wall_x - WALL_HALF - START_MARGIN)
    right = rng.uniform(wall_x + WALL_HALF + START_MARGIN, hi)
    ys = rng.uniform(lo, hi, size=2)
    if rng.random() < 0.5:
        left, right = right, left
    return {"start": np.array([[left, ys[0]]]), "goal": np.array([[right, ys[1]]])}


def _free(p, wall_x, door_y) -> bool:
    x, y = float(p[0]), float(p[1])
    if not (BORDER[0] < x < BORDER[1] and BORDER[0] < y < BORDER[1]):
        return False
    in_band = abs(x - wall_x) <= WALL_HALF
    return not in_band or abs(y - door_y) < DOOR_HALF
