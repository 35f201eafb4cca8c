"""The training loop: atomic checkpoints, weights_only loading, exact resume, the NaN guard,
early-stopping callbacks and the warm-up + cosine schedule."""
from __future__ import annotations

import math
import pickle

import pytest
import torch
from torch import nn

from ebjepa_mini import train as T
from ebjepa_mini.train import NonFiniteLossError, Trainer, load_checkpoint, save_checkpoint, warmup_cosine

W_TRUE = torch.tensor([[1.0, -2.0, 0.5]])


def make_trainer(seed: int = 0, total_steps: int = 40):
    """Tiny linear regression; batches come from the global RNG (saved in checkpoints)."""
    torch.manual_seed(seed)
    model = nn.Linear(3, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(total_steps, 0.1, 0.1))

    def step():
        x = torch.randn(16, 3)
        y = x @ W_TRUE.T + 0.3
        loss = ((model(x) - y) ** 2).mean()
        return loss, {"total": loss.item(), "lr": opt.param_groups[0]["lr"]}

    return Trainer(model, step, opt, scheduler=sched, config={"task": "linreg"}), model


def params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# --------------------------------------------------------------------------------- checkpoints
def test_save_and_load_checkpoint_round_trip(tmp_path):
    state = {"weights": torch.arange(6.0).view(2, 3), "step": 7, "note": "hello", "nested": {"a": [1, 2.5]}}
    path = save_checkpoint(tmp_path / "sub" / "ck.pt", state)
    assert path.exists() and path.parent.name == "sub"
    loaded = load_checkpoint(path)
    assert loaded["version"] == T.CHECKPOINT_VERSION
    assert torch.equal(loaded["weights"], state["weights"])
    assert loaded["step"] == 7 and loaded["note"] == "hello" and loaded["nested"] == {"a": [1, 2.5]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["ck.pt"]          # no temp file left behind


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b"partial bytes of a checkpoint")     # a truncated write ...
        raise RuntimeError("disk full")               # ... then a crash mid-write

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(path, {"w": torch.ones(3)})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []

    # an existing checkpoint survives a failed overwrite
    monkeypatch.setattr(torch, "save", real_save)
    save_checkpoint(path, {"w": torch.full((3,), 2.0)})
    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(RuntimeError):
        save_checkpoint(path, {"w": torch.zeros(3)})
    monkeypatch.setattr(torch, "save", real_save)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]
    assert torch.equal(load_checkpoint(path)["w"], torch.full((3,), 2.0))


class Arbitrary:
    """Not a tensor or a plain container: weights_only loading must refuse it."""

    def __init__(self):
        self.payload = "anything"


def test_load_checkpoint_is_weights_only(tmp_path):
    path = save_checkpoint(tmp_path / "evil.pt", {"obj": Arbitrary()})
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)
    # the same file loads with the unsafe loader, so weights_only is what refused it
    assert isinstance(torch.load(path, weights_only=False)["obj"], Arbitrary)


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "foreign.pt")                   # no version key
    with pytest.raises(ValueError, match="version"):
        load_checkpoint(tmp_path / "foreign.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="version"):
        load_checkpoint(tmp_path / "list.pt")


# ------------------------------------------------------------------------------------- Trainer
def test_trainer_learns_linear_regression():
    trainer, model = make_trainer(total_steps=200)
    hist = trainer.run(200, progress=False)
    assert hist["step"] == list(range(1, 201))
    assert len(hist["total"]) == 200
    assert hist["total"][-1] < 0.01 * hist["total"][0]
    torch.testing.assert_close(model.weight.detach(), W_TRUE, atol=0.05, rtol=0)
    assert trainer.step == 200


def test_trainer_resume_is_exact(tmp_path):
    a, model_a = make_trainer(seed=0)
    a.run(20)
    path = a.save(tmp_path / "ck.pt", metrics={"probe": 0.5})
    a.run(20)

    b, model_b = make_trainer(seed=123)                   # different init and RNG state
    assert not all(torch.equal(p, q) for p, q in zip(params(model_a), params(model_b)))
    state = b.load(path)
    assert state["metrics"] == {"probe": 0.5} and state["config"] == {"task": "linreg"}
    assert b.step == 20
    b.run(20)

    assert b.step == a.step == 40
    for p, q in zip(params(model_a), params(model_b)):
        assert torch.equal(p, q)
    assert dict(b.history) == dict(a.history)
    assert b.scheduler.last_epoch == a.scheduler.last_epoch == 40
    assert b.optimizer.param_groups[0]["lr"] == a.optimizer.param_groups[0]["lr"]


def test_trainer_load_rejects_mismatched_modules(tmp_path):
    a, _ = make_trainer()
    path = a.save(tmp_path / "ck.pt")
    model = nn.Linear(3, 1)
    other = Trainer({"encoder": model}, lambda: None, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="modules"):
        other.load(path)


def test_nan_guard_names_step_and_keeps_parameters():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = {"n": 0}

    def step():
        calls["n"] += 1
        loss = model(torch.ones(4, 3)).pow(2).mean()
        if calls["n"] == 3:
            loss = loss * float("nan")
        return loss, {"total": loss.item()}

    trainer = Trainer(model, step, opt)
    trainer.run(2)
    before = params(model)
    with pytest.raises(NonFiniteLossError, match="step 3") as err:
        trainer.run(5)
    assert "nan" in str(err.value).lower()
    assert isinstance(err.value, FloatingPointError)
    assert trainer.step == 2 and trainer.history["step"] == [1, 2]
    for p, q in zip(before, params(model)):
        assert torch.equal(p, q)


def test_inf_loss_is_also_caught():
    model = nn.Linear(1, 1)
    trainer = Trainer(model, lambda: (model.weight.sum() * float("inf"), {}),
                      torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(NonFiniteLossError, match="step 1"):
        trainer.run(1)


def test_callbacks_can_stop_early():
    trainer, _ = make_trainer()
    seen = []

    def cb(tr, terms):
        seen.append((tr.step, "total" in terms))
        return tr.step == 5

    hist = trainer.run(20, callbacks=[cb, lambda tr, terms: None])
    assert trainer.step == 5
    assert hist["step"] == [1, 2, 3, 4, 5]
    assert seen == [(i, True) for i in range(1, 6)]
    trainer.run(3)                                   # run again to continue
    assert trainer.history["step"] == list(range(1, 9))


def test_trainer_grad_clip_limits_update():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    trainer = Trainer(model, lambda: ((model.weight * 100.0).sum(), {}), opt, grad_clip=0.5)
    trainer.run(1)
    assert model.weight.item() == pytest.approx(-0.5, rel=1e-5)       # gradient 100 clipped to norm 0.5


def test_trainer_bad_arguments():
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="grad_clip"):
        Trainer(model, lambda: None, opt, grad_clip=0.0)
    trainer = Trainer(model, lambda: None, opt)
    with pytest.raises(ValueError, match="steps"):
        trainer.run(-1)
    with pytest.raises(ValueError, match="steps"):
        trainer.run(2.5)


def test_trainer_stop_event():
    import threading

    trainer, _ = make_trainer()
    ev = threading.Event()
    trainer.run(3, callbacks=[lambda tr, terms: ev.set() if tr.step == 2 else None], stop_event=ev)
    assert trainer.step == 2


# ------------------------------------------------------------------------------- warm-up cosine
def test_warmup_cosine_values():
    f = warmup_cosine(100, warmup_frac=0.1, floor=0.05)
    warm = [f(s) for s in range(10)]
    assert warm == pytest.approx([(s + 1) / 10 for s in range(10)])        # linear warm-up to 1
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.05 + 0.95 * 0.5)                         # half-way down the cosine
    assert f(55) == pytest.approx(0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * 45 / 90)))
    assert f(100) == pytest.approx(0.05)
    assert f(500) == pytest.approx(0.05)                                     # stays at the floor
    decay = [f(s) for s in range(10, 101)]
    assert all(x >= y - 1e-12 for x, y in zip(decay, decay[1:]))


def test_warmup_cosine_with_lambda_lr_and_bad_total():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(20, 0.25))
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:5] == pytest.approx([0.4, 0.8, 1.2, 1.6, 2.0])
    assert lrs[-1] < 0.05
    with pytest.raises(ValueError, match="total_steps"):
        warmup_cosine(0)
