"""Two Rooms environment physics, rendering and the offline data generator (chapter 5)."""
import numpy as np
import pytest
import torch

from ebjepa_mini.data import two_rooms as tr
from ebjepa_mini.data.two_rooms_walks import (TrajectoryConfig, generate_trajectories, load_or_generate,
                                              wall_contact_stats)


def _crosses_outside_door(p, q, wall_x, door_y):
    """For steps that change rooms: does the segment pass the wall band outside the door?"""
    s0, s1 = tr.wall_side(p, wall_x), tr.wall_side(q, wall_x)
    change = s0 * s1 == -1
    bad = np.zeros(len(p), bool)
    for edge in (-tr.WALL_HALF, tr.WALL_HALF):
        f = (wall_x + edge - p[:, 0]) / np.where(q[:, 0] == p[:, 0], 1, q[:, 0] - p[:, 0])
        yc = p[:, 1] + f * (q[:, 1] - p[:, 1])
        bad |= change & (np.abs(yc - door_y) >= tr.DOOR_HALF)
    in_band = tr.wall_side(q, wall_x) == 0
    bad |= in_band & (np.abs(q[:, 1] - door_y) >= tr.DOOR_HALF)
    return bad


def test_random_actions_never_pass_a_wall_outside_the_door():
    rng = np.random.default_rng(0)
    task = tr.sample_tasks(2000, seed=1)
    p = task["start"].copy()
    changed_room = np.zeros(len(p), bool)
    start_side = tr.wall_side(p, task["wall_x"])
    for _ in range(300):
        q = tr.move(p, rng.normal(0, 3, p.shape), task["wall_x"], task["door_y"])
        assert not _crosses_outside_door(p, q, task["wall_x"], task["door_y"]).any()
        assert ((q > tr.BORDER[0]) & (q < tr.BORDER[1])).all(), "a dot left the border walls"
        p = q
        changed_room |= tr.wall_side(p, task["wall_x"]) == -start_side
    # the door exists: random walks do get through it sometimes
    assert changed_room.mean() > 0.02


def test_door_crossing_is_possible_and_walls_block():
    env = tr.TwoRoomsEnv(max_steps=50)
    _, info = env.reset(options={"wall_x": 32, "door_y": 30, "start": [20.0, 30.0], "goal": [45.0, 30.0]})
    for _ in range(15):                      # straight through the door
        _, _, terminated, truncated, info = env.step([2.0, 0.0])
    assert info["pos"][0] > 34 and not terminated
    _, info = env.reset(options={"wall_x": 32, "door_y": 50, "start": [20.0, 20.0], "goal": [45.0, 20.0]})
    for _ in range(15):                      # into the wall: stops just before it
        _, _, _, _, info = env.step([2.0, 0.0])
    assert 30.0 - 0.5 < info["pos"][0] < 31.0, info["pos"]


def test_success_is_judged_by_distance_and_episode_truncates():
    env = tr.TwoRoomsEnv(max_steps=3)
    env.reset(options={"wall_x": 32, "door_y": 30, "start": [20.0, 30.0], "goal": [22.0, 31.0]})
    _, r, terminated, truncated, info = env.step([0.0, 0.0])
    assert info["success"] and r == pytest.approx(-info["distance"]) and not terminated and not truncated
    env.step([0.0, 0.0])
    *_, truncated, _ = env.step([0.0, 0.0])
    assert truncated


def test_rendering_matches_positions():
    pos = np.array([[10.3, 50.7], [40.0, 12.2]])
    obs = tr.render(pos, [30, 25], [20, 40])
    assert obs.shape == (2, 2, 65, 65) and obs.dtype == torch.uint8
    for i, (x, y) in enumerate(pos):
        r, c = np.unravel_index(int(obs[i, 0].argmax()), (65, 65))
        assert (c, r) == (round(x), round(y))           # x indexes columns, y rows
    walls = obs[0, 1].numpy() > 0
    assert walls[4, 10] and walls[60, 10] and walls[10, 4] and walls[10, 60]     # borders
    assert walls[10, 29:32].all() and not walls[20, 29:32].any()                   # wall_x=30, door at 20 ± 4
    assert not walls[30, 33]


def test_tasks_put_start_and_goal_in_different_rooms():
    t = tr.sample_tasks(500, seed=3)
    s, g = tr.wall_side(t["start"], t["wall_x"]), tr.wall_side(t["goal"], t["wall_x"])
    assert ((s * g) == -1).all()
    assert (t["wall_x"] >= 20).all() and (t["wall_x"] <= 44).all()
    assert (t["door_y"] >= 10).all() and (t["door_y"] <= 54).all()
    np.testing.assert_array_equal(tr.sample_tasks(5, seed=3)["start"], tr.sample_tasks(5, seed=3)["start"])


def test_env_reset_is_seeded_and_validates_options():
    env = tr.TwoRoomsEnv()
    _, a = env.reset(seed=7)
    _, b = env.reset(seed=7)
    np.testing.assert_array_equal(a["pos"], b["pos"])
    assert a["wall_x"] == b["wall_x"]
    with pytest.raises(ValueError, match="wall_x"):
        env.reset(options={"wall_x": 5})
    with pytest.raises(ValueError, match="start"):
        env.reset(options={"wall_x": 30, "door_y": 50, "start": [30.0, 20.0], "goal": [40.0, 20.0]})
    with pytest.raises(ValueError, match="allowed"):
        env.reset(options={"door": 3})
    with pytest.raises(ValueError, match="action"):
        env.step([1.0])
    assert env.render().shape == (65, 65, 3)


def test_generator_statistics_and_determinism(tmp_path):
    """Long walks cut into 17-frame windows, as EB-JEPA trains: a dot is seen stopped by the inner
    wall several times as often as it is seen passing the door (the reference generator: 5.5 times;
    the short door-aimed clips this book used before: 0.3 times, and its model walked through walls)."""
    cfg = TrajectoryConfig(n_traj=3000, length=91, seed=5)
    d = generate_trajectories(cfg)
    assert d["pos"].shape == (3000, 91, 2) and d["actions"].shape == (3000, 90, 2)
    lengths = np.linalg.norm(d["actions"], axis=-1)
    assert lengths.min() >= 0.2 - 1e-5 and lengths.max() <= 1.8 + 1e-5
    assert abs(lengths.mean() - 1.0) < 0.05
    walk_side = np.stack([tr.wall_side(d["pos"][:, t], d["wall_x"]) for t in range(91)], 1)
    walk_passes = (walk_side == -1).any(1) & (walk_side == 1).any(1)
    assert walk_passes[d["crossing"]].mean() > 3 * walk_passes[~d["crossing"]].mean()   # door walks do pass
    rng = np.random.default_rng(0)
    i, t0 = rng.integers(0, 3000, 20_000), rng.integers(0, 91 - 17 + 1, 20_000)
    t = t0[:, None] + np.arange(17)
    st = wall_contact_stats(d["pos"][i[:, None], t], d["actions"][i[:, None], t[:, :-1]], d["wall_x"][i], d["door_y"][i])
    assert 0.07 < st["blocked"] < 0.18                    # reference: 11.2% of transitions
    assert 0.02 < st["clips_passing"] < 0.08              # reference: 4.3% of clips
    assert 3.0 < st["ratio"] < 9.0                        # reference: 5.5
    # the short door-aimed clips this book trained on before: a door passage in most of them
    old = generate_trajectories(TrajectoryConfig(n_traj=3000, length=13, cross_wall_rate=1.0, seed=5))
    assert wall_contact_stats(old["pos"], old["actions"], old["wall_x"], old["door_y"])["ratio"] < 1.0
    # the dynamics of the data are the environment's
    np.testing.assert_allclose(d["pos"][:, 1], tr.move(d["pos"][:, 0], d["actions"][:, 0], d["wall_x"], d["door_y"]),
                               atol=1e-4)
    again = load_or_generate(cfg, cache_dir=tmp_path)        # generates and caches
    cached = load_or_generate(cfg, cache_dir=tmp_path)       # reads the file
    assert len(list(tmp_path.glob("two_rooms_*.npz"))) == 1
    np.testing.assert_array_equal(again["pos"], d["pos"])
    np.testing.assert_array_equal(cached["actions"], d["actions"])
    with pytest.raises(ValueError, match="cross_wall_rate"):
        generate_trajectories(TrajectoryConfig(cross_wall_rate=2.0))
    fixed = generate_trajectories(TrajectoryConfig(n_traj=50, length=20, fixed_wall=True))
    assert set(fixed["wall_x"]) == {tr.FIXED_LAYOUT[0]} and set(fixed["door_y"]) == {tr.FIXED_LAYOUT[1]}


def test_normalize_obs_matches_spec_constants():
    obs = tr.render(np.array([[20.0, 20.0]]), 30, 30)
    x = tr.normalize_obs(obs)
    wall = (obs[0, 1] > 0)
    assert torch.allclose(x[0, 1][wall], torch.tensor((1 - tr.OBS_MEAN[1]) / tr.OBS_STD[1]), atol=1e-3)
    assert torch.allclose(x[0, 1][~wall], torch.tensor(-tr.OBS_MEAN[1] / tr.OBS_STD[1]), atol=1e-3)
    p = np.array([[12.0, 50.0]])
    assert torch.allclose(tr.denormalize_pos(tr.normalize_pos(p)), torch.tensor(p, dtype=torch.float32))


def test_simulate_is_move_step_by_step():
    rng = np.random.default_rng(3)
    start = np.array([[20.0, 30.0], [40.0, 12.0], [10.0, 50.0]])
    actions = rng.normal(0, 2.0, size=(3, 25, 2))
    path = tr.simulate(start, actions, np.array([32, 28, 40]), np.array([50, 20, 30]))
    assert path.shape == (3, 26, 2)
    pos = start
    for t in range(25):
        pos = tr.move(pos, actions[:, t], np.array([32, 28, 40]), np.array([50, 20, 30]))
        np.testing.assert_array_equal(path[:, t + 1], pos)
    np.testing.assert_array_equal(path[:, 0], start)
    with pytest.raises(ValueError, match="actions"):
        tr.simulate(start, actions[:2], 32, 50)
