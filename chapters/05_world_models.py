# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ch-world)=
# # 5. World models: an action-conditioned JEPA in Two Rooms
#
# The JEPAs of the earlier chapters predict what they will *see*. A **world model** predicts what
# it will see *if it acts*: its predictor also reads an action. Trained on recorded trajectories
# only, with no reward and no pixel reconstruction, such a model can later be used to plan
# (chapter 6). The EB-JEPA paper {cite:p}`ebjepa2026` builds one for a small navigation task, Two
# Rooms, following PLDM {cite:p}`sobal2025learning`: a dot must get from one room to the other through a
# door whose position changes from episode to episode.
#
# **Learning objectives.** After this chapter you can
#
# 1. describe the Two Rooms environment (observations, actions, walls, success) and generate its
#    offline data;
# 2. explain why the predictor needs the action as input and a memory of the state, and write
#    the autoregressive latent rollout (paper eqs. 4, 9);
# 3. write the world-model loss of paper eq. 13 term by term and say what each term prevents;
# 4. check a model's imagination against reality by decoding latent rollouts with a probe, and
#    test with a linear read-out what the latent knows about the scene;
# 5. read the regulariser ablation (the paper's Table 4, right) at this book's scale.
#
# Where this chapter follows or departs from the paper and its reference code is listed on the
# {ref}`paper-and-book` page; the symbols are collected on the {ref}`notation` page.
#
# **Runtime** (the sizes are in `preset.world`; the chapter loads the committed pretrained model
# and trains only a short demonstration run):
#
# | preset | what runs | time |
# |---|---|---|
# | `ci` | 40 training steps on 2,000 clips, probes of the two pretrained models, three short runs for ex-world-4 | 29 s on 2 CPU cores (measured per chapter on the {doc}`status page <../book/status>`) |
# | `cpu` | 2,000 training steps (the full small model) + the same figures | 6.9 minutes on 2 CPU cores (measured per chapter on the {doc}`status page <../book/status>`) |
# | `gpu` | IMPALA (16, 32, 32), 256-d latent, 3,000 steps of batch 256 | not yet measured |

# %% tags=["colab-setup"]
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install the book's package, keep Colab's torch
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ebjepa-mini[colab] @ git+https://github.com/ebjepa-mini/ebjepa-mini-book@main"], check=True)
from ebjepa_mini import chapter_setup
preset, device = chapter_setup(seed=0)

# %%

import matplotlib.pyplot as plt
import numpy as np
import torch

from ebjepa_mini import checks, viz
from ebjepa_mini.bench import stored_results
from ebjepa_mini.data import two_rooms as tr
from ebjepa_mini.nets import count_parameters
from ebjepa_mini.planning import waypoint_actions
from ebjepa_mini.world import (LAYOUT_TARGETS, WorldWeights, build_model, file_sha256, layout_probe, load_world_model,
                               pretrained_path, train_world_model, world_model_loss, WorldData)

viz.use_book_style()
S = preset.world
print(S)

# %% [markdown]
# ## 5.1 The environment
#
# The world is a $65\times 65$ canvas with border walls, and an inner vertical wall with a
# 9-pixel door. The dot has a continuous position $\mathbf r_t = (x, y)$ in pixels; an action is a
# displacement $a_t = (\Delta x, \Delta y)$, so $\mathbf r_{t+1} = \mathbf r_t + a_t$, except that a step
# that would enter a wall stops just before it. An observation has two channels: the dot drawn as
# a Gaussian blob of width 1.3 px and the walls. Each episode draws a new layout (wall column
# $x \in \{20..44\}$, door row $y \in \{10..54\}$: 1,125 layouts), a start and a goal **in different
# rooms**; it succeeds if the dot ends within 4.5 px of the goal (paper § 5.3). The environment
# follows the Gymnasium API {cite:p}`towers2024gymnasium`:

# %% mystnb={"image": {"alt": "Three images of one Two Rooms observation: the dot channel with a small bright blob, the walls channel with the border walls and an inner vertical wall with a door gap, and the environment's colour rendering with the dot in red and the goal in green."}}
env = tr.TwoRoomsEnv(max_steps=preset.plan.max_steps)
obs, info = env.reset(seed=0)
print("observation", obs.shape, obs.dtype, "| info:", {k: (np.round(v, 1) if isinstance(v, np.ndarray) else v)
                                                      for k, v in info.items()})
for _ in range(10):
    obs, reward, terminated, truncated, info = env.step(np.array([1.5, 0.5]))
print(f"after 10 steps: pos {np.round(info['pos'], 1)}, reward (minus the distance) {reward:.1f}")

fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9))
axes[0].imshow(obs[0], cmap="gray"); axes[0].set_title("channel 0: the dot")
axes[1].imshow(obs[1], cmap="gray"); axes[1].set_title("channel 1: the walls")
axes[2].imshow(env.render()); axes[2].set_title("render(): dot red, goal green")
for ax in axes:
    ax.set_xticks([]); ax.set_yticks([]); ax.grid(False)
plt.show()

# %% [markdown]
# *Figure: one observation of Two Rooms, its two channels (left, middle) and the environment's
# RGB rendering with the goal (right).*
#
# ## 5.2 Offline data: random walks that sometimes go through the door
#
# A world model learns from recorded experience, here random walks (paper § 5.3): the heading
# drifts with von Mises increments ($\kappa = 5$), step lengths are normal(1, 0.4) truncated to
# $[0.2, 1.8]$ px, and 35% of the clips are aimed at the door so that crossings are not rare.
# The generator is vectorised over trajectories (one Python loop over time steps, not over items)
# and its output is cached on disk, keyed by its settings.

# %% mystnb={"image": {"alt": "Six small Two Rooms layouts, each with one clip of the offline random-walk dataset drawn as a blue path from an open circle (start) to a filled dot (end), and titled by whether the clip crosses the door or stays in its room."}}
data = WorldData(S, seed=0).data
side = np.stack([tr.same_room(data["pos"][:, t], data["wall_x"]) for t in range(S.clip_len)], 1)
crossed = ((side == -1).any(1) & (side == 1).any(1))
steps = np.linalg.norm(np.diff(data["pos"], axis=1), axis=-1)
print(f"{len(data['pos']):,} clips of {S.clip_len} frames; {crossed.mean():.0%} cross the wall "
      f"({crossed[data['crossing']].mean():.0%} of those aimed at the door); "
      f"mean step {steps.mean():.2f} px, {np.mean(steps < 0.05):.1%} of steps blocked by a wall")
fig = viz.plot_rooms(data, n=6, title="six clips of the offline dataset (○ start, ● end)")
plt.show()

# %% [markdown]
# ## 5.3 The model: an encoder, a predictor with a memory, and an action
#
# The JEPA of paper eq. 4 has three parts:
#
# $$
# z_t = f_\theta(x_t),\qquad \hat z_{t+1} = g_\phi(\hat z_t, a_t),\qquad
# E(x_t, a_t, x_{t+1}) = \lVert g_\phi(f_\theta(x_t), a_t) - f_\theta(x_{t+1}) \rVert^2 .
# $$ (eq-world-energy)
#
# * The **encoder** $f_\theta$ is an IMPALA ConvNet {cite:p}`espeholt2018impala` (three stacks of
#   conv, max-pool and two residual blocks), a linear layer and a LayerNorm (paper Table 6). In the
#   small presets it reads the frame average-pooled to $32\times 32$ and has (8, 16, 16) channels.
# * The **predictor** $g_\phi$ is a single GRU cell {cite:p}`cho2014gru` whose *hidden state is the
#   latent* and whose *input is the raw action*; its output passes through the encoder's own
#   LayerNorm. Why an action input? The next frame is not a function of the current one: from the
#   same place the dot can go anywhere, and only the action says where. Without it the predictor
#   could only learn the average future, a blur. Why a recurrent cell? The predictor is applied to
#   its own outputs during a rollout,
#
# $$
# \hat z_0 = f_\theta(x_0),\qquad \hat z_{k+1} = g_\phi(\hat z_k, a_k),\quad k = 0, \dots, H-1,
# $$ (eq-world-rollout)
#
#   so it must carry everything needed for the future (the dot's position *and* where the walls
#   are) in the state it passes on; the GRU's gates decide what to keep. The action encoder
#   $q_\omega$ of paper eq. 4 is the identity here.
# * An **inverse-dynamics model** (IDM), an MLP on $[z_t, z_{t+1}]$, guesses the action that
#   connects two latents. It is only used by the loss.

# %%
pre = load_world_model()           # the committed pretrained model (see the note below)
m = pre.model
for name, part in [("encoder f_θ", m.encoder), ("predictor g_φ (GRU)", m.gru), ("inverse dynamics", m.idm),
                   ("position probe (pictures only)", m.probe)]:
    print(f"{name:32s} {count_parameters(part):>9,} parameters")
print(f"latent dimension D = {m.latent_dim}; pretrained with {pre.metrics.get('train_steps')} steps "
      f"in {pre.train_s / 60:.1f} min ({pre.metrics.get('hardware', 'hardware not recorded')})")
print(f"checkpoint {pretrained_path().name}: {pretrained_path().stat().st_size / 1e6:.2f} MB, "
      f"sha256 {file_sha256(pretrained_path())[:16]}…")

# %% [markdown]
# ```{note}
# The chapter loads `ebjepa_mini/assets/world_model_cpu.pt`, a small model trained by this package
# with the `cpu` preset (the command, hardware, settings and loss history are stored inside the
# file and printed above). Retrain it with
# `python -m ebjepa_mini.bench world --preset cpu --save-model my_model.pt`, or in a notebook with
# `train_world_model("cpu")`.
# ```
#
# ## 5.4 The loss, term by term (paper eq. 13)
#
# Training minimises
#
# $$
# \mathcal L = \mathcal L_\text{pred} + \lambda_\text{std}\,\mathcal L_\text{var} + \lambda_\text{cov}\,\mathcal L_\text{cov}
#            + \lambda_\text{sim}\,\mathcal L_\text{sim} + \lambda_\text{IDM}\,\mathcal L_\text{IDM}
# $$ (eq-world-loss)
#
# with EB-JEPA's weights $\lambda_\text{std} = 16$, $\lambda_\text{cov} = 8$, $\lambda_\text{sim} = 12$,
# $\lambda_\text{IDM} = 1$ (the paper writes them $\alpha, \beta, \delta, \omega$; `WorldWeights` calls
# them `std`, `cov`, `sim`, `idm`). The squared distances below are *means* over their entries
# (over the $D$ latent dimensions, $\frac1D\lVert\cdot\rVert_2^2$, or over the two action
# components), averaged over clips and steps, because that is what the code computes; with the
# paper's plain $\lVert\cdot\rVert^2$, $\mathcal L_\text{pred}$ and $\mathcal L_\text{sim}$ would be
# $D$ times larger and the same weights would balance the terms differently.
#
# * $\mathcal L_\text{pred} = \frac{1}{B\,(T-K)\,K}\sum_{b}\sum_{t=0}^{T-1-K}\sum_{k=1}^{K}
#   \frac1D\lVert \hat z^{(k)}_{t} - z_{t+k}\rVert_2^2$, where $\hat z^{(k)}_t$ is the prediction after
#   a chain of $k$ predictor calls {eq}`eq-world-rollout` started from the encoding $z_t$ of clip
#   $b$, compared with the encoding it should reach (paper eqs. 9–10; $K = 8$). Nothing is
#   detached: the targets also move, which is exactly why the model could cheat by mapping
#   everything to one point.
# * $\mathcal L_\text{var}$ and $\mathcal L_\text{cov}$: the VICReg terms of chapter 2, with every
#   frame of every clip as a sample. They rule out the collapsed solution.
# * $\mathcal L_\text{sim} = \frac{1}{B\,(T-1)}\sum_b\sum_{t=0}^{T-2} \frac1D\lVert z_{t+1} - z_t \rVert_2^2$ (paper eq. 12):
#   consecutive latents should be close, because consecutive frames differ by one small step. It
#   makes the latent space *smooth in time*, which is what a planner that compares distances needs.
# * $\mathcal L_\text{IDM} = \operatorname{mean}_{b,t}\,\frac12\lVert \text{IDM}(z_t, z_{t+1}) - a_t \rVert_2^2$
#   (the mean over the two action components): the latents must
#   contain the information that tells which action was taken, i.e. the dot's position. Without it,
#   VICReg can be satisfied by features the action does not control (the wall position alone is
#   enough to spread the embeddings), and the predictor has nothing to predict.
#
# One call of `world_model_loss` on a batch shows the terms (unweighted):

# %%
batch = WorldData(S, seed=0).batch(np.arange(16))
loss, terms, z = world_model_loss(m, batch["obs"], batch["actions"], pre.weights, S.rollout_steps)
print("batch:", {k: tuple(v.shape) for k, v in batch.items()})
print("terms of the pretrained model:", {k: round(v, 4) for k, v in terms.items()})

# %% [markdown]
# The whole of eq. {eq}`eq-world-loss`, from scratch, in a few lines, next to the package's
# `world_model_loss` on the same batch:

# %%
def my_world_loss(model, obs, actions, w, K):
    """Eq. (eq-world-loss) as `world_model_loss` computes it; w.std, w.cov, w.sim, w.idm = λ_std, λ_cov, λ_sim, λ_IDM."""
    z = model.encode(obs)                                           # [B, T, D]
    B, T, D = z.shape
    pred = 0.0
    for t in range(T - K):                                          # a chain of K predictor calls from every frame t
        z_hat = model.rollout(z[:, t], actions[:, t:t + K])         # [B, K+1, D]; index 0 is z_t itself
        pred = pred + (z_hat[:, 1:] - z[:, t + 1:t + K + 1]).pow(2).mean() / (T - K)   # (1/D)‖·‖², mean over b, k
    flat = z.reshape(B * T, D)                                      # every frame of every clip is a sample
    var = torch.relu(1 - (flat.var(0) + 1e-4).sqrt()).mean()        # variance hinge (chapter 2, paper eq. 6)
    C = (flat - flat.mean(0)).T @ (flat - flat.mean(0)) / (B * T - 1)
    cov = (C - torch.diag(C.diag())).pow(2).sum() / (D * (D - 1))   # off-diagonal covariance (paper eq. 7)
    sim = (z[:, 1:] - z[:, :-1]).pow(2).mean()                      # temporal similarity (paper eq. 12)
    idm = (model.idm(torch.cat([z[:, :-1], z[:, 1:]], -1)) - actions).pow(2).mean()   # inverse dynamics
    return pred + w.std * var + w.cov * cov + w.sim * sim + w.idm * idm


with torch.no_grad():
    mine = my_world_loss(m, batch["obs"], batch["actions"], pre.weights, S.rollout_steps)
    theirs = world_model_loss(m, batch["obs"], batch["actions"], pre.weights, S.rollout_steps)[0]
assert torch.allclose(mine, theirs, rtol=1e-4, atol=1e-5), (mine, theirs)
print(f"my_world_loss {mine.item():.5f} = world_model_loss {theirs.item():.5f}")

# %% [markdown]
# A short demonstration run trains a fresh model with the same code (under `ci` only a few
# steps; under `cpu` the full 2,000, which is how the pretrained model was made). The figure
# shows the pretrained model's stored history, term by term.

# %% mystnb={"image": {"alt": "Two line plots over the training steps of the pretrained world model, on log scales. Left: the five unweighted, smoothed terms of the loss (prediction, variance, covariance, time similarity and inverse dynamics), the prediction and inverse-dynamics terms falling steadily; right: the RMS error of the position probe in pixels, which falls as training goes on."}}
demo = train_world_model(S, seed=1, steps=S.steps)
first, last = {k: v[0] for k, v in demo.history.items()}, {k: v[-1] for k, v in demo.history.items()}
print(f"demo run: {S.steps} steps in {demo.train_s:.0f} s; prediction term {first['pred']:.3f} -> {last['pred']:.3f}, "
      f"IDM {first['idm']:.3f} -> {last['idm']:.3f}")
fig = viz.plot_world_training(pre.history, pre.weights, title="pretrained model: eq. 13 during training")
plt.show()

# %% [markdown]
# *Figure: left, the five terms of eq. 13 (unweighted, smoothed) while the pretrained model
# trained; right, the error of the position probe, a small MLP trained on detached latents to
# read the dot's position, in pixels.*
#
# :::{admonition} What you should see
# The prediction and IDM terms fall by an order of magnitude; the variance hinge drops to almost
# zero early (the latents spread at once) while the covariance term decreases slowly; the probe's
# error falls to about a pixel: the latent knows where the dot is.
# :::
#
# ## 5.5 Imagination against reality
#
# The probe turns a latent into a position, so a *rollout* can be drawn: encode the first frame
# of a clip, apply the predictor with the clip's true actions, and decode every imagined latent.
# The clips here are longer (40 steps) than the training clips and come from a different seed.

# %% mystnb={"image": {"alt": "Three Two Rooms clips, two of them through the door, each with the real path in black and the path the model imagines from the first frame and the actions in dashed red, next to a line plot of the mean position error in pixels against the number of predictor calls. The imagined paths start on the real ones and drift away, and the rollout error grows with every predictor call while the probe of the true encodings stays low."}}
H = 40
test = tr.generate_trajectories(tr.TrajectoryConfig(n_traj=200, length=H + 1, seed=123))
with torch.no_grad():
    frames = tr.render(test["pos"].reshape(-1, 2), np.repeat(test["wall_x"], H + 1), np.repeat(test["door_y"], H + 1))
    z_true = m.encode(tr.normalize_obs(frames).reshape(200, H + 1, 2, tr.SIZE, tr.SIZE))
    z_roll = m.rollout(z_true[:, 0], torch.from_numpy(test["actions"]))
    p_enc, p_roll = m.positions(z_true).numpy(), m.positions(z_roll).numpy()
err_enc = np.linalg.norm(p_enc - test["pos"], axis=-1).mean(0)
err_roll = np.linalg.norm(p_roll - test["pos"], axis=-1).mean(0)
crossers = np.flatnonzero((np.sign(test["pos"][:, 0, 0] - test["wall_x"]) != np.sign(test["pos"][:, -1, 0] - test["wall_x"])))
show = list(crossers[:2]) + [int(np.argmax(np.linalg.norm(test["pos"][:, -1] - test["pos"][:, 0], axis=1)))]
fig = viz.plot_rollout_check(test["pos"][show], p_roll[show], test["wall_x"][show], test["door_y"][show],
                             errors={"probe of the encoding": err_enc, "probe of the rollout": err_roll})
plt.show()
for k in (1, 8, 20, 40):
    print(f"after {k:2d} predictor calls: mean error {err_roll[k]:.1f} px (encoding itself: {err_enc[k]:.1f} px)")

# %% [markdown]
# *Figure: three test clips (two of them through the door): the real path (black) and the path
# the model imagines from the first frame and the actions alone (dashed red). Right: mean
# position error over 200 clips against the number of predictor calls.*
#
# :::{admonition} What you should see
# For the first few steps the imagined path sits on the real one; the error starts near the
# probe's own error (about a pixel) and grows with every predictor call, to a few pixels after 8
# calls (the rollout length the model was trained with) and more than 10 px after 40. This growth
# is why a planner replans after every few steps. Where a real path stops at a wall, the imagined
# one may slide on or through it; the next section shows why.
# :::
#
# ## 5.6 What the latent knows, and what it threw away
#
# The predictor sees nothing but the latent and the action. To know that a step towards the inner
# wall is blocked, or that it passes through the door, the latent must hold where the wall and
# the door are. Does it? Ask a linear read-out ({func}`~ebjepa_mini.world.layout_probe`): encode
# frames of random layouts with the dot anywhere, fit a ridge regression from the latents to the
# dot's position, the wall's $x$ and the door's $y$, and score it on held-out frames against the
# best constant guess. Do the same with an *untrained* encoder of the same shape, and with the
# larger model this book trained on a GPU (`gpu` preset: full 65×65 frames, latent of 256,
# 100,000 clips, 3,000 steps of 256; committed beside the `cpu` one, with its card).

# %% mystnb={"image": {"alt": "Grouped bar chart of how much of four quantities a linear read-out recovers from the latent (1 = perfect, 0 = no better than a constant guess): dot x, dot y, wall x and door y, for an untrained encoder, the chapter's trained world model and the larger gpu-preset model. The chapter's model recovers the dot almost perfectly but the wall and door not at all; the untrained encoder recovers part of the wall position; the gpu-preset model recovers all four."}}
torch.manual_seed(0)
untrained = build_model(pre.settings)
big = load_world_model(pretrained_path("gpu")).model       # the gpu-preset model (trained on an H200)
probes = {"untrained encoder": layout_probe(untrained), "trained world model": layout_probe(m),
          "gpu-preset model": layout_probe(big)}
for label, pr in probes.items():
    print(f"{label:20s} " + " · ".join(f"{t} {e:.1f} px (guess {b:.1f})"
                                       for t, e, b in zip(LAYOUT_TARGETS, pr.mae, pr.baseline_mae)))
fig = viz.plot_probe_kept(probes, LAYOUT_TARGETS, title="what a linear read-out finds in the latent")
plt.show()

# %% [markdown]
# *Figure: the share of each quantity a linear read-out recovers from the latent (1 = perfect,
# 0 = no better than always guessing the average), labels give the read-out's mean error: an
# untrained encoder of the same shape as the chapter's model, the chapter's trained model, and the
# larger gpu-preset model.*
#
# What that costs: push the dot straight at the goal, which lies in the other room, and compare
# the imagined path with the real one. In reality the dot stops at the wall unless the door
# happens to lie on the straight line.

# %% mystnb={"image": {"alt": "Three Two Rooms tasks in which the dot is pushed straight towards a goal in the other room: the real path (black) stops at the inner wall while the imagined path (dashed red) walks on through the wall into the other room (imagined by the chapter's model; the printout counts the same for the gpu-preset model)."}}
tasks = tr.sample_tasks(40, seed=7)
push = waypoint_actions(tasks["start"], tasks["goal"][:, None], speed=1.5, horizon=H)   # straight at the goal
real = tr.simulate(tasks["start"], push.numpy(), tasks["wall_x"], tasks["door_y"])        # [40, H+1, 2]
start_obs = tr.normalize_obs(tr.render(tasks["start"], tasks["wall_x"], tasks["door_y"]))
blocked = tr.same_room(real[:, -1], tasks["wall_x"]) == tr.same_room(tasks["start"], tasks["wall_x"])
imagined, through = {}, {}
for label, mdl in (("trained world model", m), ("gpu-preset model", big)):
    with torch.no_grad():
        imagined[label] = mdl.positions(mdl.rollout(mdl.encode(start_obs), push)).numpy()
    through[label] = blocked & (tr.same_room(imagined[label][:, -1], tasks["wall_x"]) != tr.same_room(tasks["start"], tasks["wall_x"]))
    print(f"{label}: {blocked.sum()} of {len(blocked)} pushes are stopped by the wall; it imagines "
          f"{through[label].sum()} of them ending in the other room")
show = list(np.flatnonzero(through["trained world model"])[:3]) or list(np.flatnonzero(blocked)[:3])
fig = viz.plot_rollout_check(real[show], imagined["trained world model"][show], tasks["wall_x"][show], tasks["door_y"][show], n=len(show),
                             names=[f"task {i}" for i in show])
plt.show()

# %% [markdown]
# *Figure: the dot pushed straight at a goal in the other room: the real path (black) stops at
# the wall, the imagined one (dashed red) does not.*
#
# :::{admonition} What you should see
# The trained latent holds the dot to about half a pixel but the wall and the door no better than
# a constant guess, while the untrained encoder of the same shape still carries part of the wall's
# position: training *threw the layout away*. Nothing in eq. 13 asks to keep it. The layout never
# changes within a clip, so it helps to predict the next latent only in the few steps that touch
# the inner wall, and the regularisers are satisfied by features of the dot alone. At this book's
# budget (2,000 steps of 64 clips, against 3,120 steps of 384 in the paper) the encoder keeps the
# dot and loses the layout. A model that does not know where the door is cannot tell a blocked
# push from a passage; most pushes at the wall then end in the other room. Chapter 6 measures what
# this does to planning.
#
# Size changes the first half of that story, not the second. The gpu-preset model (four times the
# pixels, four times the latent, five times the clips, twelve times the clips per step) keeps the
# wall and the door in its latent almost as well as the dot, and still imagines the pushes
# through the wall: holding the layout is necessary, not sufficient. Its predictor must also learn
# that a wall stops the dot, from random walks in which a wall stops it in only a few steps
# (the printout of § 5.2), and most of those at the border, not at the inner wall.
# :::
#
# ## 5.7 Which terms matter? The regulariser ablation
#
# The paper removes one term of eq. 13 at a time and measures *planning* success (Table 4,
# right): without variance 47%, without covariance 46%, without temporal similarity 61%, without
# IDM 1%, against 97% for the full model. The benchmark `python -m ebjepa_mini.bench world
# --ablation TERM` repeats this at this book's scale; the stored runs are shown below (chapter 6
# explains the planner).

# %% mystnb={"image": {"alt": "Bar chart of planning success rate for world models trained with the full loss and with one loss term removed (variance, covariance, time similarity or inverse dynamics): this book's runs as solid blue bars next to the paper's Table 4 as hatched bars."}}
stored = stored_results("world*_cpu.json")
PAPER_ABLATION = {"full": 0.97, "no std (α=0)": 0.47, "no cov (β=0)": 0.46, "no sim (δ=0)": 0.61, "no idm (ω=0)": 0.01}
rows = [("full", "world_cpu"), ("no std (α=0)", "world_no-std_cpu"), ("no cov (β=0)", "world_no-cov_cpu"),
        ("no sim (δ=0)", "world_no-sim_cpu"), ("no idm (ω=0)", "world_no-idm_cpu")]
fig = viz.plot_stored_success(stored, rows, PAPER_ABLATION, title="regulariser ablation: planning success (cpu preset)")
if fig is not None:
    plt.show()

# %% [markdown]
# *Figure: planning success of world models trained with one term of eq. 13 removed (solid),
# next to the paper's Table 4 (hatched). Each bar is one training run evaluated on the same
# seeded random-wall tasks.*
#
# Success alone does not say *why* a model plans badly. The stored runs also keep the last training
# losses: the variance hinge (1 means every latent dimension has collapsed to a constant) and the
# position probe's error, which says how much of the dot's position the latent still holds. Newer
# runs also store the linear read-out of § 5.6 (`kept_*`: the share of the dot's position, the
# wall's $x$ and the door's $y$ recovered from the latent).

# %%
for label, stem in rows:
    rec = stored.get(stem)
    if rec is not None and rec.get("final_losses"):
        f = rec["final_losses"]
        probe_px = tr.probe_error_px(f["probe"]) if "probe" in f else float("nan")
        d = rec["results"][0]
        kept = (f" · read-out keeps dot {d['kept_dot']:.2f}, wall {d['kept_wall']:.2f}, door {d['kept_door']:.2f}"
                if "kept_dot" in d else "")
        print(f"{label:14s} variance hinge {f['std']:.3f} · covariance {f['cov']:.3f} · "
              f"probe error ≈ {probe_px:.1f} px per coordinate{kept} · planning success {rec['success_rate']:.0%}")

# %% [markdown]
# :::{admonition} What you should see
# How each ablation fails matches its term. Without the **variance** term nothing stops the
# encoder from mapping every frame to the same point: the hinge ends near 1, the probe cannot find
# the dot, every plan has the same energy and the planner wanders. What little such a latent still
# varies with is mostly the *layout*: it never changes within a clip, so temporal similarity does
# not charge for it, while the moving dot is charged at every step (the read-out, which rescales
# even tiny variations, finds most of the wall, half of the door, and the dot worse than in any
# other model). Without **covariance** the
# latent keeps the position (the probe may even do better: two dimensions suffice to hold it) but
# spends its other dimensions on copies of it, and the distances that rank plans get worse.
# Without the **IDM** nothing ties the latent to what the actions change: the probe's error grows
# several-fold and planning drops far below the full model. **Temporal similarity** matters least
# here. The read-out adds a twist: the models trained without temporal similarity or without the
# IDM keep much more of the wall's position than the full model, yet none that still holds the dot
# keeps the door, and none plans clearly better. Compare the *order* with the paper's rather than
# the values: at this book's scale each bar is one training seed on 100 tasks, so differences
# under about ten points are noise, and where
# the paper's model without variance still planned half the time, this book's small model
# collapses completely.
# :::

# %% [markdown]
# ## Summary
#
# * A world model is a JEPA whose predictor also reads the action: $\hat z_{t+1} = g_\phi(\hat z_t, a_t)$,
#   applied to its own outputs to imagine the latent future of any action sequence
#   (eq. {eq}`eq-world-rollout`), trained on offline random walks without reward or reconstruction.
# * The data must show what the model is to learn: walks that pass through the door *and* pushes
#   that a wall stops. If blocked steps at the inner wall are rare, the predictor has little
#   evidence that a wall stops the dot.
# * Each term of eq. {eq}`eq-world-loss` rules out one cheap solution: the variance and covariance
#   terms a collapsed or redundant latent, temporal similarity a latent that jumps between
#   consecutive frames, the IDM a latent that ignores what the action moves.
# * A planner can only respect what the latent keeps. Read the latent out (§ 5.6): holding the dot is
#   not enough; to predict a blocked push, the latent must also keep the layout (wall column and
#   door row), and the predictor must have learned what a wall does.
# * Imagination drifts: the rollout error grows with every predictor call and keeps growing beyond the
#   rollout length used in training, which is why the planner of chapter 6 replans.
#
# ## Exercises
#
# :::{exercise} The temporal-similarity term
# :label: ex-world-1
# Write `my_sim(z)` for latents `z: [B, T, D]` that returns $\mathcal L_\text{sim}$, the mean over
# all entries of $(z_{t+1} - z_t)^2$, and check it with `checks.check_temporal_similarity(my_sim)`.
# :::

# %% [markdown]
# :::{solution} ex-world-1
# :class: dropdown
# Differences along the time axis, squared, averaged over batch, time and dimensions.
# :::

# %% tags=["solution", "hide-input"]
def my_sim(z):
    return (z[:, 1:] - z[:, :-1]).pow(2).mean()


checks.check_temporal_similarity(my_sim)

# %% [markdown]
# :::{exercise} Roll out by hand
# :label: ex-world-2
# Using only `model.predict(z, a)` (one GRU step followed by the shared LayerNorm), write
# `my_rollout(model, z0, actions)` for `z0: [N, D]` and `actions: [N, H, 2]` that returns all
# imagined latents `[N, H+1, D]` (eq. {eq}`eq-world-rollout`), and check it with
# `checks.check_world_rollout(my_rollout)`.
# :::

# %% [markdown]
# :::{solution} ex-world-2
# :class: dropdown
# Start the list with `z0`, feed the last latent and the next action to `predict`, stack.
# :::

# %% tags=["solution", "hide-input"]
def my_rollout(model, z0, actions):
    zs = [z0]
    for t in range(actions.shape[1]):
        zs.append(model.predict(zs[-1], actions[:, t]))
    return torch.stack(zs, dim=1)


checks.check_world_rollout(my_rollout)

# %% [markdown]
# :::{exercise} Why does removing the IDM break planning?
# :label: ex-world-3
# Without $\mathcal L_\text{IDM}$ the variance and covariance terms are still satisfied and the
# prediction loss is still low. Explain which cheap solution the encoder can then find, and why
# the planner of chapter 6 fails with it although every training loss looks fine.
# :::

# %% [markdown]
# :::{solution} ex-world-3
# :class: dropdown
# The layout (wall and door position) varies between clips and never changes within one, so an
# encoder that describes only the layout spreads the batch (VICReg is happy) and is perfectly
# predictable (the next latent equals the current one, so the prediction and temporal terms are
# near zero). The dot, the only thing the action moves, can be left out. The IDM term forbids this:
# the action must be recoverable from two consecutive latents, so they must encode the dot's
# position. A planner comparing latents of such a layout-only model sees every plan as equally
# good, hence the paper's 1% success without the IDM.
# :::

# %% [markdown]
# :::{exercise} When is the layout lost?
# :label: ex-world-4
# Train world models for 0, 10 and 40 steps with `train_world_model(S, seed=1, steps=n)` and read
# each latent out with `layout_probe`. How much of the dot and of the wall's position does each
# keep? Does the encoder lose the wall slowly, as the dot gets sharper, or early?
# :::

# %% [markdown]
# :::{solution} ex-world-4
# :class: dropdown
# Even the untrained encoder holds the dot well (a blob's position is easy to read linearly from
# random convolution features) and some of the wall. Training sharpens the dot only a little, and
# most of what the latent held about the wall is gone within the first few dozen steps, long
# before the prediction loss has converged: the layout is dropped as soon as the losses start to
# shape the latent, not squeezed out late by a lack of capacity.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
for n in (0, 10, 40):
    kept = layout_probe(train_world_model(S, seed=1, steps=n, progress=False).model).kept
    print(f"{n:3d} steps: read-out keeps " + ", ".join(f"{t} {k:.2f}" for t, k in zip(LAYOUT_TARGETS, kept)))
