"""Train-or-load (chapters 3 and 4): a committed run is loaded only where the same code with the same
settings, data and seed would have trained it, reproduces the trained run's numbers, and every committed
run's card names its file's sha256, size, command and settings."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import ebjepa_mini.train as train_mod
from ebjepa_mini.image import ImageExperiment
from ebjepa_mini.presets import get_preset
from ebjepa_mini.train import RUNS_DIR, file_sha256, load_checkpoint, run_path
from ebjepa_mini.video import VideoExperiment

from test_video import TINY

SMALL_IMAGE = replace(get_preset("ci").image, widths=(4, 4, 4, 8, 8), n_train=64, n_test=64, batch_size=16, steps=3,
                      sweep_steps=2, proj_hidden=16, vicreg_dim=16, sigreg_dim=8, num_slices=8, probe_iters=5)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(train_mod, "RUNS_DIR", tmp_path)
    monkeypatch.delenv("EBJEPA_RETRAIN", raising=False)
    return tmp_path


def test_image_run_is_loaded_only_with_its_settings_and_reproduces_them(runs_dir, monkeypatch):
    exp = ImageExperiment("ci", settings=SMALL_IMAGE, device="cpu")
    trained = exp.train("vicreg", progress=False)
    with pytest.raises(ValueError, match="not committed"):
        exp.commit(exp.train("sigreg", steps=1, progress=False), "test")      # not the settings' step count
    path = exp.commit(trained, "python -m ebjepa_mini.bench image --commit-runs")
    assert path.parent == runs_dir and json.loads(path.with_suffix(".json").read_text())["sha256"] == file_sha256(path)
    loaded = exp.load_or_train("vicreg")
    assert loaded.loaded == path.name and loaded.steps == trained.steps and loaded.history == trained.history
    assert loaded.probe_acc == trained.probe_acc and loaded.effective_rank == pytest.approx(trained.effective_rank)
    assert loaded.proj_std == pytest.approx(trained.proj_std, rel=1e-2)           # projector stored in float16
    monkeypatch.setenv("EBJEPA_RETRAIN", "1")                                      # the switch: train again
    assert ImageExperiment("ci", settings=SMALL_IMAGE, device="cpu").load_or_train("vicreg").loaded is None
    monkeypatch.delenv("EBJEPA_RETRAIN")
    other = ImageExperiment("ci", settings=replace(SMALL_IMAGE, lr=1e-3), device="cpu")
    assert other.run_file("vicreg") != path and other.load_or_train("vicreg").loaded is None
    assert ImageExperiment("ci", seed=1, settings=SMALL_IMAGE, device="cpu").run_file("vicreg") != path


def test_video_run_round_trip(runs_dir):
    exp = VideoExperiment("ci", settings=TINY, device="cpu")
    trained = exp.train(1, progress=False)
    exp.commit(trained, "test")
    loaded = VideoExperiment("ci", settings=TINY, device="cpu").load_or_train(1)
    assert loaded.loaded == exp.run_file(1).name and loaded.ap == trained.ap and loaded.seconds == trained.seconds
    assert VideoExperiment("ci", settings=TINY, device="cpu").load_or_train(4).loaded is None   # none committed


COMMITTED = sorted(RUNS_DIR.glob("*.pt"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_runs_match_their_cards(path):
    """Every committed run: its card's sha256 and size, a ``weights_only`` load, and a file name that is the
    key of the card's settings (so ``load_or_train`` finds it exactly when those settings are asked for)."""
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["sha256"] == file_sha256(path) and card["bytes"] == path.stat().st_size < 7e6
    assert card["command"].startswith("python -m ebjepa_mini.bench ") and "--commit-runs" in card["command"]
    family = path.name.split("_")[0]
    settings = {**card["settings"], "data": card["data"]}
    name = f"K{card['k']}" if family == "video" else card["name"]
    assert run_path(family, name, settings, card["seed"], card["code_version"]).name == path.name
    state = load_checkpoint(path)
    assert state["steps"] == card["summary"]["steps"] and state["state_dict"]


def test_committed_runs_are_the_cpu_presets_and_small():
    """The chapters under ``cpu`` find a committed run for each trained comparison; all runs stay small."""
    if not COMMITTED:
        pytest.skip("no committed runs")
    total = sum(p.stat().st_size for p in COMMITTED)
    total += sum(p.stat().st_size for p in RUNS_DIR.parent.glob("*.pt"))             # and the world models
    assert total < 25e6, f"committed models take {total / 1e6:.1f} MB"
    cards = [json.loads(p.with_suffix(".json").read_text()) for p in COMMITTED]
    image = {c["name"] for c in cards if "image" in c["command"]}
    video = {c["name"] for c in cards if "video" in c["command"]}
    assert image >= {"vicreg", "sigreg", "sigreg_lambda_0.1"} and video >= {"K4"}   # the others train live
    cpu = get_preset("cpu")
    for c in cards:
        want = cpu.image if "image" in c["command"] else cpu.video
        got = {k: tuple(v) if isinstance(v, list) else v for k, v in c["settings"].items()}
        assert got == {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in
                       __import__("dataclasses").asdict(want).items()}, c["file"]
