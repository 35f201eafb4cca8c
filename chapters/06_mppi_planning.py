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
# (ch-planning)=
# # 6. Planning with MPPI: inference over actions
#
# Chapter 5 trained a world model of Two Rooms: an encoder $f_\theta$ and an action-conditioned
# predictor $g_\phi$ that imagines the latent future of any action sequence. This chapter uses it
# to act. Planning is *inference* in an energy-based model (chapter 1): the observed variables are
# the current frame and the goal frame, the unknown variable is the action sequence, and the
# planner searches for the actions of lowest energy. The EB-JEPA paper {cite:p}`ebjepa2026` does
# this with MPPI {cite:p}`williams2017information`, a sampling-based optimiser, and compares it with
# the Cross-Entropy Method {cite:p}`rubinstein1999cross`.
#
# **Learning objectives.** After this chapter you can
#
# 1. write the planning energy (paper eq. 14) and explain the cumulative and last-state costs;
# 2. run MPPI (the paper's Algorithm 1) step by step and say what samples, elites, the
#    temperature and the mean update do;
# 3. state the temperature convention of this book and convert the reference code's;
# 4. evaluate a planner on a seeded set of episodes and read success rate and final distance;
# 5. explain why good plans must first move *away* from the goal, and how planners fail;
# 6. split a planner's failures between the predictor and the rest, by replacing the predictor's
#    imagination with the true physics (a perfect predictor).
#
# Where this chapter follows or departs from the paper and its reference code is listed on the
# {ref}`paper-and-book` page; the symbols are collected on the {ref}`notation` page.
#
# **Prerequisites:** chapter 5 (the world model) and chapter 1 (energy and inference). **Runtime**
# (the sizes are in `preset.plan`; the chapter uses the committed pretrained model):
#
# | preset | what runs | time |
# |---|---|---|
# | `ci` | 8 episodes of 100 steps, N = 64, J = 5, replanning every 4 steps | {glue:text}`ch6_time_ci:.0f` s on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `cpu` | 100 episodes of 200 steps, H = 90, N = 200, J = 5 (warm-started), replanning every 4 steps | {glue:text}`ch6_time_cpu:.1f` minutes on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `gpu` | the paper's planner: 100 episodes of 200 steps, H = 90, N = 200, J = 20, replanning every step | not yet measured |
#
# :::{admonition} Where this book stands (stored benchmark runs, 100 tasks each)
# :class: tip
# | | success |
# |---|---|
# | paper, random layouts, MPPI {cite:p}`ebjepa2026` (Table 4) | {glue:text}`paper_plan_mppi:.0f` ± {glue:text}`paper_plan_mppi_sd:.0f` % |
# | reference code, fixed wall (its README) | {glue:text}`paper_plan_fixed_wall:.0f` % |
# | **this book, `cpu` model, fixed wall, MPPI** (chapter 5's committed model, 2 CPU cores, the `cpu` planner of § 6.2) | **{glue:text}`ch6_now:.0f` %** |
# | the same model with the planner of the records below (σ floor 0.001, § 6.2) | {glue:text}`ch6_success:.0f` % |
# | the same `cpu` recipe over {glue:text}`ch6_seed_success_n:d` training seeds (the model above and retrained ones, each on its own 100 tasks; mean ± sd) | {glue:text}`ch6_seed_success:.0f` ± {glue:text}`ch6_seed_success_sd:.0f` % |
# | the same planner with a perfect predictor (true physics scored by the model's encoder) | {glue:text}`ch6_perfect:.0f` % |
# | the same planner on the straight-line distance (true positions, no model) | {glue:text}`ch6_straight:.0f` % |
# | this book, `gpu`-preset model, random layouts (8-step rollouts, door-aimed clips) | {glue:text}`ch6_gpu:.0f` % |
#
# The records of §§ 6.5–6.7 and the seed spread were planned before this book's σ floor was raised
# from 0.001 to 0.3 (§ 6.2 measures both on the same tasks); they compare planners and models with
# each other under that earlier planner. The `cpu` model plans its 100 episodes in
# {glue:text}`ch6_plan_min:.1f` minutes on 2 CPU cores, the machine alone (the paper's Table 4: {glue:text}`paper_plan_episode_s:.0f` s per episode at its sizes, hardware not
# stated). Every measured number comes from `bench/results/` (the {doc}`results page <../book/results>`),
# every published one from the {ref}`table of the paper's numbers <paper-numbers>`.
# :::

# %% tags=["colab-setup"]
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install the book's package, keep Colab's torch
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ebjepa-mini[colab] @ git+https://github.com/ebjepa-mini/ebjepa-mini-book@main"], check=True)
from ebjepa_mini import chapter_setup
preset, device = chapter_setup(seed=0)

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch

from ebjepa_mini import checks, viz
from ebjepa_mini.paper import PAPER_VALUES, glue_paper
from ebjepa_mini.records import chapter_wall_s, glue, glue_across_seeds, stored_results
from ebjepa_mini.data import two_rooms as tr
from ebjepa_mini.planning import (encoder_energy_map, evaluate, imagined_positions, latent_cost_fn, mppi,
                                  oracle_cost_fn, plan, planning_energy, waypoint_actions)
from ebjepa_mini.widgets import PlannerLab
from ebjepa_mini.world import load_world_model

viz.use_book_style()
P = preset.plan
run = load_world_model()          # chapter 5's pretrained world model
model = run.model
FIXED = run.settings.fixed_wall   # the committed cpu model was trained in one layout: plan there
print(P)

# %% tags=["hide-input"]
# Every measured number the text quotes comes from this run or from a stored record
# (bench/results/*.json) and is pasted into the prose with MyST-NB's glue: nothing measured is typed.

glue_paper("plan_mppi", "plan_cem", "plan_mppi_last", "plan_episode_s", "plan_fixed_wall")   # published numbers
times = chapter_wall_s("06_mppi_planning")          # seconds by preset, from bench/results/chapters_*.json
glue("ch6_time_ci", times.get("ci", float("nan")), display=False)
glue("ch6_time_cpu", times.get("cpu", float("nan")) / 60, display=False)
stored = stored_results("world*_cpu*.json")
stored_gpu = stored_results("world*_gpu.json")
nan = float("nan")


def success(records, stem):
    """A stored run's success rate in percent (NaN when the record is missing)."""
    return 100 * records[stem]["success_rate"] if stem in records else nan


glue("ch6_success", success(stored, "world_cpu"), display=False)              # planned with σ floor 0.001
glue("ch6_now", success(stored, "world_cpu-plan-book"), display=False)        # today's cpu planner (§ 6.2)
glue("ch6_perfect", success(stored, "world_oracle-encoder_cpu"), display=False)
glue("ch6_straight", success(stored, "world_oracle_cpu"), display=False)
glue("ch6_cem", success(stored, "world_cem_cpu"), display=False)
glue("ch6_last", success(stored, "world_last_cpu"), display=False)
_p, _n = success(stored, "world_cpu") / 100, stored.get("world_cpu", {}).get("episodes", nan)
glue("ch6_se", 100 * (_p * (1 - _p) / _n) ** 0.5, display=False)   # binomial standard error, in points
glue("ch6_gpu", success(stored_gpu, "world_gpu"), display=False)
# the cpu recipe over its stored seeds (seed 0 and world_cpu-seedS.json, each planned on its own 100 tasks)
glue_across_seeds("ch6_seed_success", "world_cpu", lambda r: 100 * r["success_rate"])
glue("ch6_refplan", success(stored, "world_cpu-refplan"), display=False)
glue("ch6_plan_min", stored["world_cpu"]["plan_wall_s"] / 60 if "world_cpu" in stored else nan, display=False)

# %% [markdown]
# ## 6.1 Planning as energy minimisation
#
# Encode the current frame $x_0$ and the goal frame $x_g$ (the same layout with the dot at the goal
# position $\mathbf r_g$), imagine
# the latent trajectory of an action sequence $a_{0:H}$ with the predictor, and score it by how far
# the imagined latents are from the goal latent:
#
# $$
# E(a_{0:H}) = \sum_{t=1}^{H} d\bigl(\hat z_t, z_g\bigr),\qquad
# \hat z_0 = f_\theta(x_0),\quad \hat z_{t+1} = g_\phi(\hat z_t, a_t),\quad z_g = f_\theta(x_g).
# $$ (eq-planning-energy)
#
# The paper writes $d$ as the Euclidean norm; the reference code, and this book, use the mean
# squared difference over the latent dimensions (`planning_energy`). Summing over all $t$ (the
# **cumulative** cost) rewards plans that get close *early*; the **last-state** cost
# $d(\hat z_H, z_g)$ only asks where the plan ends. The energy is differentiable, but the planner
# below uses only its values: it must handle walls, where the model's predictions bend sharply.
#
# A first look: the energy of 200 random action sequences from one start, next to the real
# distance to the goal at which each ends. The energy uses only the model; the true end points
# come from the environment's physics.

# %% mystnb={"image": {"alt": "Two panels. Left: a Two Rooms layout with the start as a blue dot, the goal in green and the true end points of 200 random action sequences coloured by the model's last-state energy, dark for low; right: a scatter of that energy against the true final distance to the goal: plans that end near the goal tend to have low energy, and farther away the energy levels off."}}
tasks = tr.sample_tasks(100, fixed_wall=FIXED)      # the benchmark's tasks (seed two_rooms.EVAL_SEED)
i = 0
start, goal, wx, dy = tasks["start"][i], tasks["goal"][i], int(tasks["wall_x"][i]), int(tasks["door_y"][i])
with torch.no_grad():
    z0 = model.encode(tr.observe(start[None], wx, dy))
    zg = model.encode(tr.observe(goal[None], wx, dy))
    g = torch.Generator().manual_seed(0)          # 200 plans: a random heading and speed each, plus jitter
    heading = 2 * torch.pi * torch.rand(200, 1, generator=g)
    speed = 0.3 + 1.5 * torch.rand(200, 1, generator=g)
    actions = torch.stack([speed * heading.cos(), speed * heading.sin()], -1).expand(-1, P.horizon, -1)
    actions = actions + 0.5 * torch.randn(200, P.horizon, 2, generator=g)
    z_roll = model.rollout(z0.expand(200, -1), actions)
    energy = planning_energy(z_roll, zg, "last")
true_end = tr.simulate(np.repeat(start[None], 200, 0), actions.numpy(), wx, dy)[:, -1]
dist = np.linalg.norm(true_end - goal, axis=1)
near = dist < 15
print(f"correlation between last-state energy and true final distance: {np.corrcoef(energy.numpy(), dist)[0, 1]:.2f} "
      f"over all plans, {np.corrcoef(energy.numpy()[near], dist[near])[0, 1] if near.sum() > 2 else float('nan'):.2f} "
      f"over the {near.sum()} plans ending within 15 px of the goal")
fig = viz.plot_plan_energies(true_end, dist, energy.numpy(), start, goal, wx, dy)
plt.show()

# %% [markdown]
# *Figure 6.1: left, the true end points of 200 random action sequences from the start (blue),
# coloured by the model's energy (dark = low); right, energy against the true distance to the
# goal.*
#
# :::{admonition} What you should see
# Plans that end within about 15 px of the goal have clearly lower energy, and there the energy
# grows with the distance; farther away it flattens out at a plateau: a latent distance is
# informative near the goal and saturates beyond. (Plans that end on the wrong side of the wall
# can still look close.) This is the landscape the planner has to search, and the plateau is why
# the *cumulative* cost, which rewards getting near early, helps.
# :::
#
# ## 6.2 MPPI, step by step: the paper's Algorithm 1, then this book's planner
#
# MPPI keeps a Gaussian over action sequences, mean $\mu \in \mathbb R^{H\times 2}$ and standard
# deviation $\sigma$. The paper's Algorithm 1 starts from $\mu = 0$ and repeats $J$ times:
#
# 1. **sample** $N$ sequences $a_i = \mu + \sigma \odot \xi_i$, $\xi_i \sim \mathcal N(0, I)$;
# 2. **score** them: $E_i = E(a_i)$ with eq. {eq}`eq-planning-energy`, all $N$ rollouts in one batch;
# 3. keep the $Q$ lowest-cost sequences, the **elites**, and weight them
#
# $$
# w_i = \frac{\exp\bigl(-(E_i - E_\text{min})/\tau\bigr)}{\sum_{j\in\text{elites}} \exp\bigl(-(E_j - E_\text{min})/\tau\bigr)} ;
# $$ (eq-mppi-weights)
#
# 4. **update** the mean, $\mu \leftarrow \sum_i w_i a_i$. The standard deviation stays what it was.
#
# The first action of the final $\mu$ is executed, and at the next step the planner starts again
# from the new frame (model-predictive control; the paper does not say where the next plan's mean
# starts, the reference code starts it at $\mu = 0$ and so does `presets.PAPER_PLANNER`). The paper's sizes (its Table 7):
# $H = 90$, $N = 200$, $J = 20$, $Q = 20$, $\sigma = 2$, $\tau = 0.005$, one action executed per plan,
# 200 plans per episode. (The paper writes the cost of sample $i$ as $S_i$ and measures $d$ as a
# Euclidean norm; this book keeps $E$ for energies and the reference's squared distance, so a $\tau$
# carries over only together with its cost units. Subtracting $E_\text{min}$ changes no weight.)
# CEM is the same loop with uniform weights over the elites, and it also refits $\sigma$ to them.
#
# Here is Algorithm 1 from scratch, checked against the package's `mppi` (whose defaults are
# Algorithm 1) with the same random numbers, on a toy energy that needs no model: a dot in an empty
# room, whose positions are the running sums of the actions, scored by its cumulative squared
# distance to a goal 14 px away.

# %%
def my_mppi(cost_fn, H, N, J, Q, sigma, tau, generator):
    """Paper Alg. 1: 2-D actions, one plan, starting from μ = 0; σ is never changed."""
    mu = torch.zeros(H, 2)
    for _ in range(J):
        xi = torch.randn(N, H, 2, generator=generator)                 # ξ_i ~ N(0, I)
        a = mu + sigma * xi                                            # 1. sample N sequences [N, H, 2]
        E = cost_fn(a)                                                 # 2. score them: E_i = E(a_i), [N]
        E_elite, idx = E.topk(Q, largest=False)                        # 3. the Q elites and their weights
        w = torch.softmax(-(E_elite - E_elite.min()) / tau, 0)[:, None, None]
        mu = (w * a[idx]).sum(0)                                       # 4. update the mean
    return mu                                                          # the plan: the final mean


toy_goal = torch.tensor([12.0, -8.0])
toy_energy = lambda a: (a.cumsum(-2) - toy_goal).pow(2).sum((-2, -1))   # [N, H, 2] -> [N]: positions r_t = Σ a
args = (8, P.num_samples, P.num_iters, P.num_elites, P.noise_std, P.temperature)   # H = 8
mine = my_mppi(toy_energy, *args, generator=torch.Generator().manual_seed(0))
theirs = mppi(toy_energy, 8, 2, *args[1:], generator=torch.Generator().manual_seed(0))
assert torch.allclose(mine, theirs, atol=1e-5)
print(f"my_mppi = mppi (max difference {(mine - theirs).abs().max():.1e}); energy of the plan "
      f"{toy_energy(mine[None]).item():.0f} (standing still: {toy_energy(torch.zeros(1, 8, 2)).item():.0f}), "
      f"final position {mine.sum(0).numpy().round(1)}, goal {toy_goal.numpy()}")

# %% [markdown]
# ### This book's planner: Algorithm 1 plus named changes
#
# A CPU cannot afford Algorithm 1 at the paper's sizes for 100 episodes: 20 iterations at each of
# 200 steps is 4,000 optimisations of 200 rollouts of up to 90 steps per episode. The book's
# planner is Algorithm 1 with the changes below, each a field of `PlanSettings` (so each can be
# switched back), and `presets.PAPER_PLANNER` is Algorithm 1 as written:
#
# | `PlanSettings` field | Algorithm 1 | the `cpu` planner | why |
# |---|---|---|---|
# | `update_std`, `min_std` | σ fixed | σ refitted to the weighted elites, $\sigma \leftarrow \max\bigl(\sqrt{\textstyle\sum_i w_i (a_i - \mu)^2},\ \sigma_\text{min}\bigr)$ | later iterations search near the best plans; the floor $\sigma_\text{min}$ stops a small $\tau$ from collapsing $\sigma$ to zero (below) |
# | `temperature` | $\tau = 0.005$ (paper cost units) | $\tau = 1$ (this book's cost units) | several elites share the weight |
# | `num_iters` | $J = 20$ | $J = 5$ | the budget |
# | `replan_every` | 1 action per plan | 4 actions per plan | the budget: 50 plans per episode instead of 200 |
# | `warm_start` | every plan from $\mu = 0$ | from the previous plan, shifted | five iterations continue the last search instead of starting over |
# | `max_norm` | no step cap | every step at most $2.45\sqrt 2$ px | the diagonal of the action box ({ref}`ex-plan-4`) |
#
# In code the σ refit is the only change inside the loop: `my_mppi` plus one line,
# `sigma = ((w * (a[idx] - mu) ** 2).sum(0).sqrt()).clamp_min(min_std)` after step 4
# ({ref}`ex-plan-6` writes it). What each change is worth, measured with chapter 5's model on the
# same 100 fixed-wall tasks, one change switched back at a time (the planning time is for the 100
# episodes in one batch on 2 CPU cores, see the note under the table):

# %% tags=["hide-input"]
PLAN_ROWS = [("book", "the `cpu` planner"), ("fixedstd", "σ fixed (`update_std=False`)"),
             ("floor0", "σ floor 0.001 instead of 0.3"), ("tau0.005", "τ = 0.005"),
             ("nowarm", "no warm start"), ("nocap", "no step cap"),
             ("paper", "Algorithm 1 as written (σ 2 fixed, τ 0.005, 1 action per plan, no warm start, no cap)")]


def predictor_steps(ps):
    """Predictor calls (one latent row, one step) per episode of a planner: N·J·H summed over its plans."""
    done, calls = 0, 0
    while done < ps["max_steps"]:
        calls += ps["num_samples"] * ps["num_iters"] * min(ps["horizon"], ps["max_steps"] - done)
        done += ps["replan_every"]
    return calls


for tag, label in PLAN_ROWS:           # records world_cpu-plan-TAG.json; glue keys ch6_plan_TAG_success / _s / _calls
    rec = stored.get(f"world_cpu-plan-{tag}", {})
    key = tag.replace(".", "")
    glue(f"ch6_plan_{key}_success", 100 * rec.get("success_rate", nan), display=False)
    glue(f"ch6_plan_{key}_s", rec.get("plan_wall_s", nan) / rec.get("episodes", nan), display=False)
    glue(f"ch6_plan_{key}_calls", predictor_steps(rec["plan_settings"]) / 1e6 if rec else nan, display=False)
    print(f"{label:95s} {100 * rec.get('success_rate', nan):4.0f} %  {rec.get('plan_wall_s', nan):6.0f} s")

# %% [markdown]
# | planner (N = 200, J = 5, Q = 20, H = 90) | success | predictor steps per episode (millions) | planning s per episode |
# |---|---|---|---|
# | the `cpu` planner | {glue:text}`ch6_plan_book_success:.0f` % | {glue:text}`ch6_plan_book_calls:.1f` | {glue:text}`ch6_plan_book_s:.1f` |
# | σ fixed (`update_std=False`) | {glue:text}`ch6_plan_fixedstd_success:.0f` % | {glue:text}`ch6_plan_fixedstd_calls:.1f` | {glue:text}`ch6_plan_fixedstd_s:.1f` |
# | σ floor 0.001 instead of 0.3 (`min_std`) | {glue:text}`ch6_plan_floor0_success:.0f` % | {glue:text}`ch6_plan_floor0_calls:.1f` | {glue:text}`ch6_plan_floor0_s:.1f` |
# | τ = 0.005 (`temperature`) | {glue:text}`ch6_plan_tau0005_success:.0f` % | {glue:text}`ch6_plan_tau0005_calls:.1f` | {glue:text}`ch6_plan_tau0005_s:.1f` |
# | no warm start (`warm_start=False`) | {glue:text}`ch6_plan_nowarm_success:.0f` % | {glue:text}`ch6_plan_nowarm_calls:.1f` | {glue:text}`ch6_plan_nowarm_s:.1f` |
# | no step cap (`max_norm=None`) | {glue:text}`ch6_plan_nocap_success:.0f` % | {glue:text}`ch6_plan_nocap_calls:.1f` | {glue:text}`ch6_plan_nocap_s:.1f` |
# | Algorithm 1 as written, at $J = 5$ (`presets.PAPER_PLANNER`) | {glue:text}`ch6_plan_paper_success:.0f` % | {glue:text}`ch6_plan_paper_calls:.1f` | {glue:text}`ch6_plan_paper_s:.1f` |
#
# (Records `bench/results/world_cpu-plan-*.json`, each 100 episodes. They ran with one torch thread
# while other jobs shared the machine, so their seconds are only a rough guide; the predictor steps
# are the exact cost, $N \cdot J \cdot H$ summed over an episode's plans. A standard error of about
# {glue:text}`ch6_se:.0f` points applies to each rate.)
#
# :::{admonition} What you should see
# Most of the book's changes are within a standard error (about {glue:text}`ch6_se:.0f` points) of
# the `cpu` planner's {glue:text}`ch6_plan_book_success:.0f` % on these tasks: σ fixed
# {glue:text}`ch6_plan_fixedstd_success:.0f` %, the old floor {glue:text}`ch6_plan_floor0_success:.0f` %,
# $\tau = 0.005$: {glue:text}`ch6_plan_tau0005_success:.0f` %, no warm start
# {glue:text}`ch6_plan_nowarm_success:.0f` %. The step cap is the exception: without it
# {glue:text}`ch6_plan_nocap_success:.0f` % ({ref}`ex-plan-4` shows what the cap does to the
# energy of a detour). What the other changes buy is cost: Algorithm 1 as written spends
# {glue:text}`ch6_plan_paper_calls:.1f` million predictor steps per episode, the `cpu` planner
# {glue:text}`ch6_plan_book_calls:.1f` million, and Algorithm 1 succeeds on
# {glue:text}`ch6_plan_paper_success:.0f` %.
# :::
#
# The figure shows one plan of the `cpu` planner (`planning.plan`, the one place where a
# `PlanSettings` becomes optimiser arguments), its imagined rollouts decoded by their nearest
# encodings (chapter 5, § 5.5).

# %% mystnb={"image": {"alt": "Three Two Rooms panels showing the first, second and last iteration of one MPPI plan from the blue start towards the green goal, drawn as the paths the model imagines: a subset of the sampled sequences in grey, the elites in orange and the updated mean in red. From one iteration to the next the cloud of samples narrows around the elites."}}
history = []
# cost_fn(a) = planning_energy(model.rollout(z0, a), zg): roll out every sampled sequence from the
# current latent, then score the imagined latents with eq. (eq-planning-energy)
cost_fn = latent_cost_fn(model, z0, zg, P.cost)        # P.cost: "cumulative", eq. (eq-planning-energy)
with torch.no_grad():
    one_plan = plan(cost_fn, P, generator=torch.Generator().manual_seed(0), history=history)   # P.planner: "mppi"


def decode(a):
    one = {"start": np.repeat(start[None], len(a), 0), "wall_x": np.full(len(a), wx), "door_y": np.full(len(a), dy)}
    return imagined_positions(model, one, a)


fig = viz.plot_mppi_iterations(history, decode, wx, dy, start, goal, iters=(0, 1, -1))
plt.show()
with torch.no_grad():
    print("cost of the mean after each iteration:", [round(cost_fn(h["mean"]).item(), 2) for h in history])

# %% [markdown]
# *Figure 6.2: one MPPI plan from the start (blue dot) to the goal (green blob), iteration by
# iteration. Grey: a subset of the sampled action sequences, drawn as the positions the model
# imagines for them; orange: the elites; red: the updated mean. All paths are decoded from latents
# by their nearest encodings; the planner itself never sees positions.*
#
# :::{admonition} What you should see
# In the first iteration the samples are a wide cloud around the start and the elites are those
# heading towards the goal side; the cloud then narrows around the elites, and the cost of the
# mean (printed under the figure) falls from one iteration to the next. Imagined paths that run
# into the wall stop there, as real ones do; where the model were wrong, the planner could not know it.
# :::
#
# ### The temperature
#
# The weights {eq}`eq-mppi-weights` divide the cost gap by $\tau$: a small $\tau$ gives all the
# weight to the best elite, a large $\tau$ averages the elites uniformly (then MPPI's mean is CEM's).
# The reference implementation instead *multiplies* the gap by its $\tau = 0.005$, so the same
# number means the opposite there: its weights are those of this book's $\tau = 1/0.005 = 200$,
# almost uniform. Read a temperature only together with its convention.
#
# When $\sigma$ is refitted, the temperature also decides how fast the search narrows: with $\tau$
# far below the cost gaps between elites, one elite takes all the weight and the refitted $\sigma$
# is zero after one iteration, so the search stops exploring. The floor `min_std` prevents that
# (this is why Algorithm 1's sharp $\tau = 0.005$ is harmless there: it never refits $\sigma$).
# The cell prints, for three temperatures, the largest elite weight and the mean $\sigma$ after the
# first iteration of this plan, without and with the floor:

# %%
for tau in (0.01, P.temperature, 100.0):
    for floor in (0.0, P.min_std):
        hist = []
        with torch.no_grad():
            plan(cost_fn, replace(P, temperature=tau, min_std=floor),
                 generator=torch.Generator().manual_seed(0), history=hist)
            costs = [round(cost_fn(h["mean"]).item(), 1) for h in hist]      # h["mean"]: [1, H, 2]
        w = torch.softmax(-(hist[0]["costs"][0].sort().values[:P.num_elites] - hist[0]["costs"][0].min()) / tau, 0)
        print(f"τ = {tau:<6g} σ floor {floor:<4g} largest elite weight {w.max():.2f}, mean σ after iteration 1: "
              f"{hist[0]['std'].mean():.3f};  cost of the mean per iteration: {costs}")

# %% [markdown]
# ## 6.3 Does it reach the goal? Evaluation on the benchmark episodes
#
# Each episode has a start and a goal in the other room, in the layout the model was trained in
# (a fixed, seeded list, so every planner and model sees the same tasks). The planner replans every
# `P.replan_every` steps for `P.max_steps` steps; success means ending within 4.5 px of the goal.
# All episodes run in one batch: one call of the model scores the samples of every episode.

# %% mystnb={"image": {"alt": "Grid of Two Rooms layouts, one per evaluation episode, each with the executed path in blue from an open circle (start) to a filled dot (end), the goal in green and a title giving success or failure and the final distance to the goal."}}
result = evaluate(model, {k: v[:P.episodes] for k, v in tasks.items()}, P)      # P.planner "mppi", P.cost "cumulative"
print(result.summary())
fig = viz.plot_episodes(result, n=min(8, P.episodes))
plt.show()

# %% [markdown]
# *Figure 6.3: executed paths (blue, ○ start, ● end) of the first episodes with their final distance
# to the goal (green).*
#
# :::{admonition} What you should see
# Successful episodes head for the door, pass it and settle on the goal; the stored 100-episode run
# of the same model and planner succeeds on {glue:text}`ch6_now:.0f` % of the tasks. A failed
# episode typically ends pressed against the wall on the start's side, where a plan to the door
# looked no better than waiting. Under `ci` only 8 episodes run with a small search and a horizon
# of 40 steps, too short for most detours, so the rate printed above can be far lower; under `cpu`
# this cell runs the stored benchmark itself.
# :::
#
# ## 6.4 The Planner Lab
#
# Pick a task, a planner and its settings, then **Plan one step** to see the imagined rollouts or
# **Run episode** to execute a whole episode. Try a tiny temperature, very few samples, a short
# horizon, or the last-state cost on a task whose door is far from the straight line.
# (In the static book the lab shows the episode computed when the page was built.)

# %%
lab = PlannerLab(run, P)
lab.set(task=int(np.argmin(np.abs(tasks["door_y"][:20] - 32))))
lab.plan_once()
lab.run_episode()
lab

# %% [markdown]
# ## 6.5 MPPI vs CEM vs the last-state cost, and the reference's planner
#
# The paper's Table 4 (left) compares planners with the same model: MPPI with the cumulative cost
# {glue:text}`paper_plan_mppi:.0f` %, CEM {glue:text}`paper_plan_cem:.0f` %, MPPI with the last-state
# cost {glue:text}`paper_plan_mppi_last:.0f` %. The stored benchmark runs of this book's `cpu`
# model (`python -m ebjepa_mini.bench world --preset cpu --checkpoint ebjepa_mini/assets/world_model_cpu.pt
# --planner P --cost C --save`) repeat the comparison on the same 100 tasks, all with the planner
# of their day (σ floor 0.001, § 6.2). The last bar, where a
# record exists, is MPPI run the way the reference code runs it (`--reference-planner`,
# `presets.REFERENCE_PLANNER`: almost uniform elite weights, a fresh plan from zero at every step,
# no step cap, a sampled elite executed) with this preset's sizes.

# %% mystnb={"image": {"alt": "Bar chart of planning success rate for MPPI with the cumulative cost, CEM with the cumulative cost and MPPI with the last-state cost, all on the same world model: this book's runs as solid blue bars next to the paper's Table 4 as hatched bars."}}
PAPER_PLANNERS = {label: PAPER_VALUES[key].value / 100 for label, key in
                  (("MPPI, cumulative", "plan_mppi"), ("CEM, cumulative", "plan_cem"), ("MPPI, last state", "plan_mppi_last"))}
rows = [("MPPI, cumulative", "world_cpu"), ("CEM, cumulative", "world_cem_cpu"), ("MPPI, last state", "world_last_cpu")]
if "world_cpu-refplan" in stored:
    rows.append(("MPPI as the reference runs it", "world_cpu-refplan"))
fig = viz.plot_stored_success(stored, rows, PAPER_PLANNERS, title="planners on the same world model (cpu preset, fixed wall)")
if fig is not None:
    plt.show()

# %% [markdown]
# *Figure 6.4: success rates of planner configurations on the same world model and the same 100
# tasks (solid), next to the paper's Table 4 (hatched; random layouts).*
#
# :::{admonition} What you should see
# MPPI with the cumulative cost reaches the goal on {glue:text}`ch6_success:.0f`% of the tasks,
# CEM on {glue:text}`ch6_cem:.0f`% and MPPI with the last-state cost on
# {glue:text}`ch6_last:.0f`%. Over 100 tasks a success rate of {glue:text}`ch6_success:.0f`% has a
# binomial standard error of about {glue:text}`ch6_se:.0f` points, and the model itself varies with its
# training seed: the `cpu` recipe trained with {glue:text}`ch6_seed_success_n:d` seeds (each planned on its own
# 100 tasks) succeeds on {glue:text}`ch6_seed_success:.0f`% ± {glue:text}`ch6_seed_success_sd:.0f` (mean ±
# standard deviation). Differences of a few points are noise: with this model in the fixed layout the
# three planners do about equally well. In the paper (random layouts) the last-state cost was
# clearly worse: it asks only where a plan ends, so a plan that hugs the wall for 80 steps and
# one that is through the door after 30 look alike until their final step (§ 6.6). Run the way the reference code runs
# it, with this preset's sizes (5 iterations, a new plan every 4 steps), MPPI succeeds on
# {glue:text}`ch6_refplan:.0f`%. The reference pairs near-uniform weights, a fresh start at every
# plan and an elite drawn at random with 20 iterations at every step, 16 times this preset's search,
# which a CPU cannot afford for 100 episodes; this book's warm start lets five iterations continue
# the previous plan's search instead.
# :::
#
# ## 6.6 Why the path must first move away from the goal
#
# Start and goal are always in different rooms. When the door is far from the straight line
# between them, every good path first *increases* the distance to the goal. A planner whose horizon
# cannot reach the door sees only plans that end at the wall, and the closest point to the goal
# on this side of the wall wins. The last-state cost can make this worse: it ignores how quickly a
# plan gets somewhere, so plans that hug the wall may cost about as much as plans through the door
# (the paper measured it below the cumulative cost; § 6.5 has this book's runs).
# The real distance to the goal along the executed paths shows the detour:

# %% mystnb={"image": {"alt": "Line plot of the distance to the goal in pixels against the environment step along the executed paths of the first episodes, blue for successes and red for failures, with a dotted line at the success radius. Successful paths drop below the radius and stay there, while failed ones level off at a distance from the goal."}}
d_goal = np.linalg.norm(result.paths - result.tasks["goal"][:, None], axis=-1)      # [E, M+1]
detour = d_goal.max(1) > d_goal[:, 0] + 1.0
print(f"{detour.mean():.0%} of the episodes first move away from the goal (distance rises above its start value);")
print(f"success with a detour {result.success[detour].mean() if detour.any() else float('nan'):.0%}, "
      f"without {result.success[~detour].mean() if (~detour).any() else float('nan'):.0%}")
glue("ch6_detour_share", 100 * float(detour.mean()), display=False)
fig = viz.plot_goal_distance(d_goal, result.success, n=8)
plt.show()

# %% [markdown]
# *Figure 6.5: the distance to the goal along the executed paths of the first episodes (blue:
# success, red: failure); the dotted line is the success radius.*
#
# :::{admonition} What you should see
# On this page's episodes {glue:text}`ch6_detour_share:.0f`% of the paths first move *away* from
# the goal: their distance rises before it falls. Successful paths then drop below the success
# radius and stay there; a failed path levels off at the wall, at roughly the distance from the
# wall to the goal.
# :::
#
# %% [markdown]
# ## 6.7 How much of the failure is the predictor's?
#
# Keep the planner and the encoder, and replace only the predictor's imagination by the true
# physics: the sampled plans are simulated exactly, and the dot drawn at each true position is
# encoded and compared with the goal latent (`--oracle encoder`, {func}`~ebjepa_mini.planning.yardsticks.encoder_energy_map`).
# This is a {term}`Perfect predictor`: the gap between it and the world model is the predictor's
# alone. Dropping the encoder as well leaves the straight-line distance between true positions
# (`--oracle`), no model at all.

# %% mystnb={"image": {"alt": "Bar chart of planning success for MPPI with the world model, with a perfect predictor (true physics scored by the model's encoder) and with the straight-line distance between true positions, on the same 100 tasks."}}
rows_split = [("MPPI, world model", "world_cpu"), ("MPPI, perfect predictor", "world_oracle-encoder_cpu"),
              ("MPPI, true positions", "world_oracle_cpu")]
fig = viz.plot_stored_success(stored, rows_split, {}, title="whose failure? (cpu preset, fixed wall, 100 tasks)")
if fig is not None:
    plt.show()
gpu = stored_gpu.get("world_gpu")
if gpu is not None:
    print(f"gpu-preset model (random layouts, 8-step rollouts): {gpu['success_rate']:.0%} over {gpu['episodes']} tasks")

# %% [markdown]
# *Figure 6.6: MPPI with the world model, with a perfect predictor and with the straight-line
# distance between true positions, on the same 100 tasks.*
#
# :::{admonition} What you should see
# The world model plans on {glue:text}`ch6_success:.0f`% of the tasks, the same planner with a
# perfect predictor on {glue:text}`ch6_perfect:.0f`%: what separates them is the predictor's
# share, the rest is the encoder's energy and the search. The straight-line distance plans on
# {glue:text}`ch6_straight:.0f`%: descending it leads straight to the wall, and Gaussian
# perturbations of a plan that hugs the wall rarely find a door far away, whereas the encoder's
# energy is flat far from the goal, so the detour costs little more than waiting. The `gpu`-preset
# model of chapter 5, trained on random layouts with 8-step rollouts on door-aimed clips, plans on
# {glue:text}`ch6_gpu:.0f`%: its latent keeps the layout and it imagines pushes stopping at the wall
# (chapter 5, § 5.6), but it was trained with 8-step rollouts, the recipe whose imagination, at
# `cpu` size, drifts off within the planner's 90-step horizon (chapter 5, § 5.5). Whether 32-step
# rollouts would close that gap on random layouts has not been measured: the `cpu` model that uses
# them was trained and planned in the fixed layout only.
# :::
#
# ## Summary
#
# * Planning is inference in an energy-based model: the world model is fixed, and the planner
#   searches the action sequence $a_{0:H}$ of lowest energy, the distance between the imagined
#   latents and the goal latent (eq. {eq}`eq-planning-energy`). It uses only energy values, no
#   gradients and no positions.
# * MPPI samples around a Gaussian, scores all samples in one batch, and moves the mean to the
#   elites weighted by $\exp(-(E_i - E_\text{min})/\tau)$; the paper's Algorithm 1 keeps $\sigma$ fixed,
#   this book's planner also refits it, with a floor. A small $\tau$ follows the best elite (and,
#   without the floor, would stop a refitted search at once); a large one averages the elites,
#   which is CEM's mean. Each of the book's departures from Algorithm 1 is a named setting, measured
#   in § 6.2. A temperature means
#   something only together with its convention: the reference code multiplies where the paper
#   and this book divide.
# * The planner executes the first actions and replans from the new frame, so the model's drift
#   over long rollouts is corrected by what actually happens. The cumulative cost rewards getting
#   close early, which matters where the learned energy is flat far from the goal.
# * Reaching a goal in the other room needs a detour: a good path first moves *away* from the goal
#   towards the door. The horizon and the step cap decide whether such a path can look cheap at all.
# * The planner faithfully minimises the energy it is given. Replacing the predictor by the true
#   physics (a perfect predictor) or the latents by the true positions splits a planner's failures
#   between the predictor, the energy and the search.
#
# ## Further reading
#
# * {cite:t}`williams2017information` derive MPPI from information-theoretic optimal control; the
#   elite-based variant of this chapter is closer to the Cross-Entropy Method of
#   {cite:t}`rubinstein1999cross`.
# * {cite:t}`hafner2019planet` plan with CEM in the latent space of a learned dynamics model (PlaNet),
#   the same pattern as this chapter with a generative model.
# * {cite:t}`sobal2025learning` compare planning with latent dynamics models against
#   reinforcement learning on offline Two Rooms-style data; {cite:t}`zhou2024dinowm` plan with MPPI
#   and CEM on frozen pretrained image features.
#
# ## Exercises
#
# :::{exercise} (warm-up) MPPI's weights
# :label: ex-plan-1
# Write `my_weights(elite_costs, temperature)` that returns the normalised weights
# {eq}`eq-mppi-weights` of the elites and check it with `checks.check_mppi_weights(my_weights)`.
# :::

# %% [markdown]
# :::{solution} ex-plan-1
# :class: dropdown
# Subtract the smallest cost (numerical safety, it cancels in the normalisation), divide by $\tau$,
# negate, softmax.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_weights(elite_costs, temperature):
    return torch.softmax(-(elite_costs - elite_costs.min()) / temperature, dim=0)


checks.check_mppi_weights(my_weights)

# %% [markdown]
# :::{exercise} (warm-up) The reference's temperature
# :label: ex-plan-2
# The reference code computes $w_i \propto \exp\bigl(0.005\,(E_\text{min} - E_i)\bigr)$. Which $\tau$ of
# eq. {eq}`eq-mppi-weights` gives the same weights? Check with
# `checks.check_reference_temperature(tau)`. With cost gaps of a few units between elites, how
# different are the weights?
# :::

# %% [markdown]
# :::{solution} ex-plan-2
# :class: dropdown
# $1/\tau = 0.005$, so $\tau = 200$. A gap of 10 cost units changes a weight by
# $e^{-0.05} \approx 0.95$: the elites are averaged almost uniformly, like CEM.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
checks.check_reference_temperature(200.0)

# %% [markdown]
# :::{exercise} (core) Break the planner
# :label: ex-plan-3
# In the Planner Lab find settings under which MPPI fails on a task it solves with the defaults.
# Try (a) $\tau = 0.001$, (b) 10 samples, (c) a horizon of 5, (d) the last-state cost. For each,
# say which step of the algorithm goes wrong.
# :::

# %% [markdown]
# :::{solution} ex-plan-3
# :class: dropdown
# (a) All the weight goes to one elite: the mean jumps to the first iteration's best sample and
# $\sigma$ shrinks to its floor `min_std` at once (§ 6.2), so the remaining iterations only search
# close to that one sample; without the floor $\sigma$ would be zero and the search would stop. (b) Ten samples rarely contain one that
# passes the door, so the elites are plans that stop at the wall. (c) A 5-step plan cannot see the
# door when it is far: the best short plan moves towards the goal and gets stuck at the wall (the
# detour of § 6.6 is invisible). (d) The last-state cost ignores the path; plans that end at the
# wall and plans that end past the door differ less, and the model's larger error at the end of a
# long rollout decides more often.
# :::

# %% [markdown]
# :::{exercise} (core) How fast may the dot move?
# :label: ex-plan-4
# Take the fixed layout of chapter 5 (wall column $x = 32$, door row $y = 18$), start
# $\mathbf r_0 = (22, 50)$, goal $\mathbf r_g = (42, 50)$: the door is far above both. Build two
# 90-step plans by hand, one that walks to the wall opposite the goal and
# stays there, one that walks up to the door, through it and down to the goal, both at a fixed
# step length (the *step cap*). Score them with the true-physics energy
# `oracle_cost_fn([start], [goal], 32, 18)` for step caps 1.5, 2.45, 3.46 and 5 px. Which
# plan has the lower energy in each case, and what does that say about the planner's `max_norm`?
# :::

# %% [markdown]
# :::{solution} ex-plan-4
# :class: dropdown
# The printout gives the two energies per step cap. Hugging the wall costs about the same at every
# speed ({glue:text}`ch6_ex4_wall_slow:.1f` at the smallest cap, {glue:text}`ch6_ex4_wall_fast:.1f` at
# the largest): the dot reaches the wall in a few steps and then pays its distance to the goal for
# the rest of the horizon. The detour pays a large distance for as many steps as the walk takes, so
# it gets cheaper the faster the dot may move: from {glue:text}`ch6_ex4_door_slow:.1f` down to
# {glue:text}`ch6_ex4_door_fast:.1f`. The door plan has the lower energy from a step cap of
# {glue:text}`ch6_ex4_first_door_cap:.2f` px on; below that the planner's energy prefers waiting at
# the wall. The search cannot prefer a plan the energy ranks lower, so the step cap moves the
# planner's ceiling. The book clips planned steps to
# the diagonal of the action box ($2.45\sqrt2 \approx 3.46$ px) rather than to 2.45 px; it does not
# go further because the world model never saw a step longer than 1.8 px in training, and much
# longer planned steps ask it to extrapolate.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
(wall_x, door_y), start, goal = tr.FIXED_LAYOUT, (22.0, 50.0), (42.0, 50.0)


def walk(waypoints, speed, horizon=90):
    """Actions [horizon, 2] that visit the waypoints at `speed` px per step, then stand still."""
    return waypoint_actions([start], [waypoints], speed, horizon)[0]


energy = oracle_cost_fn([start], [goal], wall_x, door_y)
ex4 = []                                          # (step cap, wall-plan energy, door-plan energy)
for speed in (1.5, 2.45, 3.46, 5.0):
    hug = walk([(wall_x - 3, goal[1])], speed)
    detour = walk([(wall_x - 3, door_y), (wall_x + 3, door_y), goal], speed)
    e = energy(torch.stack([hug, detour]))
    ex4.append((speed, float(e[0]), float(e[1])))
    print(f"step cap {speed:4.2f} px: hugging the wall {e[0]:5.1f}, through the door {e[1]:5.1f} "
          f"-> the {'door' if e[1] < e[0] else 'wall'} plan has the lower energy")
glue("ch6_ex4_wall_slow", ex4[0][1], display=False)
glue("ch6_ex4_wall_fast", ex4[-1][1], display=False)
glue("ch6_ex4_door_slow", ex4[0][2], display=False)
glue("ch6_ex4_door_fast", ex4[-1][2], display=False)
glue("ch6_ex4_first_door_cap", min((c for c, w, d in ex4 if d < w), default=nan), display=False)

# %% [markdown]
# :::{exercise} (open) The same two plans, scored by the encoder
# :label: ex-plan-5
# Score the two plans of {ref}`ex-plan-4` with the energy the planner of § 6.5 would descend with a
# perfect predictor: the true physics scored by the world model's own encoder,
# `oracle_cost_fn([start], [goal], 32, 18, energy_map=encoder_energy_map(model, task))`, where
# `task` holds the layout, start and goal as arrays of one. At which step caps does the door plan
# win now? Compare with the straight-line energy.
# :::

# %% [markdown]
# :::{solution} ex-plan-5
# :class: dropdown
# Compare the two columns of the printout: the encoder's energy favours the door plan at smaller
# step caps than the straight-line energy does. A latent distance is steep near the goal and levels
# off farther away (§ 6.1): waiting at the wall, far from the goal in latent terms, costs nearly as
# much per step as any other far-away point, so the detour pays little extra until it is through
# the door, and then gains. The straight-line distance instead rewards every pixel of approach,
# so hugging the wall looks good. This is why the planner with a perfect predictor succeeds more
# often than the planner on true positions (§ 6.7).
# :::

# %% tags=["solution", "hide-input", "hide-output"]
task = {"wall_x": np.array([wall_x]), "door_y": np.array([door_y]), "start": np.array([start]),
        "goal": np.array([goal])}
encoder_energy = oracle_cost_fn([start], [goal], wall_x, door_y, energy_map=encoder_energy_map(model, task))
for speed in (1.5, 2.45, 3.46, 5.0):
    plans = torch.stack([walk([(wall_x - 3, goal[1])], speed),
                         walk([(wall_x - 3, door_y), (wall_x + 3, door_y), goal], speed)])
    e, p = encoder_energy(plans), energy(plans)
    print(f"step cap {speed:4.2f} px: encoder energy wall {e[0]:6.1f}, door {e[1]:6.1f} | "
          f"straight line wall {p[0]:5.1f}, door {p[1]:5.1f}")


# %% [markdown]
# :::{exercise} (core) Implement the book's MPPI update
# :label: ex-plan-6
# Steps 3 and 4 of § 6.2, with the book's σ refit, are the heart of its planner. Write
# `my_update(samples, costs, num_elites, temperature, min_std)` for `samples: [N, H, A]` and their
# energies `costs: [N]` that keeps the `num_elites` cheapest samples, weights them with
# eq. {eq}`eq-mppi-weights` and returns the new mean and standard deviation, both `[H, A]`, the std
# floored at `min_std` so that the search never freezes. `checks.check_mppi_update(my_update)` runs one
# iteration of the package's `mppi` on a quadratic energy with a seeded generator and compares
# your update with the package's on the very same samples. Then: what does your update become as
# $\tau \to \infty$, and how does it still differ from CEM's?
# :::

# %% [markdown]
# :::{solution} ex-plan-6
# :class: dropdown
# `costs.topk(num_elites, largest=False)` gives the elites; the weights are a softmax of
# $-(E_i - E_\text{min})/\tau$ over them; the mean is $\sum_i w_i a_i$ and the std
# $\sqrt{\sum_i w_i (a_i - \mu)^2}$ around the *new* mean. As $\tau \to \infty$ the weights become
# uniform and the mean is CEM's; the std is then the elites' standard deviation with divisor $Q$,
# where CEM (`torch.std`) divides by $Q - 1$.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_update(samples, costs, num_elites, temperature, min_std):
    elite_costs, idx = costs.topk(num_elites, largest=False)
    elites = samples[idx]                                                      # [Q, H, A]
    w = torch.softmax(-(elite_costs - elite_costs.min()) / temperature, 0)[:, None, None]
    mean = (w * elites).sum(0)
    std = (w * (elites - mean) ** 2).sum(0).sqrt().clamp_min(min_std)
    return mean, std


checks.check_mppi_update(my_update)
