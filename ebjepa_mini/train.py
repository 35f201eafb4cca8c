"""One training loop for the whole book, with atomic, resumable checkpoints.

:class:`Trainer` runs ``steps`` optimisation steps of a ``step_fn`` that returns
``(loss, terms)``; it records every term in ``history``, calls callbacks (live plots,
early stopping), shows a ``tqdm.auto`` progress bar, and stops with a clear message
when the loss becomes NaN or infinite. ``run`` can be called again to continue, and a
checkpoint written by :meth:`Trainer.save` resumes exactly where it stopped.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import tempfile
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import nn

from .records import hardware, write_json

__all__ = ["Trainer", "NonFiniteLossError", "save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION", "file_sha256",
           "RUNS_DIR", "RETRAIN_ENV", "run_path", "load_run", "commit_run"]

CHECKPOINT_VERSION = 1

StepFn = Callable[[], "tuple[torch.Tensor, dict[str, float]]"]
Callback = Callable[["Trainer", dict], "bool | None"]


class NonFiniteLossError(FloatingPointError):
    """Raised when the loss becomes NaN or infinite; the message names the step and the terms."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` with ``torch.save`` atomically (temp file in the same folder + rename).

    A crash while writing never leaves a truncated checkpoint at ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"version": CHECKPOINT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a checkpoint of a supported version.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path} is not an ebjepa_mini checkpoint of version {CHECKPOINT_VERSION}")
    return state


def file_sha256(path) -> str:
    """The sha256 of a file (the cards of committed models name it)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- train-or-load: the committed runs of the chapters' comparisons ---------------------------------

#: where committed runs live: ``FAMILY_NAME_KEY.pt`` and its card ``FAMILY_NAME_KEY.json``
RUNS_DIR = Path(__file__).parent / "assets" / "runs"
#: ``EBJEPA_RETRAIN=1`` makes every chapter train everything again instead of loading committed runs
RETRAIN_ENV = "EBJEPA_RETRAIN"


def run_path(family: str, name: str, settings: dict, seed: int, code_version: int, folder=None) -> Path:
    """Where the committed run of configuration ``name`` of an experiment ``family`` (``"image"``, ``"video"``)
    trained with these ``settings`` (a dict) and ``seed`` lives. The file name ends in a key hashed from
    all of them and the family's ``code_version`` (bumped when its model or training code changes), so a
    run is only ever loaded where the same code with the same settings would have trained it."""
    blob = json.dumps({"family": family, "name": name, "settings": settings, "seed": seed, "code": code_version},
                      sort_keys=True, default=list)
    return Path(folder or RUNS_DIR) / f"{family}_{name}_{hashlib.sha256(blob.encode()).hexdigest()[:10]}.pt"


def load_run(path: Path) -> dict[str, Any] | None:
    """The state of a committed run at ``path`` (:func:`run_path`), or ``None`` when there is none or
    ``EBJEPA_RETRAIN=1`` asks to train again."""
    if os.environ.get(RETRAIN_ENV, "0") not in ("", "0") or not Path(path).exists():
        return None
    return load_checkpoint(path)


def commit_run(path: Path, state: dict[str, Any], card: dict[str, Any], half: tuple[str, ...] = ()) -> Path:
    """Atomically write a run's ``state`` (its ``"state_dict"`` as float32; parameters whose name starts with
    a prefix in ``half`` as float16, to keep committed files small) and a JSON card beside it with the
    file's sha256, size, date and the machine's hardware plus ``card`` (command, settings)."""
    sd = {k: (v.detach().cpu().half() if v.is_floating_point() and k.startswith(half) else
              v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()).contiguous()
          for k, v in state["state_dict"].items()}
    save_checkpoint(path, {**state, "state_dict": sd})
    meta = {"file": Path(path).name, "sha256": file_sha256(path), "bytes": Path(path).stat().st_size,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "half_precision": list(half), "hardware": hardware(), **card}
    write_json(Path(path).with_suffix(".json"), meta)
    return Path(path)


class Trainer:
    """Runs optimisation steps and keeps the history.

    Args:
        modules: the ``nn.Module`` (or dict of named modules) being trained; saved in checkpoints.
        step_fn: called once per step with no arguments; draws its own batch and returns
            ``(loss, terms)`` where ``terms`` is a dict of floats to record.
        optimizer: a ``torch.optim`` optimizer over the modules' parameters.
        scheduler: optional LR scheduler stepped after every optimiser step.
        grad_clip: optional max global gradient norm.
        config: a JSON-able dict stored in checkpoints.

    Attributes:
        step: number of steps done so far.
        history: dict of lists; ``history["step"]`` and one list per recorded term.
    """

    def __init__(self, modules: nn.Module | dict[str, nn.Module], step_fn: StepFn,
                 optimizer: torch.optim.Optimizer, scheduler=None, grad_clip: float | None = None,
                 config: dict | None = None):
        self.modules = modules if isinstance(modules, dict) else {"model": modules}
        self.step_fn = step_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        if grad_clip is not None and grad_clip <= 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip}")
        self.grad_clip = grad_clip
        self.config = dict(config or {})
        self.step = 0
        self.history: dict[str, list] = defaultdict(list)

    def _params(self) -> Iterable[torch.nn.Parameter]:
        for m in self.modules.values():
            yield from m.parameters()

    def run(self, steps: int, callbacks: Iterable[Callback] = (), progress: bool | None = None,
            stop_event: threading.Event | None = None, desc: str = "training") -> dict[str, list]:
        """Run ``steps`` more steps (callbacks may return True to stop early).

        Args:
            steps: number of optimisation steps, >= 0.
            callbacks: ``cb(trainer, terms)`` after each step; returning True stops.
            progress: show a tqdm bar (default: only when ``steps >= 50``).
            stop_event: a ``threading.Event``; when set, training stops after the current step.

        Returns:
            ``history`` (dict of lists).

        Raises:
            NonFiniteLossError: if the loss is NaN/Inf (parameters are left as before that step).
        """
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        for m in self.modules.values():
            m.train()
        bar = None
        if progress or (progress is None and steps >= 50 and not os.environ.get("EBJEPA_NO_PROGRESS")):
            from tqdm.auto import tqdm
            bar = tqdm(total=steps, desc=desc, leave=False)
        try:
            for _ in range(steps):
                if stop_event is not None and stop_event.is_set():
                    break
                loss, terms = self.step_fn()
                if not torch.isfinite(loss):
                    shown = ", ".join(f"{k}={v:.4g}" for k, v in terms.items())
                    raise NonFiniteLossError(
                        f"loss became {loss.item()} at step {self.step + 1} ({shown}). Training stopped before "
                        f"the update; try a lower learning rate or smaller regulariser weights.")
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(list(self._params()), self.grad_clip)
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.step += 1
                self.history["step"].append(self.step)
                for k, v in terms.items():
                    self.history[k].append(float(v))
                if bar is not None:
                    bar.update(1)
                    if self.step % 10 == 0:
                        bar.set_postfix(loss=f"{terms.get('total', loss.item()):.4g}")
                stop = False
                for cb in callbacks:
                    stop = bool(cb(self, terms)) or stop
                if stop:
                    break
        finally:
            if bar is not None:
                bar.close()
        return self.history

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "step": self.step,
            "history": {k: list(v) for k, v in self.history.items()},
            "config": self.config,
            "rng": torch.get_rng_state(),
        }

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> Path:
        """Atomically write a resumable checkpoint (modules, optimiser, step, history, config)."""
        state = self.state_dict()
        state["metrics"] = dict(metrics or {})
        return save_checkpoint(path, state)

    def load(self, path: str | os.PathLike) -> dict[str, Any]:
        """Restore a checkpoint written by :meth:`save` (``weights_only=True``); returns it."""
        state = load_checkpoint(path)
        missing = set(self.modules) ^ set(state["modules"])
        if missing:
            raise ValueError(f"checkpoint modules {sorted(state['modules'])} do not match trainer modules "
                             f"{sorted(self.modules)}")
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.history = defaultdict(list, {k: list(v) for k, v in state["history"].items()})
        if state.get("rng") is not None:
            torch.set_rng_state(state["rng"])
        return state


def warmup_cosine(total_steps: int, warmup_frac: float = 0.1, floor: float = 0.0):
    """LR multiplier: linear warm-up over ``warmup_frac`` of the steps, then half-cosine to ``floor``.

    Use with ``torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(T))``.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    warm = max(1, int(round(warmup_frac * total_steps)))

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = min(1.0, (step - warm) / max(1, total_steps - warm))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
    return f


__all__.append("warmup_cosine")
