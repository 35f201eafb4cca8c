"""The image-JEPA experiment of chapter 3: VICReg vs SIGReg on CIFAR-10, judged by a linear probe.

:class:`ImageExperiment` builds the encoder + projector, optimiser and schedule from
``preset.image`` (:class:`~ebjepa_mini.presets.ImageSettings`), trains one configuration with
:class:`~ebjepa_mini.train.Trainer` on two augmented views per image (paper eq. 2; augmentations as in
the reference code (see :doc:`/book/paper_and_book`)), and
evaluates the frozen encoder: linear-probe top-1 (:func:`~ebjepa_mini.probes.linear_probe`),
effective rank and covariance spectrum (:mod:`ebjepa_mini.metrics`). The ``image`` benchmark
(``python -m ebjepa_mini.bench image``) and the chapter call exactly this code.

Configuration names (:func:`config_weights`): ``"vicreg"``, ``"sigreg"``, ``"random_init"``
(no training), ``"none"`` (invariance only), ``"sigreg_lambda_<x>"`` and
``"vicreg_std<a>_cov<b>"`` (e.g. ``"sigreg_lambda_0.1"``, ``"vicreg_std100_cov100"``).
"""
from __future__ import annotations

import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import experiment_setup
from .data.sources import load_cifar10
from .data.views import ViewAugment, to_float_images
from .jepa import ImageJEPA
from .metrics import covariance_spectrum, effective_rank, per_dim_std
from .nets import ConvEncoder, cifar_resnet18, projector
from .optim import LARS
from .presets import ImageSettings
from .probes import ProbeResult, linear_probe
from .regularizers import RegularizerWeights, two_view_loss
from .train import NonFiniteLossError, Trainer, commit_run, load_run, run_path, warmup_cosine

__all__ = ["ImageExperiment", "ImageRun", "BENCH_CONFIGS", "HEALTHY_CONFIGS", "config_weights", "build_encoder",
           "build_optimizer"]

#: The configurations of the ``image`` benchmark, in the order they run.
BENCH_CONFIGS = ("random_init", "vicreg", "sigreg", "sigreg_lambda_0.1", "vicreg_std100_cov100")
#: Configurations trained for ``settings.steps`` (the others, the sensitivity runs, for ``sweep_steps``).
HEALTHY_CONFIGS = ("vicreg", "sigreg")
CODE_VERSION = 1     # bump when a code change would change a trained run: committed runs of older code are not loaded

_SIG_RE = re.compile(r"^sigreg_lambda_([0-9.eE+-]+)$")
_VIC_RE = re.compile(r"^vicreg_std([0-9.eE+-]+)_cov([0-9.eE+-]+)$")


def config_weights(name: str, settings: ImageSettings) -> tuple[RegularizerWeights | None, int, str]:
    """Loss weights, projector output dimension and family (``"vicreg"``/``"sigreg"``/``"none"``) of a config.

    Returns ``(None, dim, "none")`` for ``"random_init"`` (no training).

    Raises:
        ValueError: for a name that is none of the forms listed in the module docstring.
    """
    s = settings
    if name == "random_init":
        return None, s.vicreg_dim, "none"
    if name == "none":
        return RegularizerWeights(), s.vicreg_dim, "none"
    if name == "vicreg":
        return RegularizerWeights(variance=s.variance, covariance=s.covariance), s.vicreg_dim, "vicreg"
    if name == "sigreg":
        return RegularizerWeights(sigreg=s.sigreg), s.sigreg_dim, "sigreg"
    m = _SIG_RE.match(name)
    if m:
        return RegularizerWeights(sigreg=float(m.group(1))), s.sigreg_dim, "sigreg"
    m = _VIC_RE.match(name)
    if m:
        return (RegularizerWeights(variance=float(m.group(1)), covariance=float(m.group(2))), s.vicreg_dim,
                "vicreg")
    raise ValueError(f"unknown image config {name!r}; use 'vicreg', 'sigreg', 'random_init', 'none', "
                     f"'sigreg_lambda_<x>' or 'vicreg_std<a>_cov<b>'")


def build_encoder(settings: ImageSettings) -> nn.Module:
    """``"convnet"``: :class:`~ebjepa_mini.nets.ConvEncoder` with ``settings.widths`` and strides
    (1, 2, 1, 2, 2, 1, ...); ``"resnet18"``: the CIFAR ResNet-18 of the reference code."""
    if settings.encoder == "convnet":
        strides = ((1, 2, 1, 2, 2) + (1,) * len(settings.widths))[:len(settings.widths)]
        return ConvEncoder(3, settings.widths, strides)
    if settings.encoder == "resnet18":
        return cifar_resnet18(3)
    raise ValueError(f"settings.encoder must be 'convnet' or 'resnet18', got {settings.encoder!r}")


def build_optimizer(model: nn.Module, settings: ImageSettings, total_steps: int):
    """Optimiser and per-step warm-up + cosine schedule (``LambdaLR``) for ``total_steps`` steps.

    ``"adamw"``: AdamW on every parameter (the small presets). ``"lars"``: :class:`~ebjepa_mini.optim.LARS`
    (momentum 0.9, eta 0.02, as in the reference code; paper Table 5).
    The schedule is evaluated *before* each step (step 0 runs
    at ``lr / warmup_steps``), so it has none of the reference's one-epoch shift.
    """
    if settings.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    elif settings.optimizer == "lars":
        opt = LARS(model.parameters(), lr=settings.lr, momentum=0.9, weight_decay=settings.weight_decay, eta=0.02)
    else:
        raise ValueError(f"settings.optimizer must be 'adamw' or 'lars', got {settings.optimizer!r}")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(max(1, total_steps), settings.warmup_frac))
    return opt, sched


@dataclass
class ImageRun:
    """One trained (or untrained) configuration, evaluated."""

    name: str
    family: str                  # "vicreg", "sigreg" or "none" (colour in plots)
    weights: dict | None
    steps: int
    seconds: float               # training wall time
    history: dict                # per-step loss terms and "lr"
    probe: ProbeResult
    effective_rank: float        # RankMe (uncentred) of test encoder features
    effective_rank_centered: float
    spectrum: np.ndarray         # covariance eigenvalues of test encoder features, largest first
    proj_std: float              # mean per-dimension std of projector outputs (test images)
    z_proj: torch.Tensor         # projector outputs of up to 1024 test images [n, P]
    diverged_at: int | None = None   # the step whose loss was NaN/inf (training stopped there), else None
    model: ImageJEPA | None = field(default=None, repr=False)
    loaded: str | None = None    # the committed run's file when it was loaded, not trained (train-or-load)

    @property
    def probe_acc(self) -> float:
        return self.probe.test_acc

    def summary(self) -> dict:
        return {"name": self.name, "probe_acc": round(self.probe.test_acc, 4),
                "probe_train_acc": round(self.probe.train_acc, 4), "probe_wd": self.probe.weight_decay,
                "effective_rank": round(self.effective_rank, 2),
                "effective_rank_centered": round(self.effective_rank_centered, 2),
                "proj_std": round(self.proj_std, 4), "steps": self.steps, "train_s": round(self.seconds, 1),
                "steps_per_s": round(self.steps / self.seconds, 3) if self.seconds > 0 else None,
                **({"diverged_at": self.diverged_at} if self.diverged_at is not None else {})}

    def __str__(self) -> str:
        return (f"{self.name:22s} probe {self.probe.test_acc:6.1%}  eff. rank {self.effective_rank:6.1f}  "
                f"proj std {self.proj_std:.3f}  ({self.steps} steps, {self.seconds:.0f} s)")


class ImageExperiment:
    """Train and probe image JEPAs on CIFAR-10 (chapter 3).

    Args:
        preset: preset name or ``None`` (``EBJEPA_PRESET`` or the device); sizes from ``preset.image``.
        seed: seed of initialisation, batches, views and SIGReg directions.
        settings: an :class:`~ebjepa_mini.presets.ImageSettings` replacing the preset's.
        device: torch device (default ``None``: :func:`~ebjepa_mini.get_device` picks
            ``EBJEPA_DEVICE``, else CUDA, MPS, CPU).
        allow_fallback: without the CIFAR-10 files, use the offline fallback images.

    Usage::

        exp = ImageExperiment("ci")
        run = exp.train("sigreg")
        print(run)                 # probe top-1, effective rank, ...
    """

    def __init__(self, preset: str | None = None, seed: int = 0, settings: ImageSettings | None = None,
                 device=None, allow_fallback: bool = True):
        self.preset, self.cfg, self.device = experiment_setup(preset, "image", settings, seed, device)
        self.seed = seed
        data = load_cifar10(prefer_full=self.cfg.n_train > 10_000, allow_fallback=allow_fallback)
        self.data_source = data.source
        self.is_fallback = data.is_fallback
        n_tr = min(self.cfg.n_train, len(data.x_train))
        n_te = min(self.cfg.n_test, len(data.x_test))
        # a class-balanced-in-expectation fixed subset: the first n rows of a seeded permutation
        ptr = np.random.default_rng(seed).permutation(len(data.x_train))[:n_tr]
        pte = np.random.default_rng(seed + 1).permutation(len(data.x_test))[:n_te]
        self.images = to_float_images(data.x_train[ptr], self.device)
        self.labels = torch.as_tensor(data.y_train[ptr])
        self.test_images = to_float_images(data.x_test[pte], self.device)
        self.test_labels = torch.as_tensor(data.y_test[pte])
        self.augment = ViewAugment(hue=self.cfg.hue)
        self.runs: dict[str, ImageRun] = {}
        self.last_trainer: Trainer | None = None

    # -- building -------------------------------------------------------------------------------
    def model(self, name: str) -> ImageJEPA:
        """A freshly initialised encoder + projector for config ``name`` (seeded)."""
        _, dim, _ = config_weights(name, self.cfg)
        torch.manual_seed(self.seed)
        enc = build_encoder(self.cfg)
        proj = projector(enc.out_dim, self.cfg.proj_hidden, dim) if self.cfg.proj_hidden else nn.Identity()
        model = ImageJEPA(enc, proj).to(self.device)
        if self.cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def steps_for(self, name: str) -> int:
        """Training steps of a config: ``steps`` for vicreg/sigreg, ``sweep_steps`` otherwise, 0 for random_init."""
        if name == "random_init":
            return 0
        return self.cfg.steps if name in HEALTHY_CONFIGS else self.cfg.sweep_steps

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    # -- training -------------------------------------------------------------------------------
    def train(self, name: str, steps: int | None = None, progress: bool | None = None,
              model: nn.Module | None = None, checkpoint: str | None = None, save_every: int = 1000) -> ImageRun:
        """Train config ``name`` from a fresh initialisation, then evaluate; stores it in :attr:`runs`.

        Args:
            name: a configuration name (see :func:`config_weights`).
            steps: override the preset's step count (0 evaluates the initial model).
            progress: tqdm bar (default: the Trainer's choice).
            model: train this model instead of a fresh one (e.g. a custom projector).
            checkpoint: a file path; the run is saved there atomically every ``save_every`` steps and at
                the end (:meth:`Trainer.save`), and an existing checkpoint is resumed (model, optimiser,
                schedule, step; the batch order restarts with a fresh permutation).
            save_every: checkpoint period in steps (>= 1).
        """
        weights, _, family = config_weights(name, self.cfg)
        steps = self.steps_for(name) if steps is None else steps
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        model = self.model(name) if model is None else model
        history: dict = {}
        secs = 0.0
        diverged = None
        done = 0                                  # optimiser steps taken
        if weights is not None and steps > 0:
            s = self.cfg
            opt, sched = build_optimizer(model, s, steps)
            gen = torch.Generator().manual_seed(self.seed + 1)
            sig_gen = torch.Generator()
            n = len(self.images)
            bs = min(s.batch_size, n)
            state = {"perm": None, "pos": n, "k": 0}
            amp = s.amp and self.device.type == "cuda"

            def step_fn():
                if state["pos"] + bs > n:                     # new epoch: fresh permutation, drop last
                    state["perm"], state["pos"] = torch.randperm(n, generator=gen), 0
                idx = state["perm"][state["pos"]:state["pos"] + bs].to(self.device)
                state["pos"] += bs
                x = self.images[idx]
                v = self._prep(torch.cat([self.augment(x, gen), self.augment(x, gen)]))
                sig_gen.manual_seed(10_000 + state["k"])      # new directions every step, shared by both views
                state["k"] += 1
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                    r = model(v)
                r1, r2 = r.float().chunk(2)
                loss, terms = two_view_loss(r1, r2, invariance=weights.invariance, variance=weights.variance,
                                            covariance=weights.covariance, sigreg=weights.sigreg,
                                            num_slices=s.num_slices, generator=sig_gen)
                terms["lr"] = opt.param_groups[0]["lr"]
                return loss, terms

            trainer = Trainer(model, step_fn, opt, sched, config={"name": name, "settings": asdict(s)})
            callbacks = []
            if checkpoint is not None:
                if not isinstance(save_every, int) or save_every < 1:
                    raise ValueError(f"save_every must be an int >= 1, got {save_every!r}")
                if Path(checkpoint).exists():
                    trainer.load(checkpoint)
                    state["k"] = trainer.step

                def saver(tr, _terms):
                    if tr.step % save_every == 0:
                        tr.save(checkpoint)

                callbacks.append(saver)
            t0 = time.perf_counter()
            try:
                trainer.run(max(0, steps - trainer.step), callbacks=callbacks, progress=progress, desc=name)
            except NonFiniteLossError as exc:     # a result too (e.g. weights far too large): evaluate
                diverged = trainer.step + 1       # the last finite weights, say where it stopped
                warnings.warn(f"{name}: {exc} Evaluating the weights before that step.", RuntimeWarning)
            secs = time.perf_counter() - t0
            if checkpoint is not None:
                trainer.save(checkpoint)
            history = {k: list(v) for k, v in trainer.history.items()}
            self.last_trainer = trainer
            done = trainer.step
        run = self.evaluate(model, name, family, done, secs, history, asdict(weights) if weights is not None else None)
        run.diverged_at = diverged
        self.runs[name] = run
        return run

    # -- train-or-load --------------------------------------------------------------------------
    def run_file(self, name: str) -> Path:
        """Where the committed run of config ``name`` with these settings, data and seed lives."""
        return run_path("image", name, {**asdict(self.cfg), "data": self.data_source}, self.seed, CODE_VERSION)

    def load_or_train(self, name: str, progress: bool | None = None) -> ImageRun:
        """Train-or-load: evaluate the committed run of ``name`` when one was trained with exactly these
        settings, data, seed and code (:meth:`run_file`; ``EBJEPA_RETRAIN=1`` refuses it), else :meth:`train`.
        A loaded run keeps the training history and time of the run that made it; its ``loaded`` names the file."""
        weights, _, family = config_weights(name, self.cfg)
        path = self.run_file(name)
        state = load_run(path) if self.steps_for(name) > 0 else None
        if state is None:
            return self.train(name, progress=progress)
        model = self.model(name)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["state_dict"].items()})
        run = self.evaluate(model, name, family, state["steps"], state["seconds"], state["history"],
                            asdict(weights) if weights is not None else None)
        run.diverged_at, run.loaded = state.get("diverged_at"), path.name
        self.runs[name] = run
        return run

    def commit(self, run: ImageRun, command: str) -> Path:
        """Write ``run`` where :meth:`load_or_train` finds it, with its card (projector weights in float16)."""
        if run.model is None or not run.steps or run.steps != self.steps_for(run.name):
            raise ValueError(f"run {run.name!r} trained {run.steps} steps, not the settings' {self.steps_for(run.name)}: "
                             "not committed")
        state = {"state_dict": run.model.state_dict(), "steps": run.steps, "seconds": run.seconds,
                 "history": run.history, "diverged_at": run.diverged_at}
        card = {"command": command, "name": run.name, "seed": self.seed,
                "data": self.data_source, "settings": asdict(self.cfg), "code_version": CODE_VERSION,
                "summary": run.summary()}
        return commit_run(self.run_file(run.name), state, card, half=("projector.",))

    @torch.no_grad()
    def features(self, model: ImageJEPA, images: torch.Tensor, projected: bool = False) -> torch.Tensor:
        """Frozen features of unaugmented images (eval mode, BatchNorm running statistics), on CPU."""
        was = model.training
        model.eval()
        out = []
        for i in range(0, len(images), 1024):
            x = self._prep(self.augment.standardize(images[i:i + 1024]))
            h = model.encoder(x)
            out.append((model.projector(h) if projected else h).float().cpu())
        model.train(was)
        return torch.cat(out)

    def evaluate(self, model: ImageJEPA, name: str = "model", family: str = "none", steps: int = 0,
                 seconds: float = 0.0, history: dict | None = None, weights: dict | None = None) -> ImageRun:
        """Probe accuracy, effective rank, spectrum and projector spread of a (frozen) model."""
        s = self.cfg
        f_tr = self.features(model, self.images)
        f_te = self.features(model, self.test_images)
        dev = self.device if self.device.type == "cuda" else "cpu"   # the LBFGS probe runs where the model does
        probe = linear_probe(f_tr.to(dev), self.labels, f_te.to(dev), self.test_labels, s.probe_wds,
                             max_iter=s.probe_iters, seed=self.seed)
        z = self.features(model, self.test_images[:1024], projected=True)
        return ImageRun(name, family, weights, steps, seconds, history or {}, probe,
                        effective_rank(f_te, centered=False), effective_rank(f_te, centered=True),
                        covariance_spectrum(f_te), float(per_dim_std(z).mean()), z, model=model)

    def compare(self, names=BENCH_CONFIGS, progress: bool | None = None, log=None) -> dict[str, ImageRun]:
        """Train and evaluate several configurations in turn; ``log(run)`` after each."""
        out = {}
        for name in names:
            out[name] = self.train(name, progress=progress)
            if log is not None:
                log(out[name])
        return out
