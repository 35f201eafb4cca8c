"""Video JEPA on Moving MNIST: the model, the K-step rollout loss and the experiment (chapter 4).

EB-JEPA's video example (paper eqs. 3, 9-11 and Table 6; as in the reference code, see
:doc:`/book/paper_and_book`), sized by ``preset.video``, built from the networks of :mod:`ebjepa_mini.nets`
(:class:`~ebjepa_mini.nets.ResNet5` encoder, :class:`~ebjepa_mini.nets.PairPredictor`,
:class:`~ebjepa_mini.nets.VideoProjector`, read-out heads trained on detached features).
:func:`~ebjepa_mini.rollout.rollout` re-feeds predictions ``K`` times in the reference's "parallel" mode,
:func:`video_jepa_loss` is the objective (every (clip, frame, row, column) position a sample,
:func:`positions`), and :class:`VideoExperiment` trains and scores the models of the chapter and of
``python -m ebjepa_mini.bench video`` (:func:`~ebjepa_mini.metrics.average_precision_by_horizon`).
Clips are ``x: [B, T, C, H, W]``, representations ``z: [B, T, D, H, W]`` (time at dim 1, so folding
it into the batch is a free reshape; the reference stores time at dim 2, ``[B, C, T, H, W]``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import experiment_setup
from .data.moving_mnist import MovingMNIST
from .metrics import average_precision_by_horizon
from .nets import (DetectionHead, PairPredictor, PixelDecoder, ResNet5, VideoProjector, check_clip, count_parameters,
                   fold_time)
from .presets import VideoSettings
from .regularizers import check_weights, vicreg_covariance, vicreg_variance
from .rollout import rollout, teacher_forced
from .train import Trainer, commit_run, load_run, run_path

CODE_VERSION = 1     # bump when a code change would change a trained run: committed runs of older code are not loaded

__all__ = ["positions", "VideoJEPA", "video_jepa_loss", "VideoRun", "VideoExperiment"]


def positions(z: torch.Tensor) -> torch.Tensor:
    """Every (clip, frame, row, column) position as one sample: ``[B, T, D, H, W]`` -> ``[B*T*H*W, D]``.

    This is how the video regulariser sees a batch (reference code): each position of each frame is a sample.
    """
    check_clip(z, "z")
    return fold_time(z).permute(0, 2, 3, 1).reshape(-1, z.shape[2])


def video_jepa_loss(model: "VideoJEPA", x: torch.Tensor, steps: int, variance: float = 10.0,
                    covariance: float = 100.0, loss_positions: int | None = None,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict, list[torch.Tensor]]:
    """The video JEPA objective with a K-step rollout (paper eqs. 3, 9-11, as in the reference code).

    .. math:: L = \\frac1K\\sum_{k=1}^{K} \\mathrm{MSE}\\bigl(h(S^{(k)}), h(z)\\bigr)
              + \\alpha\\, v(h(z)) + \\beta\\, c(h(z))

    with ``h`` the shared :class:`~ebjepa_mini.nets.VideoProjector`, ``S^(k)`` from
    :func:`~ebjepa_mini.rollout.rollout`, and ``v``, ``c``
    the VICReg variance and covariance terms (:func:`~ebjepa_mini.regularizers.vicreg_variance`,
    :func:`~ebjepa_mini.regularizers.vicreg_covariance`) with every (clip, frame, row, column)
    position as a sample. As in the reference code: the MSE is the mean over all positions and
    channels, including the two copied context frames; the K terms are averaged (the paper sums
    them); the regulariser sees ground-truth encodings only; targets are not detached.

    Args:
        model: a :class:`VideoJEPA`.
        x: clips ``[B, T, C, H, W]``, ``T >= 3``.
        steps: rollout steps K >= 1.
        variance: alpha (paper video: 10).
        covariance: beta (paper video: 100).
        loss_positions: if set, both the regulariser and the prediction loss use this many positions
            drawn at random (without replacement, the same positions for predictions and targets)
            instead of all ``B*T*H*W``: an unbiased estimate of the MSE that makes the projector
            affordable on a CPU (the reference uses all positions). The encoder and predictor still
            run on every pixel.
        generator: random generator for the position subsample.

    Returns:
        ``(loss, terms, states)``: scalar loss, a dict of floats (``pred``, ``variance``,
        ``covariance``, ``vc``, ``total``, ``pred_k1`` ...), and the rollout states ``S^(0..K)``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1 (rollout steps K), got {steps!r}")
    check_weights(variance=variance, covariance=covariance)
    if loss_positions is not None and (isinstance(loss_positions, bool) or not isinstance(loss_positions, int)
                                       or loss_positions < 2):
        raise ValueError(f"loss_positions must be None (all positions) or an int >= 2, got {loss_positions!r}")
    check_clip(x, "x", min_frames=3)
    z = model.encoder(x)
    zs = positions(z)                                        # [N, D], N = B*T*H*W
    idx = None
    if loss_positions is not None and loss_positions < len(zs):
        idx = torch.randperm(len(zs), generator=generator)[:loss_positions].to(zs.device)
        zs = zs[idx]
    target = model.projector(zs)
    var, cov = vicreg_variance(target), vicreg_covariance(target)
    states = rollout(model.predictor, z, steps)
    terms = {}
    pred = 0.0
    for k, s in enumerate(states[1:], start=1):
        ss = positions(s)
        lk = F.mse_loss(model.projector(ss if idx is None else ss[idx]), target)
        terms[f"pred_k{k}"] = lk.item()
        pred = pred + lk / steps
    vc = variance * var + covariance * cov
    loss = pred + vc
    terms.update(pred=float(pred.detach()), variance=var.item(), covariance=cov.item(), vc=vc.item(),
                 total=loss.item())
    return loss, terms, states


class VideoJEPA(nn.Module):
    """Encoder, predictor and projector of the video JEPA, plus the two read-out heads.

    Args:
        settings: a :class:`~ebjepa_mini.presets.VideoSettings` (widths, latent and projector dims).
        in_channels: frame channels (1).
    """

    def __init__(self, settings: VideoSettings, in_channels: int = 1):
        super().__init__()
        d = settings.latent_dim
        self.encoder = ResNet5(in_channels, settings.enc_width, d)
        self.predictor = PairPredictor(d, settings.pred_width)
        self.projector = VideoProjector(d, settings.proj_hidden, settings.proj_dim)
        self.det_head = DetectionHead(d)
        self.decoder = PixelDecoder(d, in_channels)

    def jepa_parameters(self):
        """Parameters trained by the JEPA loss (encoder, predictor, projector)."""
        for m in (self.encoder, self.predictor, self.projector):
            yield from m.parameters()

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of each part."""
        return {k: count_parameters(getattr(self, k)) for k in ("encoder", "predictor", "projector", "det_head",
                                                                "decoder")}


@dataclass
class VideoRun:
    """One trained (or untrained) video JEPA, evaluated on the validation clips."""

    name: str
    steps_k: int                 # rollout steps K used in training (0: untrained)
    steps: int                   # JEPA optimiser steps
    seconds: float               # training wall time (JEPA + concurrent heads + head phase)
    history: dict                # per-step loss terms
    ap: list[float]              # AP per horizon: ap[h] scores (h+1)-step-ahead predictions
    ap_gt: float                 # AP of the head on ground-truth frame representations
    recon_mse: float             # pixel-decoder MSE on validation frames
    model: VideoJEPA = field(repr=False)
    loaded: str | None = None    # the committed run's file when it was loaded, not trained (train-or-load)

    @property
    def map(self) -> float:
        """Mean AP over the horizons (the paper's "mAP")."""
        return float(np.mean(self.ap))

    def summary(self) -> dict:
        return {"name": self.name, "k": self.steps_k, "map": round(self.map, 4),
                "ap_by_horizon": [round(a, 4) for a in self.ap],
                **{f"ap_{h}": round(a, 4) for h, a in enumerate(self.ap)}, "ap_gt": round(self.ap_gt, 4),
                "recon_mse": round(self.recon_mse, 5), "steps": self.steps, "train_s": round(self.seconds, 1),
                "steps_per_s": round(self.steps / self.seconds, 3) if self.steps and self.seconds > 0 else None}

    def __str__(self) -> str:
        aps = " ".join(f"{a:.2f}" for a in self.ap)
        return (f"{self.name:10s} mAP {self.map:.3f} | AP by horizon {aps} | AP on true frames {self.ap_gt:.3f} "
                f"({self.steps} steps, {self.seconds:.0f} s)")


class VideoExperiment:
    """Train and evaluate video JEPAs on generated Moving MNIST (chapter 4, ``bench video``).

    Args:
        preset: preset name or ``None`` (``EBJEPA_PRESET`` or the device); sizes from ``preset.video``.
        seed: seed of data generation, initialisation and batches.
        settings: a :class:`~ebjepa_mini.presets.VideoSettings` replacing the preset's.
        device: torch device (default ``None``: :func:`~ebjepa_mini.get_device` picks one).
        allow_fallback: without ``mnist.npz``, bounce the labelled scikit-learn fallback digits.

    Usage::

        exp = VideoExperiment("ci")
        run = exp.train(4)          # K = 4
        print(run)                  # AP per horizon, mAP
    """

    def __init__(self, preset: str | None = None, seed: int = 0, settings: VideoSettings | None = None,
                 device=None, allow_fallback: bool = True):
        self.preset, self.cfg, self.device = experiment_setup(preset, "video", settings, seed, device)
        self.seed = seed
        s = self.cfg
        self.data = MovingMNIST(s.n_train, s.n_val, canvas=s.canvas, clip_len=s.clip_len, seed=seed,
                                allow_fallback=allow_fallback)
        self.data_source = self.data.source
        self.val_x = MovingMNIST.to_tensor(self.data.val.frames)          # [N, T, 1, L, L] on CPU, moved per batch
        self.val_maps = torch.as_tensor(self.data.val.maps, dtype=torch.float32)
        self.runs: dict[str, VideoRun] = {}

    # -- helpers ----------------------------------------------------------------------------------
    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device)
        if self.cfg.channels_last:
            b, t = x.shape[:2]
            x = fold_time(x).contiguous(memory_format=torch.channels_last).reshape(b, t, *x.shape[2:])
        return x

    def model(self) -> VideoJEPA:
        """A freshly initialised model (same initial weights for every K: seeded)."""
        torch.manual_seed(self.seed)
        m = VideoJEPA(self.cfg).to(self.device)
        return m.to(memory_format=torch.channels_last) if self.cfg.channels_last else m

    def batches(self, generator: torch.Generator):
        """An endless stream of ``(x [B, T, 1, L, L], maps [B, T, 8, 8])`` random training batches."""
        n, bs = len(self.data.train), min(self.cfg.batch_size, len(self.data.train))
        frames, maps = self.data.train.frames, self.data.train.maps
        while True:
            perm = torch.randperm(n, generator=generator).numpy()
            for a in range(0, n - bs + 1, bs):
                idx = np.sort(perm[a:a + bs])
                yield self._prep(MovingMNIST.to_tensor(frames[idx])), torch.from_numpy(maps[idx]).float().to(self.device)

    def _optimizer(self, model: VideoJEPA, jepa: bool) -> torch.optim.Optimizer:
        s = self.cfg
        groups = [{"params": list(model.det_head.parameters()), "lr": s.head_lr},
                  {"params": list(model.decoder.parameters()), "lr": s.decoder_lr}]
        if jepa:
            groups.insert(0, {"params": list(model.jepa_parameters()), "lr": s.lr})
        return torch.optim.Adam(groups)

    @staticmethod
    def _head_losses(model: VideoJEPA, z: torch.Tensor, x: torch.Tensor, maps: torch.Tensor):
        zd = z.detach()                                      # the heads never shape the encoder
        det = F.binary_cross_entropy_with_logits(model.det_head(zd), maps)
        rec = F.mse_loss(model.decoder(zd), x)
        return det, rec

    # -- training ---------------------------------------------------------------------------------
    def train(self, k: int, steps: int | None = None, head_steps: int | None = None,
              progress: bool | None = None, name: str | None = None) -> VideoRun:
        """Train a video JEPA with a ``k``-step rollout loss, then evaluate it; stores it in :attr:`runs`.

        The detection head and the pixel decoder train on detached features at the same time (one
        backward, as in the reference), then ``head_steps`` more steps on the frozen encoder (our
        addition: at book budgets the features move until the last step). ``k = 0`` trains no JEPA:
        the untrained-encoder baseline, whose heads get ``steps + head_steps`` steps.

        Args:
            k: rollout steps K (0 for the untrained baseline).
            steps: JEPA steps (default ``preset.video.steps``).
            head_steps: head-only steps after training (default ``preset.video.head_steps``).
            progress: tqdm bars (default: the Trainer's choice).
            name: key in :attr:`runs` (default ``"K{k}"`` or ``"untrained"``).
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be an int >= 0 (rollout steps; 0 = untrained baseline), got {k!r}")
        s = self.cfg
        steps = s.steps if steps is None else steps
        head_steps = s.head_steps if head_steps is None else head_steps
        for nm, v in (("steps", steps), ("head_steps", head_steps)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{nm} must be an int >= 0, got {v!r}")
        name = name or (f"K{k}" if k > 0 else "untrained")
        model = self.model()
        gen = torch.Generator().manual_seed(self.seed + 1)
        vc_gen = torch.Generator().manual_seed(self.seed + 2)
        stream = self.batches(gen)
        t0 = time.perf_counter()
        history: dict = {}
        if k > 0 and steps > 0:
            opt = self._optimizer(model, jepa=True)

            def step_fn():
                x, maps = next(stream)
                loss, terms, states = video_jepa_loss(model, x, k, s.variance, s.covariance, s.loss_positions, vc_gen)
                det, rec = self._head_losses(model, states[0], x, maps)
                terms.update(det_bce=det.item(), recon=rec.item())
                return loss + det + rec, terms

            trainer = Trainer({"model": model}, step_fn, opt, config={"k": k, **asdict(s)})
            history = dict(trainer.run(steps, progress=progress, desc=f"video JEPA K={k}"))
        n_head = head_steps + (steps if k == 0 else 0)
        if n_head > 0:                                       # the untrained baseline needs no pictures
            history.update(self._fit_heads(model, stream, n_head, progress, decoder=k > 0))
        seconds = time.perf_counter() - t0
        ap, ap_gt, rec = self.evaluate(model)
        run = VideoRun(name, k, steps if k > 0 else 0, seconds, history, ap, ap_gt, rec, model)
        self.runs[name] = run
        return run

    # -- train-or-load ----------------------------------------------------------------------------
    def run_file(self, k: int) -> Path:
        """Where the committed run with ``k`` rollout steps, these settings, data and seed lives."""
        return run_path("video", f"K{k}", {**asdict(self.cfg), "data": self.data_source}, self.seed, CODE_VERSION)

    def load_or_train(self, k: int, progress: bool | None = None) -> VideoRun:
        """Train-or-load: evaluate the committed run of ``k`` made with exactly these settings, data, seed and code
        (:meth:`run_file`; ``EBJEPA_RETRAIN=1`` refuses it), else :meth:`train`; it keeps its history and time."""
        path = self.run_file(k)
        state = load_run(path)
        if state is None:
            return self.train(k, progress=progress)
        model = self.model()
        model.load_state_dict(state["state_dict"])
        ap, ap_gt, rec = self.evaluate(model)
        name = f"K{k}" if k > 0 else "untrained"
        run = VideoRun(name, k, state["steps"], state["seconds"], state["history"], ap, ap_gt, rec, model,
                       loaded=path.name)
        self.runs[name] = run
        return run

    def commit(self, run: VideoRun, command: str) -> Path:
        """Write ``run`` (trained with the default steps) where :meth:`load_or_train` finds it, with its card."""
        if run.steps != (self.cfg.steps if run.steps_k else 0):
            raise ValueError(f"run {run.name!r} trained {run.steps} steps, not the settings' {self.cfg.steps}: not committed")
        state = {"state_dict": run.model.state_dict(), "steps": run.steps, "seconds": run.seconds,
                 "history": run.history}
        card = {"command": command, "name": run.name, "k": run.steps_k, "seed": self.seed,
                "data": self.data_source, "settings": asdict(self.cfg), "code_version": CODE_VERSION,
                "summary": run.summary()}
        return commit_run(self.run_file(run.steps_k), state, card)

    def _fit_heads(self, model: VideoJEPA, stream, steps: int, progress, decoder: bool = True) -> dict:
        opt = self._optimizer(model, jepa=False)
        model.encoder.eval()                                  # frozen encoder, running BN statistics

        def step_fn():
            x, maps = next(stream)
            with torch.no_grad():
                z = model.encoder(x)
            if not decoder:
                det = F.binary_cross_entropy_with_logits(model.det_head(z), maps)
                return det, {"head_det_bce": det.item()}
            det, rec = self._head_losses(model, z, x, maps)
            return det + rec, {"head_det_bce": det.item(), "head_recon": rec.item()}

        trainer = Trainer({"heads": nn.ModuleList([model.det_head, model.decoder])}, step_fn, opt)
        hist = trainer.run(steps, progress=progress, desc="read-out heads")
        return {f"head_{k}" if k == "step" else k: v for k, v in hist.items()}

    # -- evaluation -------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: VideoJEPA, batch_size: int | None = None) -> tuple[list[float], float, float]:
        """AP per prediction horizon on the validation clips (the reference's protocol; horizons are
        indexed from 0).

        For each validation batch: encode, roll out ``T - 2`` steps, and for horizon index
        ``j = 0 .. T-4`` score the detection head on the frames ``2 + j .. T-1`` of ``S^(j+1)``, which
        are exactly the (j+1)-step-ahead predictions; AP per batch (scikit-learn), averaged over
        batches. ``AP_0`` is the one-step-ahead prediction; the last rollout step is not scored.

        Returns:
            ``(ap_by_horizon, ap_on_true_frames, recon_mse)``.
        """
        bs = batch_size or self.cfg.eval_batch
        model.eval()
        t_len = self.val_x.shape[1]
        n_h = t_len - 3
        aps, gts, recs = [], [], []
        for a in range(0, len(self.val_x), bs):
            x = self._prep(self.val_x[a:a + bs])                             # [B, T, 1, L, L]
            maps = self.val_maps[a:a + bs]
            if maps.sum() == 0:
                continue
            z = model.encoder(x)
            states = rollout(model.predictor, z, t_len - 2)
            aps.append([average_precision_by_horizon(model.det_head(states[h + 1][:, 2 + h:]), maps[:, 2 + h:])
                        for h in range(n_h)])
            gts.append(average_precision_by_horizon(model.det_head(z), maps))
            recs.append(F.mse_loss(model.decoder(z), x).item())
        model.train()
        return [float(v) for v in np.mean(aps, 0)], float(np.mean(gts)), float(np.mean(recs))

    @torch.no_grad()
    def predict_clip(self, run: VideoRun, index: int = 0) -> dict[str, np.ndarray]:
        """Pictures of one validation clip for the chapter's animation.

        Returns:
            dict of arrays over the clip's T frames: ``frames [T, L, L]``, ``one_step [T, L, L]``
            (decoded teacher-forced predictions; the two context frames decoded from their
            encodings), ``rollout [T, L, L]`` (decoded autoregressive rollout from frames 0-1),
            ``heat_rollout [T, 8, 8]`` (detection probabilities on the rollout) and ``maps [T, 8, 8]``.
        """
        if not 0 <= index < len(self.val_x):
            raise ValueError(f"index must be in [0, {len(self.val_x) - 1}], got {index}")
        model = run.model
        model.eval()
        x = self._prep(self.val_x[index:index + 1])
        z = model.encoder(x)
        t_len = z.shape[1]
        one = torch.cat([z[:, :2], teacher_forced(model.predictor, z)], 1)
        auto = rollout(model.predictor, z, t_len - 2)[-1]        # frame t has order t - 1: fully autoregressive
        out = {"frames": x[0, :, 0], "one_step": model.decoder(one)[0, :, 0], "rollout": model.decoder(auto)[0, :, 0],
               "heat_rollout": torch.sigmoid(model.det_head(auto))[0], "heat_one_step": torch.sigmoid(model.det_head(one))[0],
               "maps": self.val_maps[index]}
        model.train()
        return {k: v.detach().cpu().numpy() for k, v in out.items()}
