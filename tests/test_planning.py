"""MPPI and CEM (chapter 6): they minimise known costs, follow the documented temperature convention,
and reach the goal when planning with the true Two Rooms dynamics."""
import numpy as np
import pytest
import torch

from ebjepa_mini.data import two_rooms as tr
from ebjepa_mini.planning import (PlanResult, cem, clip_norm, encoder_energy_map, evaluate, latent_cost_fn, mppi,
                                  oracle_cost_fn, planning_energy)
from ebjepa_mini.presets import PlanSettings

TARGET = torch.tensor([[1.0, -0.5], [0.3, 0.8], [-1.2, 0.1], [0.0, 2.0]])   # [H=4, A=2]


def quadratic(actions):                       # [N, H, A] -> [N]
    return (actions - TARGET).pow(2).sum((-1, -2))


@pytest.mark.parametrize("method", ["mppi", "cem"])
def test_planners_minimise_a_quadratic(method):
    g = torch.Generator().manual_seed(0)
    kw = dict(horizon=4, action_dim=2, num_samples=300, num_iters=15, num_elites=30, noise_std=2.0, generator=g)
    out = mppi(quadratic, temperature=5.0, update_std=True, **kw) if method == "mppi" else cem(quadratic, **kw)
    assert out.shape == (4, 2)
    assert quadratic(out[None]).item() < 0.05, out
    # one iteration is far from the optimum: the iterations do the work
    g.manual_seed(0)
    one = dict(kw, num_iters=1)
    first = mppi(quadratic, temperature=5.0, update_std=True, **one) if method == "mppi" else cem(quadratic, **one)
    assert quadratic(first[None]).item() > 10 * quadratic(out[None]).item()


def test_batched_problems_are_solved_independently():
    targets = torch.randn(3, 4, 2)

    def cost(a):                              # [E, N, H, A] -> [E, N]
        return (a - targets[:, None]).pow(2).sum((-1, -2))

    out = mppi(cost, 4, 2, 300, 15, 30, 2.0, 5.0, init_mean=torch.zeros(3, 4, 2), update_std=True,
               generator=torch.Generator().manual_seed(1))
    assert out.shape == (3, 4, 2)
    assert torch.allclose(out, targets, atol=0.3)


def test_temperature_divides_the_cost_gap():
    """Paper convention: τ -> 0 keeps the best elite only; τ -> ∞ averages the elites uniformly."""
    def run(tau):
        hist = []
        mppi(quadratic, 4, 2, 50, 1, 10, 1.0, tau, generator=torch.Generator().manual_seed(3), history=hist)
        h = hist[0]
        elites = h["samples"][0][h["elite_idx"][0]]
        return h["mean"][0], elites

    sharp, elites = run(1e-6)
    assert torch.allclose(sharp, elites[0], atol=1e-5)          # the lowest-cost elite
    flat, elites = run(1e6)
    assert torch.allclose(flat, elites.mean(0), atol=1e-4)      # the elite mean (CEM's update)
    with pytest.raises(ValueError, match="temperature"):
        mppi(quadratic, 4, 2, 50, 1, 10, 1.0, 0.0)


def _point_mass(actions):                      # [N, 12, 2] -> [N]: a dot at the running sum, goal (10, -6)
    return (actions.cumsum(-2) - torch.tensor([10.0, -6.0])).pow(2).sum((-2, -1))


def test_algorithm_1_keeps_sigma_fixed_and_still_descends():
    """Paper Alg. 1 (the default of ``mppi``): only μ moves, σ stays the initial one, and the plan is far
    cheaper than doing nothing."""
    hist = []
    out = mppi(_point_mass, 12, 2, 300, 15, 30, 1.0, 0.5, generator=torch.Generator().manual_seed(0), history=hist)
    assert all(torch.equal(h["std"], torch.ones_like(h["std"])) for h in hist)
    assert _point_mass(out[None]).item() < 0.5 * _point_mass(torch.zeros(1, 12, 2)).item()


def test_sigma_floor_prevents_the_collapse_of_a_small_temperature():
    """Refitting σ with a temperature far below the elites' cost gaps puts all the weight on one elite:
    without a floor σ is zero after one iteration and the search stops; the floor keeps it exploring."""
    def sigma_after_one(min_std):
        hist = []
        mppi(_point_mass, 12, 2, 300, 1, 30, 1.0, 1e-3, update_std=True, min_std=min_std,
             generator=torch.Generator().manual_seed(0), history=hist)
        return hist[0]["std"]

    assert sigma_after_one(0.0).max() < 1e-3                      # collapsed
    assert torch.allclose(sigma_after_one(0.3), torch.full((12, 2), 0.3))
    with pytest.raises(ValueError, match="min_std"):
        mppi(_point_mass, 12, 2, 300, 1, 30, 1.0, 1.0, update_std=True, min_std=2.0)
    with pytest.raises(ValueError, match="min_std"):
        PlanSettings(noise_std=1.0, min_std=-0.1)


def test_arguments_are_checked_before_any_compute():
    calls = []

    def cost(a):
        calls.append(1)
        return quadratic(a)

    with pytest.raises(ValueError, match="num_elites"):
        mppi(cost, 4, 2, 10, 1, 20, 1.0, 1.0)
    with pytest.raises(ValueError, match="horizon"):
        cem(cost, 0, 2, 10, 1, 5, 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        cem(cost, 4, 2, 10, 1, 5, -1.0)
    with pytest.raises(ValueError, match="init_mean"):
        cem(cost, 4, 2, 10, 1, 5, 1.0, init_mean=torch.zeros(3, 2))
    assert not calls


def test_clip_norm_and_planning_energy():
    a = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    c = clip_norm(a, 2.5)
    assert torch.allclose(c.norm(dim=-1), torch.tensor([2.5, 0.5]), atol=1e-4)
    z = torch.zeros(2, 4, 3)          # [N, H+1, D]
    z[0, 1:] = 1.0
    goal = torch.zeros(3)
    assert planning_energy(z, goal).tolist() == [3.0, 0.0]
    assert planning_energy(z, goal, "last").tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="cost"):
        planning_energy(z, goal, "mean")


@pytest.mark.parametrize("cost", ["cumulative", "last"])
def test_latent_cost_is_eq14_on_the_model_rollout(cost):
    # the cost_fn scores the rollout step by step; it must give exactly planning_energy(model.rollout(...))
    from ebjepa_mini.presets import get_preset
    from ebjepa_mini.world import build_model

    torch.manual_seed(0)
    model = build_model(get_preset("ci").world).eval()
    e, n, h, d = 3, 5, 7, model.latent_dim
    z0, zg = torch.randn(e, d), torch.randn(e, d)
    actions = torch.randn(e, n, h, 2)
    with torch.no_grad():
        got = latent_cost_fn(model, z0, zg, cost)(actions)
        z = model.rollout(z0.repeat_interleave(n, 0), actions.reshape(e * n, h, 2)).reshape(e, n, h + 1, d)
        want = planning_energy(z, zg.unsqueeze(1), cost)
        one = latent_cost_fn(model, z0[1], zg[1], cost)(actions[1])
    assert got.shape == (e, n) and one.shape == (n,)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    torch.testing.assert_close(one, want[1], rtol=1e-6, atol=0)   # another batch size: rounding may differ


def test_oracle_cost_follows_the_true_physics():
    # two one-step-per-action plans from (20, 30) towards a goal behind the wall at x = 32 (door at y = 50)
    cost = oracle_cost_fn([20.0, 30.0], [40.0, 30.0], 32, 50)
    into_wall = torch.tensor([[[2.0, 0.0]] * 10])          # blocked at the wall after 5 steps
    along = torch.tensor([[[0.0, 2.0]] * 10])              # moves down, never blocked
    c_wall, c_along = cost(torch.cat([into_wall, along])).tolist()
    pos = np.array([20.0, 30.0])
    expected = 0.0
    for _ in range(10):
        pos = tr.move(pos[None], np.array([[2.0, 0.0]]), 32, 50)[0]
        expected += np.mean(((pos - [40.0, 30.0]) / np.array(tr.POS_STD)) ** 2)   # eq. 14, mean-squared form
    assert c_wall == pytest.approx(expected, rel=1e-5)
    assert pos[0] < 32 - tr.WALL_HALF                        # the wall stopped it
    last = oracle_cost_fn([20.0, 30.0], [40.0, 30.0], 32, 50, "last")(into_wall)
    assert last.item() == pytest.approx(np.mean(((pos - [40.0, 30.0]) / np.array(tr.POS_STD)) ** 2), rel=1e-5)
    assert c_along > c_wall
    with pytest.raises(ValueError, match="cost"):
        oracle_cost_fn([0, 0], [1, 1], 32, 50, "mean")


def test_evaluate_with_the_oracle_needs_no_model():
    s = PlanSettings(episodes=4, max_steps=60, replan_every=4, horizon=30, num_samples=64, num_iters=4,
                     num_elites=8, noise_std=3.0, temperature=1.0)
    res = evaluate(None, 4, s, oracle="positions", seed=3)
    assert res.paths.shape == (4, 61, 2) and res.success.dtype == bool
    assert res.mean_final_distance < np.linalg.norm(res.tasks["start"] - res.tasks["goal"], axis=1).mean()
    with pytest.raises(ValueError, match="oracle must be None or one of"):
        evaluate(None, 4, s, oracle=True)
    with pytest.raises(ValueError, match="a model is needed"):
        evaluate(None, 4, s, oracle="encoder")


class CentroidEncoder(torch.nn.Module):
    """A stand-in world model whose "encoder" returns the dot's normalised position (the centroid of
    channel 0): its energy map must reproduce the true-positions energy."""

    def encode(self, obs):
        w = (obs[:, 0] - obs[:, 0].amin((-1, -2), keepdim=True)).clamp_min(0)
        grid = torch.arange(tr.SIZE, dtype=torch.float32)
        x = (w.sum(-2) * grid).sum(-1) / w.sum((-1, -2))
        y = (w.sum(-1) * grid).sum(-1) / w.sum((-1, -2))
        return tr.normalize_pos(torch.stack([x, y], -1))


def test_encoder_energy_map_is_the_encoder_energy_between_grid_points():
    tasks = tr.sample_tasks(2, seed=5)
    model = CentroidEncoder()
    emap = encoder_energy_map(model, tasks, step=2.0)
    assert emap.values.shape == (2, 29, 29)
    pts = np.array([[[10.0, 20.0], [33.0, 41.0]], [[50.0, 12.0], [7.0, 7.0]]])   # on and off the grid
    got = emap(pts)
    for e in range(2):
        zg = model.encode(tr.observe(tasks["goal"][e:e + 1], tasks["wall_x"][e], tasks["door_y"][e]))
        z = model.encode(tr.observe(pts[e], tasks["wall_x"][e], tasks["door_y"][e]))
        want = (z - zg).pow(2).mean(-1).numpy()
        np.testing.assert_allclose(got[e], want, rtol=0.03, atol=2e-3)      # the map is x-by-y, not transposed
    coarse = encoder_energy_map(model, tasks, step=3.0)         # 3 px does not divide 56: last point at 58
    edge = coarse(np.full((2, 1, 2), 60.0))[:, 0]
    np.testing.assert_allclose(edge, coarse.values[:, -1, -1])  # held at the last grid value, not extrapolated
    with pytest.raises(ValueError, match="step must be > 0"):
        encoder_energy_map(model, tasks, step=0)
    with pytest.raises(ValueError, match="pos must be"):
        emap(np.zeros((3, 2)))


def test_the_encoder_oracle_with_a_position_encoder_is_the_positions_oracle():
    tasks = tr.sample_tasks(3, seed=2)
    emap = encoder_energy_map(CentroidEncoder(), tasks, step=1.0)
    g = torch.Generator().manual_seed(0)
    actions = 2.0 * torch.randn(3, 16, 20, 2, generator=g)
    args = (tasks["start"], tasks["goal"], tasks["wall_x"], tasks["door_y"])
    for cost in ("cumulative", "last"):
        want = oracle_cost_fn(*args, cost)(actions)
        got = oracle_cost_fn(*args, cost, energy_map=emap)(actions)
        torch.testing.assert_close(got.float(), want.float(), rtol=0.05, atol=0.02)
    with pytest.raises(ValueError, match="energy_map holds 3 tasks"):
        oracle_cost_fn(tasks["start"][:2], tasks["goal"][:2], tasks["wall_x"][:2], tasks["door_y"][:2],
                       energy_map=emap)
    s = PlanSettings(episodes=3, max_steps=40, replan_every=4, horizon=20, num_samples=32, num_iters=3,
                     num_elites=4, noise_std=3.0, temperature=1.0)
    res = evaluate(CentroidEncoder(), tasks, s, oracle="encoder")
    assert res.paths.shape == (3, 41, 2)


@pytest.mark.parametrize("method", ["mppi", "cem"])
def test_planning_with_true_dynamics_reaches_the_goal_through_the_door(method):
    env = tr.TwoRoomsEnv(max_steps=40)
    start, goal = np.array([15.0, 30.0]), np.array([48.0, 36.0])
    _, info = env.reset(options={"wall_x": 32, "door_y": 33, "start": start, "goal": goal})
    g = torch.Generator().manual_seed(0)
    mean = None
    for _ in range(40):
        cost = oracle_cost_fn(info["pos"], goal, 32, 33)
        kw = dict(horizon=25, action_dim=2, num_samples=200, num_iters=8, num_elites=20, noise_std=1.5,
                  generator=g, max_norm=tr.MAX_ACTION,
                  init_mean=None if mean is None else torch.cat([mean[1:], torch.zeros(1, 2)]))
        mean = mppi(cost, temperature=5.0, **kw) if method == "mppi" else cem(cost, **kw)
        _, _, _, _, info = env.step(mean[0].numpy())
    assert info["success"], info


def test_stuck_in_start_room_counts_failures_on_the_start_side():
    tasks = {"wall_x": np.array([32, 32, 32]), "door_y": np.array([20, 20, 20]),
             "start": np.array([[10.0, 50.0], [10.0, 50.0], [10.0, 50.0]]),
             "goal": np.array([[50.0, 50.0], [50.0, 50.0], [50.0, 50.0]])}
    ends = np.array([[29.0, 50.0], [49.0, 48.0], [40.0, 30.0]])     # stuck at the wall, success, other room
    paths = np.stack([tasks["start"], ends], 1)
    final = np.linalg.norm(ends - tasks["goal"], axis=1)
    res = PlanResult("mppi", "cumulative", final < tr.SUCCESS_RADIUS, final, paths, tasks, 0.0)
    np.testing.assert_array_equal(res.stuck_in_start_room, [True, False, False])
    assert res.summary()["failures_in_start_room"] == 1


def test_waypoint_actions_walk_the_waypoints_then_stand_still():
    from ebjepa_mini.planning import waypoint_actions

    a = waypoint_actions([[10.0, 10.0], [0.0, 0.0]], [[[20.0, 10.0], [20.0, 13.0]], [[0.0, 7.0], [0.0, 7.0]]], 2.5, 12)
    assert a.shape == (2, 12, 2)
    assert float(a.norm(dim=-1).max()) <= 2.5 + 1e-6
    ends = np.array([[10.0, 10.0], [0.0, 0.0]])[:, None] + a.double().numpy().cumsum(1)
    np.testing.assert_allclose(ends[:, -1], [[20.0, 13.0], [0.0, 7.0]], atol=1e-6)
    assert (a[0, 6:] == 0).all() and (a[1, 3:] == 0).all()     # 4 + 2 steps and 3 steps, then still
    with pytest.raises(ValueError, match="speed"):
        waypoint_actions([[0.0, 0.0]], [[[1.0, 1.0]]], 0.0, 5)


class _PositionModel(torch.nn.Module):
    """A world model whose latent IS the dot's normalised position and whose predictor ignores walls."""

    latent_dim = 2

    def encode(self, obs):
        dot = obs[:, 0] - obs[:, 0].amin((-1, -2), keepdim=True)
        w = dot / dot.sum((-1, -2), keepdim=True)
        grid = torch.arange(tr.SIZE, dtype=obs.dtype)
        xy = torch.stack([(w.sum(-2) * grid).sum(-1), (w.sum(-1) * grid).sum(-1)], -1)
        return torch.as_tensor(tr.normalize_pos(xy.double().numpy()), dtype=torch.float32)

    def predict(self, z, a):
        return z + a / torch.tensor(tr.POS_STD, dtype=z.dtype)


def test_energy_breakdown_locates_a_wall_blind_predictor():
    from ebjepa_mini.planning import door_and_wall_plans, energy_breakdown

    tasks = {"start": np.array([[15.0, 20.0], [48.0, 12.0]]), "goal": np.array([[45.0, 22.0], [20.0, 14.0]]),
             "wall_x": np.array([32, 35]), "door_y": np.array([50, 45])}
    plans = door_and_wall_plans(tasks, speed=3.46, horizon=60)
    model = _PositionModel()
    s = {k: energy_breakdown(model, tasks, a) for k, a in plans.items()}
    # plans that never touch a wall: the three scorers agree (same eq. 14, same positions)
    for k in ("door", "wall"):
        np.testing.assert_allclose(s[k]["encoder"], s[k]["positions"], rtol=2e-2)
        np.testing.assert_allclose(s[k]["model"], s[k]["positions"], rtol=2e-2)
    assert (s["door"]["positions"] < s["wall"]["positions"]).all()     # near doors: the detour is cheaper
    # pushing straight at the goal: the wall stops the dot, the wall-blind predictor walks through it
    from ebjepa_mini.planning import waypoint_actions
    push = waypoint_actions(tasks["start"], tasks["goal"][:, None], 2.0, 40)
    p = energy_breakdown(model, tasks, push)
    np.testing.assert_allclose(p["encoder"], p["positions"], rtol=2e-2)
    assert (p["model"] < 0.5 * p["positions"]).all()
    with pytest.raises(ValueError, match="actions"):
        energy_breakdown(model, tasks, push[:1])
    only = energy_breakdown(model, tasks, push, scorers=("model",))           # a subset: the same numbers
    assert set(only) == {"model"} and np.array_equal(only["model"], p["model"])
    with pytest.raises(ValueError, match="scorers"):
        energy_breakdown(model, tasks, push, scorers=("imagined",))


class _RollingPositionModel(_PositionModel):
    """The position model with a rollout; ``physics=True`` moves the latent with the true walls
    (a predictor that knows the room), else straight through them."""

    def __init__(self, physics: bool = False, wall_x=None, door_y=None):
        super().__init__()
        self.physics, self.wall_x, self.door_y = physics, wall_x, door_y

    def rollout(self, z0, actions):
        if not self.physics:
            return torch.cat([z0[:, None], z0[:, None] + torch.cumsum(actions, 1) / torch.tensor(tr.POS_STD)], 1)
        pos = tr.denormalize_pos(z0).numpy()
        path = tr.simulate(pos, actions.numpy(), self.wall_x, self.door_y)
        return torch.as_tensor(tr.normalize_pos(path).numpy(), dtype=torch.float32)


def test_wall_push_test_tells_a_wall_blind_predictor_from_one_that_knows_the_room():
    from ebjepa_mini.planning import wall_push_test

    blind = wall_push_test(_RollingPositionModel(), n=40)
    assert blind["wall_stop"] == 0.0 and blind["door_pass"] == 1.0
    # a fixed layout lets the stand-in use the true physics
    wx, dy = tr.FIXED_LAYOUT
    aware = wall_push_test(_RollingPositionModel(True, wx, dy), n=40, fixed_wall=True)
    assert aware["wall_stop"] == 1.0 and aware["door_pass"] == 1.0
    with pytest.raises(ValueError, match="n must be"):
        wall_push_test(_RollingPositionModel(), n=0)


def test_imagined_positions_decode_the_rollout_by_its_nearest_encoding():
    from ebjepa_mini.planning import imagined_positions

    tasks = {"start": np.array([[15.0, 20.0], [48.0, 40.0]]), "wall_x": np.array([32, 35]), "door_y": np.array([50, 45])}
    a = np.zeros((2, 6, 2))
    a[:, :, 0] = [[2.0], [-2.0]]                      # both walk towards (and, for a blind model, through) the wall
    free = tasks["start"][:, None] + np.concatenate([np.zeros((2, 1, 2)), np.cumsum(a, 1)], 1)
    got = imagined_positions(_RollingPositionModel(), tasks, a, step=1.0)
    assert np.abs(got - free).max() <= 1.0              # the grid is 1 px: within a pixel of the imagined path
    with pytest.raises(ValueError, match="actions"):
        imagined_positions(_RollingPositionModel(), tasks, a[:1])


def test_plan_settings_are_checked_and_the_reference_planner_executes_an_elite():
    from ebjepa_mini.presets import REFERENCE_PLANNER

    assert REFERENCE_PLANNER.execute == "elite" and REFERENCE_PLANNER.max_norm is None and not REFERENCE_PLANNER.warm_start
    for bad, match in (({"execute": "best"}, "execute"), ({"num_elites": 500}, "num_elites"),
                       ({"temperature": 0.0}, "temperature"), ({"max_norm": -1.0}, "max_norm"), ({"horizon": 0}, "horizon")):
        with pytest.raises(ValueError, match=match):
            PlanSettings(**bad)
    target = torch.tensor([1.0, -2.0])
    cost = lambda a: ((a - target) ** 2).sum((-1, -2))
    hist = []
    out = mppi(cost, 5, 2, 64, 3, 8, 1.0, 200.0, generator=torch.Generator().manual_seed(0), history=hist,
               execute="elite")
    last = hist[-1]
    elites = last["samples"][0, last["elite_idx"][0]]                 # the last iteration's elites
    assert any(torch.equal(out, e) for e in elites)                   # one of them, not their mean
    assert not torch.allclose(out, last["mean"][0])
    with pytest.raises(ValueError, match="execute"):
        mppi(cost, 5, 2, 64, 3, 8, 1.0, 1.0, execute="best")


def test_planner_lab_sliders_cannot_collapse_sigma():
    """The Planner Lab's temperature slider goes down to 1e-3; the σ floor keeps every iteration searching."""
    from ebjepa_mini.presets import get_preset
    from ebjepa_mini.widgets import PlannerLab

    settings = get_preset("ci").plan
    lab = PlannerLab(settings=settings).set(temperature=1e-3, num_samples=16, num_elites=4, horizon=8)
    hist = lab.plan_once()
    assert len(hist) == settings.num_iters
    assert min(float(h["std"].min()) for h in hist) >= settings.min_std > 0


def test_paper_planner_is_algorithm_1_and_bench_applies_it():
    """presets.PAPER_PLANNER is Algorithm 1 as the paper writes it; ``bench world --paper-planner`` plans
    with it (the preset's sizes kept) and refuses to be combined with --reference-planner."""
    from ebjepa_mini import bench
    from ebjepa_mini.presets import PAPER_PLANNER

    p = PAPER_PLANNER
    assert (not p.update_std, p.temperature, p.noise_std, p.replan_every, p.warm_start, p.max_norm, p.execute) == \
        (True, 0.005, 2.0, 1, False, None, "mean")
    assert (p.horizon, p.num_samples, p.num_iters, p.num_elites, p.max_steps) == (90, 200, 20, 20, 200)   # Table 7
    with pytest.raises(SystemExit):
        bench.main(["world", "--preset", "ci", "--paper-planner", "--reference-planner"])


def test_one_planning_request_carries_planner_and_cost():
    """``PlanSettings`` carries the planner and the energy, validated when it is made (naming the allowed
    values); ``plan_step`` and ``evaluate`` read them from it, so a CEM request really runs CEM."""
    from dataclasses import replace

    from ebjepa_mini.planning import plan_step
    from ebjepa_mini.presets import COSTS, PLANNERS, PlanSettings

    with pytest.raises(ValueError, match=r"PlanSettings.planner must be one of \('mppi', 'cem'\)"):
        PlanSettings(planner="ilqr")
    with pytest.raises(ValueError, match=r"PlanSettings.cost must be one of"):
        PlanSettings(cost="final")
    assert PLANNERS == ("mppi", "cem") and COSTS == ("cumulative", "last")

    class Still(torch.nn.Module):          # a world model in which actions move the latent directly
        def predict(self, z, a):
            return z + a

    s = PlanSettings(horizon=4, num_samples=32, num_iters=3, num_elites=8, temperature=0.1)
    z0, zg = torch.zeros(1, 2), torch.full((1, 2), 3.0)
    out = {}
    for planner in PLANNERS:
        hist = []
        out[planner] = plan_step(Still(), z0, zg, replace(s, planner=planner), generator=torch.Generator().manual_seed(0),
                                 history=hist)
        assert out[planner].shape == (4, 2) and len(hist) == 3           # one problem: [H, A]
    assert not torch.equal(out["mppi"], out["cem"])          # two different optimisers ran
    for planner in PLANNERS:                                  # and each plan heads for the goal
        assert (z0 + out[planner].sum(0) - zg).norm() < 0.5 * (z0 - zg).norm()
