"""World model (chapter 5): eq. 13 loss, rollouts, training, checkpoints, and the committed pretrained model."""
import json
from dataclasses import asdict, replace
from pathlib import Path
import numpy as np
import pytest
import torch

from ebjepa_mini.data import two_rooms as tr
from ebjepa_mini.planning import evaluate
from ebjepa_mini.presets import WorldSettings, get_preset
from ebjepa_mini.world import (PRETRAINED, WorldData, WorldModel, WorldWeights, file_sha256,
                               load_world_model, save_world_model, train_world_model, world_model_loss)

TINY = WorldSettings(n_traj=400, clip_len=9, rollout_steps=4, batch_size=16, steps=60, stacks=(4, 8, 8), pool=2,
                     latent_dim=32, idm_hidden=32, probe_hidden=32, lr=3e-3)


def test_loss_terms_and_argument_checks(tmp_path):
    torch.manual_seed(0)
    model = WorldModel((4, 8, 8), 1, 32, 32, 32, pool=2)
    b = WorldData(TINY, seed=0, cache_dir=tmp_path).batch(np.arange(8))
    assert b["obs"].shape == (8, 9, 2, 65, 65) and b["actions"].shape == (8, 8, 2)
    loss, terms, z = world_model_loss(model, b["obs"], b["actions"], WorldWeights(), 4)
    assert z.shape == (8, 9, 32)
    w = WorldWeights()
    recombined = (terms["pred"] + w.variance * terms["variance"] + w.covariance * terms["covariance"]
                  + w.similarity * terms["similarity"] + w.idm * terms["idm"])
    assert loss.item() == pytest.approx(recombined, rel=1e-5)
    _, no_idm, _ = world_model_loss(model, b["obs"], b["actions"], WorldWeights(idm=0.0), 4)
    assert no_idm["idm"] == 0.0
    with pytest.raises(ValueError, match="rollout_steps"):
        world_model_loss(model, b["obs"], b["actions"], w, 9)
    with pytest.raises(ValueError, match="actions"):
        world_model_loss(model, b["obs"], b["actions"][:, :3], w, 2)
    with pytest.raises(ValueError, match="covariance"):
        WorldWeights(covariance=-1.0)


def test_prediction_loss_uses_the_models_own_predictions():
    """Changing the predictor's first step must change the error of step 2: the chain feeds itself."""
    torch.manual_seed(0)
    model = WorldModel((4, 8, 8), 1, 16, 16, 16, pool=2)
    z0, a = torch.randn(5, 16), torch.randn(5, 3, 2)
    roll = model.rollout(z0, a)
    assert roll.shape == (5, 4, 16) and torch.equal(roll[:, 0], z0)
    assert torch.allclose(roll[:, 2], model.predict(roll[:, 1], a[:, 1]))
    # gradients of a step-3 error reach the GRU through steps 1 and 2 (full BPTT, nothing detached)
    model.zero_grad()
    roll[:, 3].pow(2).sum().backward()
    assert model.gru.weight_hh.grad.abs().sum() > 0


def test_short_training_learns_the_position_and_to_predict(tmp_path):
    run = train_world_model(TINY, seed=0, progress=False)
    h = run.history
    assert len(h["step"]) == TINY.steps
    # the latent comes to encode where the dot is (the probe reads it from detached latents) ...
    assert np.mean(h["probe"][-5:]) < 0.3 * np.mean(h["probe"][:5]), (h["probe"][:5], h["probe"][-5:])
    # ... and the K-step prediction error falls while the variance hinge keeps the latents spread
    assert np.mean(h["pred"][-5:]) < 0.6 * np.mean(h["pred"][:5])
    assert np.mean(h["variance"][-5:]) < np.mean(h["variance"][:5])
    path = save_world_model(run, tmp_path / "m.pt")
    again = load_world_model(path)
    x = tr.observe(np.array([[20.0, 30.0]]), 30, 30)
    with torch.no_grad():
        assert torch.allclose(run.model.encode(x), again.model.encode(x), atol=1e-6)
    assert again.settings == TINY
    with pytest.raises(ValueError, match="steps"):
        train_world_model(TINY, steps=-1)


#: the eq. 13 weights' names before "one name per weight" (issue 21): settings' keys, and term keys of
#: ``weights`` / ``history`` / ``final_losses``; the committed files were migrated once and nothing reads them
RETIRED_SETTINGS = {"std_coeff", "cov_coeff", "sim_coeff", "idm_coeff", "vicreg_std", "vicreg_cov", "sigreg_lambda"}
RETIRED_TERMS = {"std", "cov", "sim"}


def retired_names(obj, where: str = "") -> list[str]:
    """Where inside ``obj`` (a record, a card, a checkpoint's state) a retired weight name is a key."""
    if isinstance(obj, dict):
        parent = where.rsplit("/", 1)[-1]
        return [f"{where}/{k}" for k in obj
                if k in RETIRED_SETTINGS or (k in RETIRED_TERMS and parent in ("weights", "history", "final_losses"))] \
            + [hit for k, v in obj.items() for hit in retired_names(v, f"{where}/{k}")]
    if isinstance(obj, (list, tuple)):
        return [hit for i, v in enumerate(obj) for hit in retired_names(v, f"{where}[{i}]")]
    return []


def test_committed_records_cards_and_checkpoints_use_todays_names():
    """No committed record, model card or checkpoint carries a retired weight name, and every checkpoint stores
    all the settings the loader needs: its walk length too (the loader fills nothing in)."""
    from ebjepa_mini.train import load_checkpoint

    assert retired_names({"final_losses": {"std": 0.1}, "world_settings": {"std_coeff": 16.0}}) == [
        "/final_losses/std", "/world_settings/std_coeff"]                       # the check sees both kinds
    assert retired_names({"across_seeds": {"std": 0.1}}) == []                    # a spread may be called std
    root = Path(__file__).parents[1]
    files = sorted(root.glob("bench/results/**/*.json")) + sorted(PRETRAINED.parent.glob("*.json"))
    assert len(files) > 30
    for path in files:
        assert not retired_names(json.loads(path.read_text())), (path, retired_names(json.loads(path.read_text())))
    checkpoints = sorted(PRETRAINED.parent.glob("*.pt"))
    assert len(checkpoints) >= 3
    for path in checkpoints:
        state = load_checkpoint(path)
        assert not retired_names({k: v for k, v in state.items() if k != "state_dict"}), path
        s = state["settings"]
        assert "walk_len" in s and set(state["weights"]) == set(asdict(WorldWeights())), path
        assert {"variance", "covariance", "similarity"} <= set(state["history"]), path
        settings = WorldSettings(**{**s, "stacks": tuple(s["stacks"]), "weights": WorldWeights(**s["weights"])})
        assert load_world_model(path).settings == settings and settings.walk_len == s["walk_len"] >= s["clip_len"]


def test_committed_models_load_with_their_weights():
    """The committed models load with the eq. 13 weights they were trained with (α 16, β 8, δ 12, ω 1)."""
    for path in sorted(PRETRAINED.parent.glob("*.pt")):
        run = load_world_model(path)
        assert run.weights == run.settings.weights == WorldWeights(16.0, 8.0, 12.0, 1.0)
        assert {"pred", "variance", "covariance", "similarity", "idm"} <= set(run.history)


def test_world_weights_live_in_the_settings():
    w = get_preset("cpu").world.weights
    assert (w.variance, w.covariance, w.similarity, w.idm) == (16.0, 8.0, 12.0, 1.0)
    for bad in ({"idm": -1.0}, {"variance": float("nan")}, {"similarity": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            WorldWeights(**bad)


def test_pretrained_model_is_small_documented_and_plans_through_the_door():
    assert PRETRAINED.exists(), "run: python -m ebjepa_mini.bench world --preset cpu --save-model " + str(PRETRAINED)
    assert PRETRAINED.stat().st_size < 10e6
    meta = json.loads(PRETRAINED.with_suffix(".json").read_text())
    assert meta["sha256"] == file_sha256(PRETRAINED)
    for key in ("command", "hardware", "settings", "date"):
        assert key in meta
    run = load_world_model()
    assert run.settings == get_preset("cpu").world
    # planning with the learned model brings the dot much closer to goals in the OTHER room, and
    # reaches some of them (a model that ignored the dot would leave it where it started)
    plan = get_preset("ci").plan
    tasks = tr.sample_tasks(8, fixed_wall=run.settings.fixed_wall)
    res = evaluate(run.model, tasks, plan, seed=0)
    start_dist = np.linalg.norm(tasks["start"] - tasks["goal"], axis=1)
    assert res.final_distance.mean() < 0.5 * start_dist.mean(), res.summary()
    assert res.success.sum() >= 1, res.summary()
    assert res.paths.shape == (8, plan.max_steps + 1, 2)


def test_committed_model_imagines_the_wall_stopping_the_dot_and_the_door_letting_it_pass():
    """Judged in latent space (planning.wall_push_test): the model the chapters load learned the room."""
    from ebjepa_mini.planning import wall_push_test

    run = load_world_model()
    r = wall_push_test(run.model, n=200, fixed_wall=run.settings.fixed_wall)
    assert r["wall_stop"] >= 0.8 and r["door_pass"] >= 0.8, r


def test_gpu_model_is_carded_and_keeps_the_layout():
    from ebjepa_mini.world import layout_probe, pretrained_path

    path = pretrained_path("gpu")
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["sha256"] == file_sha256(path) and path.stat().st_size < 10e6
    assert card["preset"] == "gpu" and "H200" in card["hardware"] and card["settings"]["pool"] == 1
    run = load_world_model(path)
    # saved before long walks existed: its clips were generated whole, so its settings store walk_len = clip_len
    assert run.settings == replace(get_preset("gpu").world, walk_len=get_preset("gpu").world.clip_len)
    # unlike the cpu model, its latent holds the wall and the door (its record, world_gpu.json, says 0.92 / 0.93)
    kept = layout_probe(run.model, n=600).kept
    assert kept[2] > 0.6 and kept[3] > 0.6, kept
    with pytest.raises(ValueError, match="preset must be one of"):
        pretrained_path("paper")
    assert pretrained_path("cpu", tag="k8").name == "world_model_cpu-k8.pt"
    with pytest.raises(ValueError, match="tag must be None or one of"):
        pretrained_path("gpu", tag="k8")


def test_bench_world_loads_the_checkpoint_and_prints_the_summary_last(capsys, tmp_path):
    from ebjepa_mini import bench

    assert bench.main(["world", "--preset", "ci", "--checkpoint", str(PRETRAINED), "--episodes", "2",
                       "--planner", "cem", "--max-norm", "1.8", "--out", str(tmp_path / "w.json")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("preset", "success_rate", "episodes", "mean_final_distance", "train_wall_s", "plan_wall_s", "planner"):
        assert key in summary
    assert summary["planner"] == "cem" and summary["episodes"] == 2 and 0 <= summary["success_rate"] <= 1
    record = json.loads((tmp_path / "w.json").read_text())
    assert record["hardware"] and record["command"].startswith("python -m ebjepa_mini.bench world")
    assert record["plan_settings"]["max_norm"] == 1.8 and record["device"] == "cpu"
    # a loaded model's record says which command trained it
    assert record["model_trained_by"]["command"].startswith("python -m ebjepa_mini.bench world")
    with pytest.raises(SystemExit):
        bench.main(["world", "--preset", "ci", "--checkpoint", str(tmp_path / "missing.pt")])
    with pytest.raises(SystemExit):
        bench.main(["world", "--preset", "ci", "--planner", "gradient"])
    with pytest.raises(SystemExit):
        bench.main(["world", "--preset", "ci", "--max-norm", "0"])


def test_bench_world_oracle_refuses_model_options(capsys):
    from ebjepa_mini import bench

    for extra in (["--checkpoint", str(PRETRAINED)], ["--ablation", "idm"], ["--save-model", "m.pt"]):
        with pytest.raises(SystemExit):
            bench.main(["world", "--preset", "ci", "--oracle", *extra])
        assert "--oracle positions uses no world model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["world", "--preset", "ci", "--oracle", "decoder"])
    assert "invalid choice: 'decoder'" in capsys.readouterr().err


def test_ridge_probe_reads_a_linear_target_and_not_noise():
    from ebjepa_mini.probes import ridge_probe

    g = torch.Generator().manual_seed(0)
    x = torch.randn(800, 10, generator=g)
    y = torch.stack([x @ torch.arange(10.0) + 0.01 * torch.randn(800, generator=g), torch.randn(800, generator=g)], 1)
    r = ridge_probe(x[:600], y[:600], x[600:], y[600:])
    assert r.kept[0] > 0.99 and abs(r.kept[1]) < 0.1
    with pytest.raises(ValueError, match="ridge"):
        ridge_probe(x[:600], y[:600], x[600:], y[600:], ridge=-1.0)
    with pytest.raises(ValueError, match="train_y"):
        ridge_probe(x[:600], y[:500], x[600:], y[600:])


class _DotAndWallEncoder(torch.nn.Module):
    """Features: the dot's centroid and the wall column's position (no door)."""

    def encode(self, obs):
        grid = torch.arange(tr.SIZE, dtype=obs.dtype)
        dot = obs[:, 0] - obs[:, 0].amin((-1, -2), keepdim=True)
        w = dot / dot.sum((-1, -2), keepdim=True)
        walls = obs[:, 1] - obs[:, 1].amin((-1, -2), keepdim=True)
        col = walls[:, 10:55, 10:55].sum(-2)                     # inner wall: the heaviest inner columns
        wall = (col * grid[10:55]).sum(-1) / col.sum(-1)
        return torch.stack([(w.sum(-2) * grid).sum(-1), (w.sum(-1) * grid).sum(-1), wall], -1)


def test_layout_probe_pairs_each_target_with_its_feature():
    from ebjepa_mini.world import LAYOUT_TARGETS, layout_probe

    r = layout_probe(_DotAndWallEncoder(), n=400, seed=1)
    kept = dict(zip(LAYOUT_TARGETS, r.kept))
    assert kept["dot x"] > 0.95 and kept["dot y"] > 0.95 and kept["wall x"] > 0.9
    assert kept["door y"] < 0.2                                    # the features hold no door
    with pytest.raises(ValueError, match="test_frac"):
        layout_probe(_DotAndWallEncoder(), n=400, test_frac=1.5)


def test_bench_world_card_of_a_trained_model_points_to_the_record_of_its_evaluation(capsys, tmp_path):
    from ebjepa_mini import bench

    model, out = tmp_path / "m.pt", tmp_path / "w.json"
    assert bench.main(["world", "--preset", "ci", "--episodes", "2", "--save-model", str(model), "--out", str(out)]) == 0
    card = json.loads((tmp_path / "m.json").read_text())
    record = json.loads(out.read_text())
    assert card["sha256"] == file_sha256(model) and card["train_s"] == record["train_wall_s"]
    # a record names no folder of the machine (records.write_json): a file outside the repository by its name
    assert card["record"] == out.name and "evaluation" not in card and "success_rate" not in card
    assert str(tmp_path) not in json.dumps(card) + json.dumps(record)
    assert record["tasks"] == "sample_tasks(2, seed=1000, fixed_wall=True)"          # ci: one layout
    diag = {k for k in record["results"][0] if k.startswith(("kept_", "door_wins_", "drift_px_"))
            or k in ("wall_stop", "door_pass")}
    assert len(diag) == 11


@pytest.mark.parametrize("card_path", sorted(PRETRAINED.parent.glob("world_model_*.json")), ids=lambda p: p.stem)
def test_committed_model_cards_point_to_the_record_that_evaluated_them(card_path):
    card = json.loads(card_path.read_text())
    record = json.loads((Path(__file__).parents[1] / card["record"]).read_text())
    assert card["sha256"] == file_sha256(card_path.with_suffix(".pt")) and "evaluation" not in card
    assert record["command"] == card["command"] == record["model_trained_by"]["command"]
    assert record["episodes"] >= 100 and 0 <= record["success_rate"] <= 1


@pytest.mark.parametrize("layout,code_dim", [("learned", 4), ("walls", 2 * tr.SIZE)])
def test_layout_code_is_constant_in_a_clip_and_carried_by_the_predictor(layout, code_dim):
    """A layout code is computed from the walls once per clip, sits after the D moving dimensions and
    passes every predictor step unchanged; without one the MLP predictor keeps z at D."""
    small = dict(stacks=(4, 4, 4), blocks=1, latent_dim=8, idm_hidden=8, probe_hidden=8, pool=2, predictor="mlp",
                 pred_hidden=16)
    pos = np.array([[15.0, 20.0], [16.0, 21.0], [17.0, 22.0]])
    obs = tr.observe(pos, 30, 40)[None]                                   # [1, T=3, 2, 65, 65], one layout
    with torch.no_grad():
        m = WorldModel(layout=layout, layout_dim=4, **small).eval()
        z = m.encode(obs)
        assert z.shape == (1, 3, 8 + code_dim)
        assert torch.equal(z[0, 0, 8:], z[0, 2, 8:]) and not torch.equal(z[0, 0, :8], z[0, 2, :8])
        assert torch.allclose(m.encode(obs[:, 1]), z[:, 1], atol=1e-6)     # a single frame gives the same code
        nxt = m.predict(z[:, 0], torch.tensor([[1.0, -1.0]]))
        assert torch.equal(nxt[:, 8:], z[:, 0, 8:])
        plain = WorldModel(**small).eval()
        assert plain.predict(plain.encode(obs[:, 0]), torch.zeros(1, 2)).shape == (1, 8)
    with pytest.raises(ValueError, match="layout"):
        WorldModel(layout=layout, **{**small, "predictor": "gru"})


def test_walls_layout_code_shows_the_door_rows():
    """The "walls" code counts wall pixels per row and column, standardised over random layouts: the door's
    rows stand out from the other rows between the borders, and moving the door moves that dip."""
    m = WorldModel(stacks=(4,), blocks=1, latent_dim=4, idm_hidden=4, probe_hidden=4, pool=2, predictor="mlp",
                   pred_hidden=8, layout="walls")
    rows = {d: m.layout_code(tr.observe(np.array([[10.0, 10.0]]), 30, d)[:, 1])[0, :tr.SIZE] for d in (20, 40)}
    inside = slice(int(tr.BORDER[0]) + 1, int(tr.BORDER[1]))
    dips = {d: torch.nonzero(r[inside] < r[inside].max() - 0.5).flatten() + inside.start for d, r in rows.items()}
    for d, idx in dips.items():
        assert abs(idx.float().mean().item() - d) <= 0.5 and len(idx) == 2 * int(tr.DOOR_HALF) + 1
    assert (rows[40][dips[20]] - rows[20][dips[20]]).min() > 1          # a door row vs a wall row: > 1 spread
    assert torch.equal(rows[20][:inside.start - 1], torch.zeros(inside.start - 1))   # never-changing rows: 0
    with pytest.raises(ValueError, match="layout must be one of"):
        WorldModel(layout="map")
