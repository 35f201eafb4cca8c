"""The collapse experiment of chapter 2: a small image JEPA on real digits, regularisers on/off.

:class:`CollapseExperiment` is the headless engine behind the Collapse Lab widget
(:class:`ebjepa_mini.widgets.CollapseLab`), the chapter's static figures and the
``collapse`` benchmark: one model, one data stream, one :class:`~ebjepa_mini.train.Trainer`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from . import experiment_setup
from .data.sources import load_cifar10, load_mnist
from .data.views import MNIST_VIEWS, ViewAugment, to_float_images
from .jepa import ImageJEPA
from .metrics import collapse_verdict, covariance_spectrum, effective_rank, per_dim_std
from .nets import ConvEncoder, projector
from .presets import CollapseSettings
from .regularizers import RegularizerWeights, check_weights
from .train import Trainer

__all__ = ["CollapseExperiment", "RunResult", "SWITCHES", "DEFAULT_WEIGHTS", "KEY_SETTINGS", "linear_probe_accuracy"]

#: Weight a switch gets when it is turned on with ``True``.
DEFAULT_WEIGHTS = {"invariance": 1.0, "variance": 1.0, "covariance": 100.0, "sigreg": 10.0}
SWITCHES = tuple(DEFAULT_WEIGHTS)

#: The four settings chapter 2 compares (switches not named are off).
KEY_SETTINGS = {
    "none": {},
    "variance": {"variance": True},
    "vicreg": {"variance": True, "covariance": True},
    "sigreg": {"sigreg": True},
}


@dataclass
class RunResult:
    """One finished run of :meth:`CollapseExperiment.compare`."""

    history: dict
    z: torch.Tensor            # evaluation embeddings [n_eval, D] at the end
    report: object             # metrics.CollapseReport
    probe_acc: float | None
    seconds: float
    steps: int


def linear_probe_accuracy(train_x: torch.Tensor, train_y, test_x: torch.Tensor, test_y, c: float = 1.0) -> float:
    """Top-1 test accuracy of a multinomial logistic regression on frozen, standardised features.

    Delegates to :func:`ebjepa_mini.probes.linear_probe` (float64 full-batch LBFGS); ``c`` is the
    inverse regularisation strength of scikit-learn's convention, i.e. weight decay ``1 / (2 c N)``.
    """
    from .probes import linear_probe

    return linear_probe(train_x, train_y, test_x, test_y, (1.0 / (2.0 * c * len(train_x)),)).test_acc


class CollapseExperiment:
    """Train a small image JEPA on two views of real images and watch for collapse.

    Args:
        preset: a preset name (``"ci"``, ``"cpu"``, ``"gpu"``, ``"paper"``) or ``None`` for the
            default (``EBJEPA_PRESET`` or the device); sizes come from ``preset.collapse``.
        seed: seed of the model initialisation, the views and the batches.
        settings: optional :class:`~ebjepa_mini.presets.CollapseSettings` overriding the preset's.
        device: torch device (default CPU: the model is tiny; ``None`` lets
            :func:`~ebjepa_mini.get_device` pick).

    Usage::

        exp = CollapseExperiment("ci")
        exp.set(variance=True, covariance=True)     # VICReg
        history = exp.run(200)
        exp.report()                                # healthy / dimensional / complete collapse
    """

    def __init__(self, preset: str | None = "ci", seed: int = 0, settings: CollapseSettings | None = None,
                 device: str | torch.device = "cpu"):
        self.preset, self.cfg, self.device = experiment_setup(preset, "collapse", settings, seed, device)
        if self.cfg.dataset not in ("mnist", "cifar10"):
            raise ValueError(f"settings.dataset must be 'mnist' or 'cifar10', got {self.cfg.dataset!r}")
        self.seed = seed
        data = load_mnist() if self.cfg.dataset == "mnist" else load_cifar10(prefer_full=False)
        self.data_source, self.is_fallback = data.source, data.is_fallback
        n = min(self.cfg.n_train, len(data.x_train))
        self.images = to_float_images(data.x_train[:n], self.device)             # [n, C, H, W] in [0, 1]
        self.labels = torch.as_tensor(data.y_train[:n])
        n_eval = min(self.cfg.n_eval, len(data.x_test))
        self.augment: ViewAugment = MNIST_VIEWS if self.cfg.dataset == "mnist" else ViewAugment()
        self.eval_images = self.augment.standardize(to_float_images(data.x_test[:n_eval], self.device))
        self.eval_labels = torch.as_tensor(data.y_test[:n_eval])
        self.weights = RegularizerWeights()
        self.num_slices = 256
        self.reset()

    # -- configuration --------------------------------------------------------------------------
    def set(self, **switches) -> "CollapseExperiment":
        """Switch regularisers on/off or set their weights; returns ``self``.

        Keywords: ``invariance``, ``variance``, ``covariance``, ``sigreg``. A value is ``True``
        (default weight from ``DEFAULT_WEIGHTS``), ``False`` (off) or a number ``>= 0``.
        Changing switches keeps the current model (a reader can rescue a collapsed run);
        call :meth:`reset` to start from a fresh initialisation.
        """
        new = {k: (DEFAULT_WEIGHTS.get(k, 0.0) if v else 0.0) if isinstance(v, bool) else v
               for k, v in switches.items()}                 # True: the default weight, False: off
        check_weights(SWITCHES, **new)
        self.weights = RegularizerWeights(**{**asdict(self.weights), **{k: float(v) for k, v in new.items()}})
        return self

    def reset(self, seed: int | None = None) -> "CollapseExperiment":
        """Fresh model, optimiser and history (same seed unless given)."""
        if seed is not None:
            self.seed = seed
        torch.manual_seed(self.seed)
        c = self.images.shape[1]
        w = self.cfg.width
        enc = ConvEncoder(c, (w, 2 * w, 2 * w), (2, 2, 1))
        # No BatchNorm in the projector: its hidden units may die too, so the unregularised model
        # reaches complete collapse within the ci budget (with BatchNorm it takes ~10x longer).
        proj = projector(enc.out_dim, 8 * w, self.cfg.embed_dim, layers=2, batch_norm=False)
        self.model = ImageJEPA(enc, proj).to(self.device)
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        self.gen = torch.Generator().manual_seed(self.seed + 1)
        self.sig_gen = torch.Generator().manual_seed(self.seed + 2)
        self.trainer = Trainer(self.model, self._step, opt, config={"settings": asdict(self.cfg)})
        self.metrics: dict[str, list] = {k: [] for k in ("step", "effective_rank", "effective_rank_centered",
                                                         "mean_std", "min_std", "relative_spread", "verdict",
                                                         "label")}
        self._record()                 # step 0: the untrained model's metrics
        return self

    # -- training --------------------------------------------------------------------------------
    def _step(self):
        idx = torch.randint(len(self.images), (self.cfg.batch_size,), generator=self.gen)
        x = self.images[idx]
        v1, v2 = self.augment(x, self.gen), self.augment(x, self.gen)
        return self.model.loss(v1, v2, self.weights, num_slices=self.num_slices, generator=self.sig_gen, monitor=True)

    def embeddings(self, projected: bool = True) -> torch.Tensor:
        """Embeddings ``[n_eval, D]`` of the (unaugmented) evaluation images."""
        return self.model.embed(self.eval_images, projected=projected)

    def _record(self) -> None:
        z = self.embeddings()
        rep = collapse_verdict(z)
        std = per_dim_std(z)
        m = self.metrics
        m["step"].append(self.trainer.step)
        m["effective_rank"].append(effective_rank(z, centered=False))
        m["effective_rank_centered"].append(rep.effective_rank)
        m["mean_std"].append(float(std.mean()))
        m["min_std"].append(float(std.min()))
        m["relative_spread"].append(rep.relative_spread)
        m["verdict"].append(rep.verdict)
        m["label"].append(self.weights.label)

    def run(self, steps: int | None = None, callback=None, stop_event=None, progress: bool | None = None) -> dict:
        """Train ``steps`` more steps (default ``preset.collapse.steps``), recording metrics.

        Every ``plot_every`` steps the evaluation images are embedded and the effective rank,
        per-dimension std and collapse verdict recorded; ``callback(self)`` is then called (the
        widget redraws there) and may return True to stop.

        Returns:
            :attr:`history`: dict of lists. Per-step keys come from the loss
            (``"step"``, ``"total"``, ``"invariance"``, ...); evaluation keys are prefixed by
            nothing and share ``"eval_step"``: ``"effective_rank"`` (RankMe, uncentred: a constant
            embedding counts as one direction), ``"effective_rank_centered"`` (Roy & Vetterli on
            centred embeddings), ``"mean_std"``, ``"min_std"``, ``"relative_spread"``, ``"verdict"``, ``"label"``.
        """
        steps = self.cfg.steps if steps is None else steps
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        every = max(1, self.cfg.plot_every)
        done = 0
        stop = False
        while done < steps and not stop:
            chunk = min(every - self.trainer.step % every, steps - done)
            before = self.trainer.step
            self.trainer.run(chunk, stop_event=stop_event, progress=False)
            done += self.trainer.step - before
            if self.trainer.step == before:           # stopped from outside
                break
            if self.trainer.step % every == 0 or done >= steps:
                self._record()
                if callback is not None:
                    stop = bool(callback(self))
        return self.history

    @property
    def history(self) -> dict:
        h = {k: list(v) for k, v in self.trainer.history.items()}
        h.update({("eval_step" if k == "step" else k): list(v) for k, v in self.metrics.items()})
        return h

    # -- analysis ----------------------------------------------------------------------------------
    def report(self):
        """:class:`~ebjepa_mini.metrics.CollapseReport` of the current embeddings."""
        return collapse_verdict(self.embeddings())

    def spectrum(self) -> np.ndarray:
        """Covariance eigenvalues of the current embeddings (largest first)."""
        return covariance_spectrum(self.embeddings())

    def probe(self, n_train: int = 2000) -> float:
        """Linear-probe accuracy of the encoder features: fit on training images, test on held-out ones."""
        n_train = min(n_train, len(self.images))
        train_feats = self.model.embed(self.augment.standardize(self.images[:n_train]), projected=False)
        return linear_probe_accuracy(train_feats, self.labels[:n_train], self.embeddings(projected=False),
                                     self.eval_labels)

    def compare(self, settings: dict[str, dict] | None = None, steps: int | None = None,
                probe: bool | None = None) -> dict[str, RunResult]:
        """Train each setting from the same fresh initialisation and collect the results.

        Args:
            settings: ``{label: switches}`` (default :data:`KEY_SETTINGS`); switches not named are off.
            steps: steps per run (default ``preset.collapse.steps``).
            probe: also fit a linear probe per run (default ``preset.collapse.probe``).

        Returns:
            ``{label: RunResult}``; the experiment is left in the state of the last run.
        """
        settings = KEY_SETTINGS if settings is None else settings
        probe = self.cfg.probe if probe is None else probe
        out = {}
        for label, switches in settings.items():
            self.reset()
            self.set(**{k: False for k in ("variance", "covariance", "sigreg")})
            self.set(**switches)
            t0 = time.perf_counter()
            hist = self.run(steps)
            secs = time.perf_counter() - t0
            out[label] = RunResult(hist, self.embeddings(), self.report(), self.probe() if probe else None,
                                   secs, self.trainer.step)
        return out

    def with_settings(self, **changes) -> "CollapseExperiment":
        """A new experiment with some settings changed, e.g. ``exp.with_settings(embed_dim=64)``."""
        return CollapseExperiment(self.preset.name, self.seed, replace(self.cfg, **changes), self.device)
