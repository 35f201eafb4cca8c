"""Offline data of Two Rooms: long random walks, some built to pass the door (chapters 5 and 6; paper § 5.3).

EB-JEPA's generator, vectorised over walks: :class:`TrajectoryConfig` holds its settings,
:func:`generate_trajectories` draws the walks with the physics of :mod:`ebjepa_mini.data.two_rooms`
(:func:`~ebjepa_mini.data.two_rooms.move`), :func:`load_or_generate` caches them on disk under a hash of
the settings (:func:`cache_key`), and :func:`wall_contact_stats` measures what a set of clips shows a
predictor about the inner wall. Training clips are windows cut from the walks at random offsets
(:class:`~ebjepa_mini.world.WorldData`).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .two_rooms import BORDER, DOOR_HALF, WALL_HALF, move, wall_side, sample_layouts

__all__ = ["TrajectoryConfig", "generate_trajectories", "load_or_generate", "wall_contact_stats", "cache_key"]


@dataclass(frozen=True)
class TrajectoryConfig:
    """Settings of the offline dataset; the cache file name is a hash of them.

    ``length`` is the number of frames of one walk (EB-JEPA: 91 frames, 90 actions). Training clips
    are shorter windows of it, so most clips start and end in the same room, and a dot that wanders
    into the inner wall is seen to STOP there (a blocked push) far more often than it is seen to
    pass the door: the contrast a predictor needs to learn the wall.
    """

    n_traj: int = 4_000
    length: int = 91              # frames per walk (length - 1 actions)
    cross_wall_rate: float = 0.35 # share of walks built to pass the door at a uniform step
    step_mean: float = 1.0        # step length: normal(1.0, 0.4) truncated to [0.2, 1.8]
    step_std: float = 0.4
    step_range: tuple[float, float] = (0.2, 1.8)
    heading_kappa: float = 5.0    # von Mises concentration of the heading increments
    fixed_wall: bool = False      # every walk in FIXED_LAYOUT instead of a random layout
    seed: int = 0


def _trunc_normal(rng, mean, std, lo, hi, size):
    out = rng.normal(mean, std, size=size)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def _off_wall(start, wx, rng):
    """Starts inside the inner wall's band go to a random room, anywhere in it (EB-JEPA's rule)."""
    in_band = np.abs(start[:, 0] - wx) <= WALL_HALF
    left = rng.uniform(BORDER[0] + 0.5, wx - WALL_HALF - 0.5)
    right = rng.uniform(wx + WALL_HALF + 0.5, BORDER[1] - 0.5)
    start[:, 0] = np.where(in_band, np.where(rng.random(len(start)) < 0.5, left, right), start[:, 0])
    return start


def generate_trajectories(cfg: TrajectoryConfig) -> dict[str, np.ndarray]:
    """Random walks in random layouts, ``cfg.cross_wall_rate`` of them built to pass the door.

    Every walk: heading increments von Mises(0, κ), step lengths truncated normal. A free walk starts
    anywhere off the wall. A door walk picks a point in the door and a step ``k`` uniform in
    ``1..length-1``, heads through the door (±45° of straight across, either way) at step ``k``,
    and its start is solved backwards so that an unobstructed walk would reach the door point
    there. The physics (:func:`~ebjepa_mini.data.two_rooms.move`) then decides: a walk that meets a wall stops at it.
    One Python loop over the ``length - 1`` steps, vectorised over the walks.

    Returns:
        dict with ``pos [N, T, 2]`` (float32 pixels), ``actions [N, T-1, 2]`` (float32; action ``t``
        takes state ``t`` to ``t+1``), ``wall_x [N]``, ``door_y [N]`` (int16), ``crossing [N]`` (bool,
        the walk was built to pass the door).
    """
    if cfg.n_traj < 1 or cfg.length < 2:
        raise ValueError(f"n_traj must be >= 1 and length >= 2, got {cfg.n_traj}, {cfg.length}")
    if not 0.0 <= cfg.cross_wall_rate <= 1.0:
        raise ValueError(f"cross_wall_rate must be in [0, 1], got {cfg.cross_wall_rate}")
    rng = np.random.default_rng(cfg.seed)
    n, steps = cfg.n_traj, cfg.length - 1
    wall_x, door_y = sample_layouts(n, rng, cfg.fixed_wall)
    wx, dy = wall_x.astype(np.float64), door_y.astype(np.float64)
    lengths = _trunc_normal(rng, cfg.step_mean, cfg.step_std, *cfg.step_range, size=(n, steps))
    turns = np.cumsum(rng.vonmises(0.0, cfg.heading_kappa, size=(n, steps)), axis=1)
    crossing = rng.random(n) < cfg.cross_wall_rate
    k = rng.integers(1, steps + 1, size=n)                 # door walks: the door point is state k
    across = np.where(rng.random(n) < 0.5, 0.0, np.pi) + rng.uniform(-np.pi / 4, np.pi / 4, n)
    # door walks keep heading `across` at the step into the door; free walks start anywhere
    theta0 = np.where(crossing, across - turns[np.arange(n), k - 1], rng.uniform(0, 2 * np.pi, n))
    headings = theta0[:, None] + turns
    actions = lengths[..., None] * np.stack([np.cos(headings), np.sin(headings)], axis=-1)
    lo, hi = BORDER
    start = rng.uniform(lo + 0.5, hi - 0.5, size=(n, 2))
    door_pt = np.stack([rng.uniform(wx - WALL_HALF, wx + WALL_HALF),
                        dy + _trunc_normal(rng, 0.0, 1.4, -DOOR_HALF + 0.5, DOOR_HALF - 0.5, n)], axis=1)
    back = door_pt - np.cumsum(actions, axis=1)[np.arange(n), k - 1]
    start = np.where(crossing[:, None], np.clip(back, lo + 0.01, hi - 0.01), start)
    start = _off_wall(start, wx, rng)
    pos = np.empty((n, steps + 1, 2))
    pos[:, 0] = start
    for t in range(steps):
        pos[:, t + 1] = move(pos[:, t], actions[:, t], wx, dy)
    return {"pos": pos.astype(np.float32), "actions": actions.astype(np.float32),
            "wall_x": wall_x.astype(np.int16), "door_y": door_y.astype(np.int16), "crossing": crossing}


def wall_contact_stats(pos, actions, wall_x, door_y) -> dict[str, float]:
    """What a set of clips shows a predictor about the inner wall (chapter 5, § 5.2).

    Args:
        pos: ``[N, T, 2]`` positions; actions: ``[N, T-1, 2]``; wall_x, door_y: ``[N]``.

    Returns:
        ``blocked``: share of transitions cut short at the inner wall's face; ``clips_blocked``: share
        of clips with at least one such transition; ``clips_passing``: share of clips that visit both
        rooms (a door passage); ``ratio``: wall-blocked clips per door-passing clip.
    """
    pos, actions = np.asarray(pos, dtype=np.float64), np.asarray(actions, dtype=np.float64)
    wall_x = np.asarray(wall_x, dtype=np.float64)
    p, q = pos[:, :-1], pos[:, 1:]
    cut_short = np.linalg.norm(q - (p + actions), axis=-1) > 1e-3
    at_inner_wall = np.abs(q[..., 0] - wall_x[:, None]) <= WALL_HALF + 0.2
    inner = cut_short & at_inner_wall
    side = np.stack([wall_side(pos[:, t], wall_x) for t in range(pos.shape[1])], 1)
    passing = (side == -1).any(1) & (side == 1).any(1)
    return {"blocked": float(inner.mean()), "clips_blocked": float(inner.any(1).mean()),
            "clips_passing": float(passing.mean()),
            "ratio": float(inner.any(1).mean() / max(passing.mean(), 1e-9))}


def cache_key(cfg: TrajectoryConfig) -> str:
    """A short hash of the settings (and the generator version) naming the cache file."""
    blob = json.dumps({"v": 2, **asdict(cfg)}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def load_or_generate(cfg: TrajectoryConfig, cache_dir: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Trajectories for ``cfg``, from ``cache_dir/two_rooms_<hash>.npz`` if present, else generated and cached.

    ``cache_dir`` defaults to ``$EBJEPA_CACHE`` or ``~/.cache/ebjepa_mini``; an unwritable directory
    only skips the cache. The file is written atomically (temporary name, then rename).
    """
    if cache_dir is None:
        cache_dir = os.environ.get("EBJEPA_CACHE") or Path.home() / ".cache" / "ebjepa_mini"
    path = Path(cache_dir) / f"two_rooms_{cache_key(cfg)}.npz"
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    data = generate_trajectories(cfg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)
        os.replace(tmp, path)
    except OSError:
        pass
    return data
