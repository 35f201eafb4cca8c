"""Action-conditioned world model on Two Rooms (chapter 5; paper eqs. 4, 12–13, Table 6; see :doc:`/book/paper_and_book`).

A world model is a JEPA whose predictor also reads the action:

* encoder ``f_θ``: an IMPALA ConvNet (:class:`~ebjepa_mini.nets.ImpalaEncoder`) maps one ``2×65×65`` frame to a
  latent ``z ∈ R^D`` ending in a LayerNorm;
* predictor ``g_φ``: one GRU cell whose hidden state IS the latent and whose input is the raw 2-D
  action; its output goes through the encoder's own LayerNorm (shared weights), so predictions
  and encodings live on the same sphere-like shell (:meth:`WorldModel.predict`);
* inverse-dynamics model (IDM): an MLP that reads ``[z_t, z_{t+1}]`` and guesses ``a_t``.

Training minimises paper eq. 13, :func:`world_model_loss`::

    L = L_pred + α·L_var + β·L_cov + δ·L_sim + ω·L_IDM

where ``L_pred`` compares a K-step autoregressive rollout from frame 0 with the encodings of
frames 1..K. Shapes: observations ``[B, T, 2, 65, 65]``, actions ``[B, T-1, 2]`` (time before the
action coordinates, like the planner's ``[N, H, A]``), latents ``[B, T, D]``.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import two_rooms as tr
from .data.two_rooms_walks import TrajectoryConfig, load_or_generate
from .nets import ImpalaEncoder
from .presets import WorldSettings, get_preset
from .probes import RegressionProbe, ridge_probe
from .regularizers import WorldWeights, inverse_dynamics_loss, temporal_similarity, vicreg_covariance, vicreg_variance
from .train import Trainer, file_sha256, load_checkpoint, save_checkpoint, warmup_cosine

__all__ = ["WorldModel", "WorldWeights", "world_model_loss", "WorldData", "WorldRun",
           "train_world_model", "load_world_model", "save_world_model", "PRETRAINED", "pretrained_path",
           "rollout_positions", "layout_probe", "LAYOUT_TARGETS"]


PREDICTORS = ("gru", "mlp")
LAYOUTS = ("none", "learned", "walls")


class WorldModel(nn.Module):
    """Encoder + action-conditioned GRU predictor + IDM (+ a position probe for pictures only).

    Args:
        stacks, blocks, latent_dim, pool: encoder size (see :class:`~ebjepa_mini.nets.ImpalaEncoder`).
        idm_hidden: width of the IDM's two hidden layers (paper 256).
        probe_hidden: width of the position probe (paper 512); trained on DETACHED latents.
        action_dim: 2.
    """

    def __init__(self, stacks=(16, 32, 32), blocks: int = 2, latent_dim: int = 512, idm_hidden: int = 256,
                 probe_hidden: int = 512, action_dim: int = 2, pool: int = 1, predictor: str = "gru",
                 pred_hidden: int = 256, layout: str = "none", layout_dim: int = 16, layout_pool: int = 4):
        super().__init__()
        if predictor not in PREDICTORS:
            raise ValueError(f"predictor must be one of {PREDICTORS}, got {predictor!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        if layout != "none" and predictor != "mlp":
            raise ValueError(f"layout={layout!r} needs predictor='mlp' (the layout modulates its hidden layer), got {predictor!r}")
        self.latent_dim = latent_dim                    # D: the part the actions move
        self.layout_kind = layout
        # the static layout code carried beside it: learned, the wall pixels of each of the 65 rows and columns, or none
        self.layout_dim = {"none": 0, "learned": layout_dim, "walls": 2 * tr.SIZE}[layout]
        self.learned_dim = latent_dim + (self.layout_dim if layout == "learned" else 0)   # what eq. 13 shapes
        self.predictor = predictor
        self.encoder = ImpalaEncoder(2, tuple(stacks), blocks, latent_dim, pool=pool)
        full = latent_dim + self.layout_dim
        if layout == "learned":     # the wall channel alone -> a layout code
            self.layout = ImpalaEncoder(1, (8, 16), 1, layout_dim, pool=layout_pool)
        if layout == "walls":       # standardised over random layouts: a door row weighs as much as the wall's column
            counts = self._wall_counts(tr.wall_masks(*tr.sample_layouts(2048, np.random.default_rng(0))).float())
            self.register_buffer("wall_mean", counts.mean(0))
            self.register_buffer("wall_scale", counts.std(0) + 0.1)     # rows and columns that never change -> 0
        if layout != "none":        # the code modulates the predictor (FiLM), starting as the identity
            self.film = nn.Linear(self.layout_dim, 2 * pred_hidden)
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        if predictor == "gru":
            self.gru = nn.GRUCell(action_dim, latent_dim)
        else:   # "mlp": a residual two-hidden-layer MLP on [z_t, a_t]; the layout code acts between its first two layers
            self.mlp_in = nn.Linear(latent_dim + action_dim, pred_hidden)
            self.mlp_out = nn.Sequential(nn.GELU(), nn.Linear(pred_hidden, pred_hidden), nn.GELU(),
                                         nn.Linear(pred_hidden, latent_dim))
        self.idm = nn.Sequential(nn.Linear(2 * full, idm_hidden), nn.ReLU(), nn.Linear(idm_hidden, idm_hidden),
                                 nn.ReLU(), nn.Linear(idm_hidden, action_dim))
        self.probe = nn.Sequential(nn.Linear(full, probe_hidden), nn.ReLU(), nn.Linear(probe_hidden, 2))

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """``f_θ``: normalised observations ``[B, T, C, H, W]`` (or ``[B, C, H, W]``) -> ``[B, T, D]`` (or ``[B, D]``);
        with a layout code, ``[..., D + layout_dim]``: the encoder's latent, then the code of the wall channel."""
        if obs.dim() not in (4, 5):
            raise ValueError(f"obs must be [B, C, H, W] or [B, T, C, H, W], got shape {tuple(obs.shape)}")
        lead = obs.shape[:-3]
        x = obs.reshape(-1, *obs.shape[-3:])
        if x.device.type == "cpu" and obs.dim() == 5:
            x = x.contiguous(memory_format=torch.channels_last)
        z = self.encoder(x).reshape(*lead, -1)
        if self.layout_dim:      # the layout is the same in every frame of a clip: encode the first frame's walls
            c = self.layout_code(obs[:, 0, 1] if obs.dim() == 5 else obs[:, 1])              # [B, layout_dim]
            z = torch.cat([z, c[:, None].expand(*lead, -1) if obs.dim() == 5 else c], -1)
        return z

    @staticmethod
    def _wall_counts(mask: torch.Tensor) -> torch.Tensor:
        """Wall pixels in each row, then in each column: ``[B, 65, 65] -> [B, 130]``."""
        return torch.cat([mask.sum(-1), mask.sum(-2)], -1)

    def layout_code(self, walls: torch.Tensor) -> torch.Tensor:
        """The layout code of normalised wall channels ``[B, 65, 65]`` -> ``[B, layout_dim]``: the learned
        encoder's output, or (``"walls"``) the count of wall pixels in each row and each column, standardised
        by their mean and spread over random layouts (nothing learned)."""
        if self.layout_kind == "learned":
            return self.layout(walls[:, None])
        return (self._wall_counts((walls > 0).float()) - self.wall_mean) / self.wall_scale

    def predict(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """``g_φ``: one step ``ẑ_{t+1} = LayerNorm(GRU(input=a_t, hidden=z_t))`` (paper § 5.3; the reference
        shares the LayerNorm), or with ``predictor="mlp"`` ``LayerNorm(z_t + MLP([z_t, a_t]))``. With a layout
        code ``c`` (the last ``layout_dim`` entries of ``z``) the MLP's first hidden layer is modulated by it,
        ``h = GELU(W[z_t, a_t] ⊙ (1 + γ(c)) + β(c))``, and ``c`` is carried unchanged (the layout does not
        move). ``[N, D(+layout_dim)], [N, A] -> [N, D(+layout_dim)]``."""
        if self.predictor == "gru":
            return self.encoder.norm(self.gru(a, z))
        zd, c = z[..., :self.latent_dim], z[..., self.latent_dim:]    # c is empty without a layout code
        h = self.mlp_in(torch.cat([zd, a], -1))
        if self.layout_dim:
            gamma, beta = self.film(c).chunk(2, -1)
            h = h * (1 + gamma) + beta
        return torch.cat([self.encoder.norm(zd + self.mlp_out(h)), c], -1)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Autoregressive latent rollout (paper eq. 9): ``[N, D], [N, H, A] -> [N, H+1, D]`` (index 0 is ``z0``)."""
        if actions.dim() != 3 or actions.shape[0] != z0.shape[0]:
            raise ValueError(f"actions must be [N, H, A] with N = {z0.shape[0]}, got {tuple(actions.shape)}")
        zs = [z0]
        for t in range(actions.shape[1]):
            zs.append(self.predict(zs[-1], actions[:, t]))
        return torch.stack(zs, dim=1)

    def positions(self, z: torch.Tensor) -> torch.Tensor:
        """Position probe: latents ``[..., D]`` -> pixel positions ``[..., 2]`` (for pictures, never for planning)."""
        return tr.denormalize_pos(self.probe(z))


def world_model_loss(model: WorldModel, obs: torch.Tensor, actions: torch.Tensor, weights: WorldWeights,
                     rollout_steps: int) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """Paper eq. 13: ``L_pred + α·L_var + β·L_cov + δ·L_sim + ω·L_IDM``.

    * ``L_pred``: K-step autoregressive chains (paper eqs. 9–10): from the encoding of EVERY frame
      ``t = 0..T-1-K``, ``K = rollout_steps`` predictor calls with the true actions, each prediction
      compared with the encoding it should reach (mean over chains, steps, samples and dimensions;
      nothing is detached). The paper's eq. 10 sums over all start frames; the reference code
      starts one chain at frame 0 only — with ``T = K + 1`` the two agree.
    * ``L_var``, ``L_cov``: VICReg terms on ALL ``B·T`` encodings pooled as samples, as the reference code does.
    * ``L_sim``: mean squared change between consecutive encodings (paper eq. 12).
    * ``L_IDM``: MSE of the inverse-dynamics model's guess of ``a_t`` from ``[z_t, z_{t+1}]``.

    Args:
        obs: normalised observations ``[B, T, 2, 65, 65]``; actions: ``[B, T-1, 2]``.

    Returns:
        ``(loss, terms, z)``: scalar loss, a dict of floats (``pred``, ``variance``, ``covariance``,
        ``similarity``, ``idm``, ``total``) and the encodings ``[B, T, D]``.
    """
    b, t = obs.shape[:2]
    if actions.shape[:2] != (b, t - 1):
        raise ValueError(f"actions must be [B, T-1, A] = [{b}, {t - 1}, A], got {tuple(actions.shape)}")
    if not 1 <= rollout_steps <= t - 1:
        raise ValueError(f"rollout_steps must be in 1..T-1 = 1..{t - 1}, got {rollout_steps}")
    z = model.encode(obs)
    k = rollout_steps
    starts = t - k                                                       # chains per clip
    z0 = z[:, :starts].reshape(b * starts, -1)
    a = actions.unfold(1, k, 1)[:, :starts].transpose(-1, -2).reshape(b * starts, k, -1)   # [B·S, K, A]
    target = z.unfold(1, k, 1)[:, 1:starts + 1].transpose(-1, -2).reshape(b * starts, k, -1)
    z_hat = model.rollout(z0, a)
    d = model.learned_dim           # a "walls" layout code is no parameter's output: eq. 13 shapes the rest
    pred = (z_hat[:, 1:, :d] - target[..., :d]).pow(2).mean()
    flat = z[..., :d].reshape(b * t, -1)
    var = vicreg_variance(flat)
    cov = vicreg_covariance(flat)
    zt = z.transpose(0, 1)
    sim = temporal_similarity(zt[..., :d])
    idm = inverse_dynamics_loss(model.idm, zt, actions.transpose(0, 1)) if weights.idm > 0 else z.new_zeros(())
    loss = pred + weights.variance * var + weights.covariance * cov + weights.similarity * sim + weights.idm * idm
    terms = {"pred": pred.item(), "variance": var.item(), "covariance": cov.item(), "similarity": sim.item(),
             "idm": idm.item(), "total": loss.item()}
    return loss, terms, z


class WorldData:
    """The offline dataset (cached long walks) and a batch sampler that cuts clips out of them and
    renders the frames on the fly.

    Args:
        settings: :class:`~ebjepa_mini.presets.WorldSettings` (number and length of the walks, clip
            length, batch).
        seed: generator seed (the held-out split uses ``seed + 1``).
    """

    def __init__(self, settings: WorldSettings, seed: int = 0, cache_dir=None):
        if settings.walk_len < settings.clip_len:
            raise ValueError(f"walk_len ({settings.walk_len}) must be >= clip_len ({settings.clip_len})")
        self.cfg = TrajectoryConfig(n_traj=settings.n_traj, length=settings.walk_len, fixed_wall=settings.fixed_wall,
                                    cross_wall_rate=settings.cross_wall_rate, seed=seed)
        self.clip_len = settings.clip_len
        self.data = load_or_generate(self.cfg, cache_dir)
        self.n = len(self.data["pos"])

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Random clips: walk indices ``[B]`` and window starts ``[B]`` (uniform over the walk)."""
        return rng.integers(0, self.n, batch_size), rng.integers(0, self.cfg.length - self.clip_len + 1, batch_size)

    def clips(self, idx, start=0) -> dict[str, np.ndarray]:
        """Positions ``[B, T, 2]`` and actions ``[B, T-1, 2]`` of the windows ``start .. start+T-1`` of walks ``idx``."""
        idx = np.asarray(idx).reshape(-1)
        t = start + np.arange(self.clip_len)[None] if np.ndim(start) == 0 else np.asarray(start)[:, None] + np.arange(self.clip_len)
        t = np.broadcast_to(t, (len(idx), self.clip_len))
        rows = idx[:, None]
        return {"pos": self.data["pos"][rows, t], "actions": self.data["actions"][rows, t[:, :-1]],
                "wall_x": self.data["wall_x"][idx], "door_y": self.data["door_y"][idx]}

    def batch(self, idx, device="cpu", start=0) -> dict[str, torch.Tensor]:
        """Clips of walks ``idx`` from ``start``: ``obs [B, T, 2, 65, 65]`` (normalised float),
        ``actions [B, T-1, 2]``, ``pos [B, T, 2]``."""
        c = self.clips(idx, start)
        pos = c["pos"]
        b, t = pos.shape[:2]
        wx = np.repeat(c["wall_x"], t)
        dy = np.repeat(c["door_y"], t)
        obs = tr.observe(pos.reshape(-1, 2), wx, dy, device).reshape(b, t, 2, tr.SIZE, tr.SIZE)
        return {"obs": obs, "actions": torch.from_numpy(np.ascontiguousarray(c["actions"])).to(device),
                "pos": torch.from_numpy(np.ascontiguousarray(pos)).to(device)}


@dataclass
class WorldRun:
    """A trained (or loaded) world model with its history, settings and metrics."""

    model: WorldModel
    settings: WorldSettings
    weights: WorldWeights
    history: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    train_s: float = 0.0


def build_model(settings: WorldSettings) -> WorldModel:
    return WorldModel(settings.stacks, settings.blocks, settings.latent_dim, settings.idm_hidden, settings.probe_hidden,
                      pool=settings.pool, predictor=settings.predictor, pred_hidden=settings.pred_hidden,
                      layout=settings.layout, layout_dim=settings.layout_dim, layout_pool=settings.layout_pool)


def train_world_model(settings: WorldSettings | str | None = None, weights: WorldWeights | None = None, seed: int = 0,
                      device=None, steps: int | None = None, progress: bool | None = None, callbacks=()) -> WorldRun:
    """Train a world model on the offline Two Rooms data (paper eq. 13).

    AdamW (lr, weight decay from the preset), linear warm-up over 10% of the steps then cosine to
    ``lr_floor`` (paper Table 6), gradient-norm clipping; the position probe trains at the same time on
    detached latents (its loss is reported as ``probe``, in normalised units).

    Args:
        settings: a :class:`WorldSettings`, a preset name, or ``None`` (the current preset).
        weights: eq. 13 coefficients (default: ``settings.weights``); given, they replace the settings' own,
            so the run's settings say which weights trained it.
        steps: override ``settings.steps``.
    """
    if settings is None or isinstance(settings, str):
        settings = get_preset(settings).world
    settings = settings if weights is None else replace(settings, weights=weights)
    weights = settings.weights
    steps = settings.steps if steps is None else steps
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    data = WorldData(settings, seed=seed)
    model = build_model(settings).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, warmup_cosine(max(steps, 1), settings.warmup_frac, floor=settings.lr_floor / settings.lr))
    gen = np.random.default_rng(seed)

    def step_fn():
        idx, start = data.sample(settings.batch_size, gen)
        b = data.batch(idx, device, start)
        loss, terms, z = world_model_loss(model, b["obs"], b["actions"], weights, settings.rollout_steps)
        probe = F.mse_loss(model.probe(z.detach()), tr.normalize_pos(b["pos"].cpu()).to(device))
        terms["probe"] = probe.item()
        return loss + probe, terms

    trainer = Trainer(model, step_fn, opt, sched, grad_clip=settings.grad_clip,
                      config={"settings": asdict(settings), "weights": asdict(weights), "seed": seed})
    t0 = time.perf_counter()
    history = trainer.run(steps, callbacks=callbacks, progress=progress, desc="world model")
    train_s = time.perf_counter() - t0
    model.eval()
    return WorldRun(model, settings, weights, dict(history), {"train_steps": trainer.step}, train_s)


@torch.no_grad()
def rollout_positions(model: WorldModel, start_obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Decode a latent rollout to pixel positions with the probe: obs ``[N, 2, 65, 65]`` (uint8 or
    normalised), actions ``[N, H, 2]`` -> positions ``[N, H+1, 2]``."""
    x = tr.normalize_obs(start_obs) if start_obs.dtype == torch.uint8 else start_obs
    return model.positions(model.rollout(model.encode(x), actions))


LAYOUT_TARGETS = ("dot x", "dot y", "wall x", "door y")


@torch.no_grad()
def layout_probe(model: WorldModel, n: int = 3000, seed: int = 0, test_frac: float = 0.2) -> RegressionProbe:
    """What does the latent know about the scene? A linear read-out (:func:`~ebjepa_mini.probes.ridge_probe`)
    of the dot position and of the layout (wall x, door y) from the encodings of ``n`` random frames
    (random layout, dot anywhere off the wall), fitted on ``1 - test_frac`` of them and scored on the rest.

    The planner can only avoid the wall if the predictor knows where it is, and the predictor sees
    nothing but the latent: a layout that the latent does not encode is a wall the model walks through.

    Returns:
        :class:`~ebjepa_mini.probes.RegressionProbe`, targets in the order of :data:`LAYOUT_TARGETS` (pixels).
    """
    if not isinstance(n, int) or n < 20:
        raise ValueError(f"n must be an int >= 20, got {n!r}")
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac!r}")
    rng = np.random.default_rng(seed)
    wall_x, door_y = tr.sample_layouts(n, rng)
    lo, hi = tr.BORDER[0] + 1.0, tr.BORDER[1] - 1.0
    pos = rng.uniform(lo, hi, size=(n, 2))
    # keep the dot off the wall band: move it sideways by the band's width plus a margin
    band = np.abs(pos[:, 0] - wall_x) <= tr.WALL_HALF + 1.0
    pos[band, 0] += np.where(pos[band, 0] < wall_x[band], -1.0, 1.0) * (2 * tr.WALL_HALF + 2.0)
    model.eval()
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    z = torch.cat([model.encode(tr.observe(pos[i:i + 500], wall_x[i:i + 500], door_y[i:i + 500], dev))
                   for i in range(0, n, 500)]).cpu()
    y = np.stack([pos[:, 0], pos[:, 1], wall_x, door_y], 1).astype(np.float64)
    k = n - max(1, int(round(test_frac * n)))
    return ridge_probe(z[:k], y[:k], z[k:], y[k:])


# -- checkpoints ---------------------------------------------------------------------------------------

PRETRAINED = Path(__file__).parent / "assets" / "world_model_cpu.pt"


#: the committed models: ``cpu`` (the chapters' default, trained on 2 CPU cores) and ``gpu`` (trained
#: on one GPU by ``python -m ebjepa_mini.bench world --preset gpu --save-model ...``); each has a JSON card
PRETRAINED_PRESETS = ("cpu", "gpu")
PRETRAINED_VARIANTS = (("cpu", "k8"),)


def pretrained_path(preset: str = "cpu", tag: str | None = None) -> Path:
    """The committed world model trained under ``preset`` (``"cpu"`` or ``"gpu"``); its card is the ``.json``
    beside it. ``tag`` names a committed variant of that preset's recipe (``"k8"``: the ``cpu`` recipe with
    the paper's 8-step rollouts on 13-frame clips, chapter 5 § 5.5)."""
    if preset not in PRETRAINED_PRESETS:
        raise ValueError(f"preset must be one of {PRETRAINED_PRESETS}, got {preset!r}")
    if tag is not None and (preset, tag) not in PRETRAINED_VARIANTS:
        raise ValueError(f"tag must be None or one of {[t for p, t in PRETRAINED_VARIANTS if p == preset]}, got {tag!r}")
    return PRETRAINED.with_name(f"world_model_{preset}{'-' + tag if tag else ''}.pt")


def save_world_model(run: WorldRun, path, extra: dict | None = None) -> Path:
    """Atomically save a :class:`WorldRun` (weights as float32, settings, weights, history, metrics)."""
    state = {"state_dict": {k: v.detach().cpu().float().contiguous() for k, v in run.model.state_dict().items()},
             "settings": asdict(run.settings), "weights": asdict(run.weights),
             "history": {k: [float(x) for x in v] for k, v in run.history.items()},
             "metrics": dict(run.metrics), "train_s": float(run.train_s), **(extra or {})}
    return save_checkpoint(path, state)


def load_world_model(path=None, device="cpu") -> WorldRun:
    """Load a world model saved by :func:`save_world_model` (``weights_only=True``); default: the committed one."""
    path = Path(path or PRETRAINED)
    state = load_checkpoint(path, map_location=device)
    s = dict(state["settings"])
    s["stacks"] = tuple(s["stacks"])
    s["weights"] = WorldWeights(**s["weights"])
    settings = WorldSettings(**s)
    model = build_model(settings)
    model.load_state_dict(state["state_dict"])
    model.to(device).eval()
    run = WorldRun(model, settings, WorldWeights(**state["weights"]), state.get("history", {}),
                   state.get("metrics", {}), state.get("train_s", 0.0))
    return run
