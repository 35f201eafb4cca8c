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
# (ch-energy)=
# # 1. Energy-based models
#
# A JEPA never outputs a picture of the future. It outputs a number: how well a context and a
# target fit together. That number is an {term}`Energy`, and this chapter builds the idea from
# a 2-D toy world you can see in full. The world is a set of points on an ellipse, and every
# energy is drawn with the same colour map, from the first figure to the last
# {cite:p}`lecun2006tutorial`. The chapter ends with the paper's single energy for all of its
# models {cite:p}`ebjepa2026`, and it shows why that energy needs a regulariser.
#
# **Learning objectives.** After this chapter you can
#
# 1. read an energy as a compatibility score and do inference by minimising it (grid search, gradient descent);
# 2. remove a {term}`Latent variable` with the zero-temperature or the relaxed {term}`Free energy`,
#    and say what the {term}`Inverse temperature` $\beta$ does at both ends;
# 3. explain why pulling the energy down on data alone collapses it, and how contrastive
#    training and regularised training each prevent that;
# 4. write the paper's unified JEPA energy (paper eqs. 1–5) for images, video and actions, and
#    explain why it needs a regulariser $R$.
#
# Each chapter has a table of where it follows or departs from the paper and its reference code on
# the {ref}`paper-and-book` page, and every symbol of the book is listed once on the {ref}`notation`
# page. This chapter writes the latent variable of the toy world as $\zeta$, so that $z$ always
# means a representation.
#
# **Prerequisites:** none from this book: Python, PyTorch tensors, and gradient descent on a
# function of a few variables. **Reading time:** about 30 minutes, plus the exercises.
#
# **Runtime** (whole chapter; the sizes are in `preset.energy`; the toy models always run on the
# CPU, because a GPU does not help models this small):
#
# | preset | sizes (points / grid / latent values / training steps) | time |
# |---|---|---|
# | `ci` | 120 / 41×41 / 36 / 150 | {glue:text}`ch1_time_ci:.0f` s on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `cpu` | 200 / 61×61 / 48 / 300 | {glue:text}`ch1_time_cpu:.0f` s on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `gpu` | 400 / 101×101 / 96 / 600 | seconds (not measured) |

# %% tags=["colab-setup"]
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install the book's package, keep Colab's torch
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ebjepa-mini[colab] @ git+https://github.com/ebjepa-mini/ebjepa-mini-book@main"], check=True)
from ebjepa_mini import chapter_setup
preset, device = chapter_setup(seed=0)

# %%
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import HTML, display
from ipywidgets import FloatLogSlider, interact

from ebjepa_mini import checks, energy, viz

viz.use_book_style()
S = preset.energy                       # every size of this chapter: points, grid, latent values, steps
gen = torch.Generator().manual_seed(0)
print(S)

# %% tags=["hide-input"]
# Every measured number the text quotes comes from this run or from a stored record
# (bench/results/*.json) and is pasted into the prose with MyST-NB's glue: nothing measured is typed.
from ebjepa_mini.records import chapter_wall_s, glue

times = chapter_wall_s("01_energy_models")          # seconds by preset, from bench/results/chapters_*.json
glue("ch1_time_ci", times.get("ci", float("nan")), display=False)
glue("ch1_time_cpu", times.get("cpu", float("nan")), display=False)

# %% [markdown]
# ## 1.1 An energy on a toy world
#
# An energy-based model assigns a scalar $E(x, y)$ to a pair: an observed input $x$ and a
# variable $y$ to be predicted or judged. Low energy means *compatible*, high energy means
# *incompatible*. Nothing requires $E$ to be normalised like a probability. Inference is the
# search for the most compatible $y$:
#
# $$
# \check y = \operatorname*{arg\,min}_y E(x, y).
# $$ (eq-inference)
#
# Our toy world has no $x$ yet (we add one in {ref}`sec-horn`). The data are points
# $y \in \mathbb{R}^2$ near an ellipse. A point on the ellipse is fixed by one angle $\zeta$, and
# the *decoder* draws it:
#
# $$
# \tilde y(\zeta) = \begin{pmatrix} \rho_1 \cos \zeta \\ \rho_2 \sin \zeta \end{pmatrix}, \qquad \rho_1 = 1.6,\ \rho_2 = 0.8 .
# $$ (eq-decoder)

# %% mystnb={"image": {"alt": "Scatter plot in the plane (y1 horizontal, y2 vertical): orange training points lie close to an ellipse, and the decoder curve is drawn through them as a blue dashed ellipse with eight latent values zeta marked and labelled along it."}}
y_data = energy.sample_ellipse(S.n_points, noise=0.05, generator=gen)
fig = viz.plot_toy_world(y_data)
plt.show()

# %% [markdown]
# *Figure 1.1: the toy world. Orange dots are the training points $y$ (noisy samples of the
# ellipse); the blue dashed curve is the decoder $\tilde y(\zeta)$, with eight latent values $\zeta$ marked.*
#
# :::{admonition} What you should see
# The points form a thin band around the dashed ellipse: the noise is small next to the ellipse
# itself. The marked values of $\zeta$ advance counter-clockwise around the curve, one full turn as
# $\zeta$ runs from $0$ to $2\pi$, so one number fixes a point on the ellipse. The data never
# say which $\zeta$ produced a point: that is what makes $\zeta$ *latent*.
# :::

# %% [markdown]
# ## 1.2 Latent variables, the zero-temperature free energy, and inference
#
# The angle $\zeta$ is never observed: it is a {term}`Latent variable`. A latent-variable energy
# scores a point *and* a guess for its latent:
#
# $$
# E(y, \zeta) = \lVert y - \tilde y(\zeta) \rVert^2 .
# $$ (eq-latent-energy)
#
# To score $y$ alone we eliminate $\zeta$. The simplest way is to keep the best guess. This gives
# the **zero-temperature free energy**
#
# $$
# F_\infty(y) = \min_\zeta E(y, \zeta),
# $$ (eq-free-energy-zero)
#
# which here is the squared distance from $y$ to the ellipse. The package sweeps $\zeta$ over a
# grid of $n_\zeta$ = `S.n_latent` angles (step $2\pi/n_\zeta$), as the NYU Deep Learning course does for
# its energy-based models {cite:p}`lecun2021deep`. We compare that grid minimum with a brute-force sweep over 4096 angles.

# %%
grid, y1, y2 = energy.make_grid(S.grid)                      # [grid*grid, 2] points of the plane
F_inf = energy.free_energy_zero_temp(grid, S.n_latent)      # Eq. (eq-free-energy-zero) on every point
F_dense = energy.free_energy_zero_temp(grid, 4096)           # reference: the true squared distance
grid_error = (F_inf - F_dense).abs().max().item()
print(f"n_zeta = {S.n_latent} latent values: max |F_inf - squared distance| over the plane = {grid_error:.4f}")
glue("ch1_grid_error", grid_error, display=False)

# %% [markdown]
# Inference is energy minimisation, and gradient descent does it in two ways.
#
# * **On $y$**: slide a point downhill on $F_\infty$. Each step moves it towards its closest
#   decoded point, and it stops on the ellipse.
# * **On $\zeta$**: for a fixed point $y^*$, slide the latent downhill on $E(y^*, \zeta)$. This is
#   cheaper than a grid, but it is *local*. Started on the wrong side, it settles on the far
#   side of the ellipse, which is a local minimum. A grid search cannot make this mistake.

# %% mystnb={"image": {"alt": "Two panels. Left: heat-map of the zero-temperature free energy over the plane, dark along the ellipse, with five gradient-descent paths of y running from orange start points downhill to blue end points on the ellipse; right: the energy of one fixed point against the latent angle zeta, where gradient descent on zeta from one start reaches the global minimum and from the other stops in a higher local minimum."}}
starts = torch.tensor([[-2.2, 2.0], [2.3, -1.8], [0.3, 0.2], [0.0, 2.2], [-1.0, -0.3]])
y_paths = energy.infer_y(starts, steps=S.gd_steps, lr=0.1, n_latent=S.n_latent)
y_star = torch.tensor([[0.2, 1.2]])
z_axis = energy.latent_grid(S.n_latent)
profile = energy.latent_energy(y_star, z_axis)[0]                                     # E(y*, ζ) on the grid
z_paths = energy.infer_latent(y_star.expand(2, 2), torch.tensor([1.0, 4.2]), steps=S.gd_steps, lr=0.05)
fig = viz.plot_inference(F_inf, y1, y2, y_paths, z_axis, profile, z_paths)
plt.show()
e_end = energy.latent_energy(y_star.expand(2, 2), z_paths[-1].unsqueeze(1)).squeeze(1)
print(f"y paths: F_inf at the end = {energy.free_energy_zero_temp(y_paths[-1], 2048).max():.4f} (max of 5)")
print(f"zeta paths from zeta=1.0 and zeta=4.2 end at energies {e_end[0]:.3f} and {e_end[1]:.3f}; "
      f"global minimum {energy.free_energy_zero_temp(y_star, 4096).item():.3f}")
glue("ch1_e_global", energy.free_energy_zero_temp(y_star, 4096).item(), display=False)
glue("ch1_e_local", e_end[1].item(), display=False)
glue("ch1_z_local", z_paths[-1][1].item(), display=False)

# %% [markdown]
# *Figure 1.2: left, the zero-temperature free energy $F_\infty(y)$ with gradient-descent
# paths of $y$ (orange starts, blue ends on the ellipse); right, the energy $E(y^*, \zeta)$ of
# the point $y^* = (0.2, 1.2)$ along the latent, and gradient descent on $\zeta$ from two starts.*
#
# :::{admonition} What you should see
# * The grid minimum matches the true squared distance to within {glue:text}`ch1_grid_error:.3f`
#   (the printed error), because the grid step is $2\pi/n_\zeta$. The error shrinks as $n_\zeta$ grows.
# * Every $y$ path ends on the ellipse, with $F_\infty < 0.01$.
# * On $\zeta$, the start at $\zeta = 1$ reaches the global minimum ({glue:text}`ch1_e_global:.2f`).
#   The start at $\zeta = 4.2$ stops near $\zeta =$ {glue:text}`ch1_z_local:.2f` with energy
#   {glue:text}`ch1_e_local:.1f`. That point is on the bottom of the ellipse and is a local minimum.
# :::

# %% [markdown]
# ## 1.3 The relaxed free energy and the inverse temperature
#
# Keeping only the best $\zeta$ is one choice. A softer one lets every latent value contribute,
# each weighted by $e^{-\beta E}$. This is the relaxed {term}`Free energy` at
# {term}`Inverse temperature` $\beta$:
#
# $$
# F_\beta(y) = -\frac{1}{\beta} \log \Big( \frac{1}{n_\zeta} \sum_{i=1}^{n_\zeta} e^{-\beta E(y, \zeta_i)} \Big).
# $$ (eq-free-energy-beta)
#
# The two ends of the temperature scale are the two simplest summaries of $E(y, \cdot)$.
#
# * **Cold, $\beta \to \infty$**: the smallest term dominates, and $F_\beta \to \min_\zeta E = F_\infty$.
#   More precisely, $F_\infty \le F_\beta \le F_\infty + \log(n_\zeta)/\beta$.
# * **Hot, $\beta \to 0$**: expanding $e^{-\beta E} \approx 1 - \beta E$ gives
#   $F_\beta \to \frac{1}{n_\zeta}\sum_i E(y, \zeta_i)$, the *mean* energy. Every latent value counts, and the
#   ellipse's shape is smoothed away.
#
# In between, $F_\beta$ decreases as $\beta$ grows. Computing it naively underflows. The energies of
# this chapter are float32 tensors, and in float32 $e^{-\beta E}$ rounds to exactly $0$ once $\beta E$
# exceeds {glue:text}`ch1_underflow_f32:.1f` (minus the logarithm of half the smallest positive float32
# number; in float64 the limit is {glue:text}`ch1_underflow_f64:.0f`). If every term underflows, the mean
# of the exponentials is $0$ and $-\frac1\beta \log 0 = +\infty$. The package therefore uses
# `torch.logsumexp`, which factors out the largest term first (and works in float64). The cell computes
# the limit from `torch.finfo` and evaluates both versions at the centre of the ellipse, where the
# smallest energy is $\rho_2^2 = 0.64$:

# %%
def underflow_limit(dtype):
    """The x beyond which exp(-x) rounds to 0: half the smallest subnormal number, tiny * eps / 2."""
    fi = torch.finfo(dtype)
    return -(math.log(fi.tiny) + math.log(fi.eps) - math.log(2))


limit = underflow_limit(torch.float32)
print(f"float32: exp(-x) = {torch.exp(torch.tensor(-(limit - 0.01))).item():.3g} at x = {limit - 0.01:.2f}, "
      f"{torch.exp(torch.tensor(-(limit + 0.01))).item():.3g} at x = {limit + 0.01:.2f}")
centre = torch.tensor([[0.0, 0.0]])
E_centre = energy.latent_energy(centre, energy.latent_grid(S.n_latent))           # [1, n_zeta], float32
for b in (100.0, 1000.0):
    naive = -torch.log(torch.exp(-b * E_centre).mean(-1)) / b
    print(f"beta = {b:>6}: naive F_beta(centre) = {naive.item():.4f}, "
          f"logsumexp = {energy.free_energy(centre, b, S.n_latent).item():.4f}")
glue("ch1_underflow_f32", limit, display=False)
glue("ch1_underflow_f64", underflow_limit(torch.float64), display=False)

# %% [markdown]
# At $\beta = 100$ both agree; at $\beta = 1000$ every $\beta E$ at the centre is above the limit and
# the naive formula returns `inf`, while `logsumexp` stays finite.
#
# Move the slider to cool or heat the model. It needs a running kernel (Jupyter or Colab); the static
# page shows the slider's starting value and, after it, the same maps at four temperatures.

# %% mystnb={"image": {"alt": "Heat-map of the relaxed free energy over the plane at the inverse temperature beta chosen with the slider, with the training points as orange dots; it redraws only with a running kernel."}}
def show_free_energy(beta=1.0):
    viz.plot_free_energy_beta(energy.free_energy(grid, beta, S.n_latent), y1, y2, beta, data=y_data)
    # an <img> with alt text instead of plt.show(), so the picture keeps a description in the static page
    display(HTML(viz.figure_img_html(plt.gcf(), f"Heat-map of the relaxed free energy at beta = {beta:.3g} "
                                     "over the plane, with the training points as orange dots.")))


interact(show_free_energy, beta=FloatLogSlider(value=1.0, base=10, min=-2, max=3, step=0.1, description="β"));

# %% [markdown]
# *Figure 1.3 (live): $F_\beta(y)$ at the slider's $\beta$, with the training points as orange dots (it redraws
# only with a running kernel; the static page shows the slider's starting value, $\beta = 1$).*
#
# :::{admonition} What you should see
# * Slide $\beta$ up (cool): the dark valley narrows onto the ellipse, as in the left panel of figure 1.2.
# * Slide it down (heat): the valley fills in and only a bowl around the centre stays dark.
#   Figure 1.4 shows four settings side by side on one colour scale.
# :::

# %% mystnb={"image": {"alt": "Four heat-maps of the relaxed free energy on one colour scale, for beta of infinity, 10, 1 and 0.1 from left to right. At large beta the dark low-energy valley follows the ellipse sharply; as beta falls the valley fills in until only a bowl around the centre remains."}}
betas = [math.inf, 10.0, 1.0, 0.1]
maps = {b: energy.free_energy(grid, b, S.n_latent) for b in betas}
fig = viz.plot_free_energy_betas(maps, y1, y2)
plt.show()
probe = torch.tensor([[0.0, 0.0], [1.6, 0.0]])                        # the centre, and a point on the ellipse
e_probe = energy.latent_energy(probe, energy.latent_grid(S.n_latent))
for b in [math.inf, 100.0, 10.0, 1.0, 0.1, 0.001]:
    print(f"beta = {b:>7}: F_beta(centre) = {energy.free_energy(probe, b, S.n_latent)[0]:.3f}, "
          f"F_beta(on ellipse) = {energy.free_energy(probe, b, S.n_latent)[1]:.3f}")
print("limits: min_z E =", [round(v, 3) for v in e_probe.min(1).values.tolist()],
      "| mean_z E =", [round(v, 3) for v in e_probe.mean(1).tolist()])

# %% [markdown]
# *Figure 1.4: the relaxed free energy $F_\beta(y)$ for $\beta = \infty, 10, 1, 0.1$, on one
# colour scale. Cooling sharpens the valley onto the ellipse; heating fills it in until only
# a bowl around the centre remains.*
#
# :::{admonition} What you should see
# * At the centre, $F_\beta$ runs from $\rho_2^2 = 0.64$ (cold) up to the mean energy
#   $(\rho_1^2 + \rho_2^2)/2 = 1.6$ (hot). On the ellipse it runs from $0$ up to
#   $\rho_1^2 + (\rho_1^2+\rho_2^2)/2 = 4.16$.
# * Each printed column never increases as $\beta$ grows. At $\beta = 100$ it is within
#   $\log(n_\zeta)/100 \approx 0.04$ of the minimum.
# :::

# %% [markdown]
# (sec-horn)=
# ### A conditional world: the horn
#
# Now add an input $x \in [0, 1]$. For each $x$ the data lie on a smaller, turned ellipse,
# $\tilde y(x, \zeta)$: it is scaled by $0.4 + 0.6x$ and rotated by $(1 - x)\pi/2$. Stacked along
# $x$, these ellipses form a horn. The energy is $E(x, y, \zeta) = \lVert y - \tilde y(x, \zeta)\rVert^2$.
# The two variables now have different jobs. The *observed* $x$ selects which ellipse. The
# *latent* $\zeta$ covers what $x$ cannot determine, namely where on that ellipse $y$ lies. A JEPA
# works the same way. The context fixes most of the target's representation, and the rest is
# the part the predictor cannot know.

# %% mystnb={"image": {"alt": "Three heat-maps of the conditional zero-temperature free energy for the inputs x of 0, 0.5 and 1, each with a dashed curve on the dark valley marking the ellipse that x selects. As x grows the ellipse grows and turns, from a small upright ellipse to the full-size horizontal one."}}
x_values = (0.0, 0.5, 1.0)
horn_maps = {x: energy.free_energy_zero_temp(grid, S.n_latent, x=x) for x in x_values}
fig = viz.plot_horn(horn_maps, y1, y2)
plt.show()

# %% [markdown]
# *Figure 1.5: the conditional zero-temperature free energy $F_\infty(x, y) = \min_\zeta E(x, y, \zeta)$ for
# three inputs $x$; the dashed curve is the ellipse that $x$ selects.*
#
# :::{admonition} What you should see
# One dark valley per panel, lying on its dashed curve. At $x = 0$ it is a small ellipse turned
# upright (scaled by $0.4$, a quarter turn); at $x = 0.5$ a mid-sized one turned half as far; at
# $x = 1$ the full-size horizontal ellipse of the first figure. The input removes all doubt about *which*
# ellipse; only the position along it, $\zeta$, is left open.
# :::

# %% [markdown]
# ## 1.4 How training shapes the energy
#
# So far the energy was given. Learning means choosing parameters $\theta$ of $E_\theta$ so that
# the data get low energy **and everything else gets higher energy**. The second half is
# easy to forget. We train three small models on the same points for `S.train_steps` Adam
# steps.
#
# **(a) Pull down only.** A flexible energy $E_\theta(y) = \lVert \mathrm{MLP}_\theta(y) \rVert^2$
# is trained with the loss $\frac{1}{N}\sum_i E_\theta(y_i)$. This loss is smallest when the
# energy is zero *everywhere*: the energy goes flat and stops telling data from non-data.
# This is collapse.
#
# **(b) Contrastive.** The same MLP also pushes up the energy of *negative samples* $\hat y$
# until they reach a margin $m$ (the hinge loss):
#
# $$
# \mathcal{L}_{\text{hinge}}(\theta) = \frac{1}{N}\sum_i E_\theta(y_i)
#   + \frac{1}{N^-}\sum_{j=1}^{N^-} \max\big(0,\ m - E_\theta(\hat y_j)\big).
# $$ (eq-hinge)
#
# Here $N^-$ is the number of negatives. Half of them are uniform in the square and half are jittered data points. The energy
# is shaped only where negatives land, which in high dimensions is a small fraction of the
# space.
#
# **(c) Regularised.** Keep "pull down only", but limit how much of the space can have low
# energy. The model is a learnable ellipse $b + A\zeta$ with a 2-D latent $\zeta$, plus a regulariser
# that keeps $\zeta$ near the unit circle:
#
# $$
# F_\theta(y) = \min_{\zeta \in \mathbb{R}^2} \ \lVert y - (b + A \zeta) \rVert^2 + \lambda\,(\lVert \zeta \rVert - 1)^2 .
# $$ (eq-regularised-latent)
#
# With $\lambda = 0$ the latent can reach every point of the plane, so $F_\theta \equiv 0$: too
# much latent capacity also flattens the energy. With $\lambda > 0$ the low-energy set is
# essentially one closed curve. Training can only *move* that curve onto the data, not widen
# it. This is the idea behind regularised (non-contrastive) methods, and JEPAs use it: a term
# $R$ limits the volume of low energy, so no negatives are needed {cite:p}`lecun2022path`.

# %%
titles = {"pull_down": "pull down only", "contrastive": "contrastive (hinge)", "regularised": "regularised latent"}
y_off = energy.off_manifold_points(S.grid, min_dist=0.5)     # probe points >= 0.5 away from the ellipse
runs, results, stats = {}, {}, {}
for method in energy.TRAIN_METHODS:
    run = runs[method] = energy.train_energy_model(method, y_data, S.train_steps, n_latent=S.n_latent)
    results[titles[method]] = (run.energy(grid), run.history)
    stats[method] = energy.energy_stats(run.energy, y_data, y_off)
    print(f"{titles[method]:>20}: mean E on data {stats[method]['e_data']:.4f} | off the ellipse "
          f"{stats[method]['e_off']:9.3f} | spread {stats[method]['spread']:8.3f}")
glue("ch1_eoff_contrastive", float(stats["contrastive"]["e_off"]), display=False)
glue("ch1_eoff_regularised", float(stats["regularised"]["e_off"]), display=False)

# %% mystnb={"image": {"alt": "Six panels, one column per training method: pull down only, contrastive (hinge) and regularised latent. Top row: the trained energy as heat-maps with the data as orange dots, dark over the whole plane for pull down only, a thin dark ring on the data for contrastive and a smooth valley along the ellipse for regularised; bottom row: the mean energy on the data (solid) and on points away from the ellipse (dashed) over the training steps, on a log scale."}}
fig = viz.plot_trained_energies(results, y1, y2, data=y_data)
plt.show()

# %% [markdown]
# *Figure 1.6: top, the trained energies on the same colour scale as before (data as orange
# dots); bottom, the mean energy on data (solid) and on points at least 0.5 away from the
# ellipse (dashed) during training, on a log scale.*
#
# :::{admonition} What you should see
# * **Pull down only**: the whole plane goes dark. Both curves fall below $10^{-2}$ and the
#   spread is about 0. This is a flat, collapsed energy: it scores every point as data.
# * **Contrastive**: a thin dark ring on the data. The energy off the ellipse rises far above
#   the margin $m = 1$ (here {glue:text}`ch1_eoff_contrastive:.0f` on average), because nothing
#   holds it down where negatives pushed.
# * **Regularised**: a smooth valley that follows the ellipse. The energy off the ellipse
#   ({glue:text}`ch1_eoff_regularised:.1f` on average) is the squared distance to the learned curve,
#   and no negatives were used.
# :::

# %%
semi_axes = torch.linalg.svdvals(runs["regularised"].model.A.detach())   # the learned ellipse is b + A(cos ζ, sin ζ)
print(f"learned semi-axes: {semi_axes[0]:.3f}, {semi_axes[1]:.3f} | true: {energy.ELLIPSE_RADII}")

# %% [markdown]
# The regularised model recovers the ellipse's semi-axes to within a few per cent (the noise
# on the data and the finite $\lambda$ account for the rest). The picture to keep for
# the rest of the book: **a flat energy is a collapsed energy**, and the cure is either
# negatives (contrastive) or a limit on the low-energy volume (regularised).
#
# **One training step, written out.** Every model of this book trains with the same four lines:
# a forward pass that computes the energies, a loss, a backward pass, an optimiser step. Here is
# the contrastive step of (b) from scratch, with the hinge {eq}`eq-hinge` typed out. Started from
# the same initial weights (the package builds its `MLPEnergy` under seed 0, and so do we) and fed
# the same negatives (drawn from a generator seeded the same way), it must leave exactly the
# parameters that `energy.train_energy_model` leaves:

# %%
def my_train_step(model, opt, y, y_neg, margin=1.0):
    e_pos, e_neg = model(y), model(y_neg)                          # forward: energies of data and negatives
    loss = e_pos.mean() + torch.relu(margin - e_neg).mean()        # the hinge, eq. (eq-hinge)
    opt.zero_grad()
    loss.backward()                                                # backward: gradients of the loss
    opt.step()                                                     # Adam update
    return loss.item()


n_check = 5                                                         # a few steps are enough to compare
with torch.random.fork_rng():                                       # seed the initial weights, leave the global RNG alone
    torch.manual_seed(0)
    mine = energy.MLPEnergy()
opt = torch.optim.Adam(mine.parameters(), lr=0.01)
neg_gen = torch.Generator().manual_seed(0)
my_losses = [my_train_step(mine, opt, y_data, energy.contrastive_negatives(y_data, neg_gen)) for _ in range(n_check)]
theirs = energy.train_energy_model("contrastive", y_data, n_check, n_latent=S.n_latent)
assert all(torch.allclose(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(mine.parameters(), theirs.model.parameters()))
print(f"my_train_step x {n_check} = train_energy_model: losses {[round(v, 4) for v in my_losses]}, "
      f"max parameter difference {max((p - q).abs().max().item() for p, q in zip(mine.parameters(), theirs.model.parameters())):.1e}")

# %% [markdown]
# ## 1.5 From the toy world to JEPA: one energy for images, video and actions
#
# A {term}`JEPA` measures compatibility in *representation space* rather than in the space
# of pixels. An {term}`Encoder` $f_\theta$ embeds the context $x$ and the target $x'$. A
# {term}`Predictor` $g_\phi$ maps the context's representation, together with an encoded
# action $q_\omega(a)$ if there is one, to a guess of the target's representation
# {cite:p}`lecun2022path`. The EB-JEPA paper writes all of its models with one energy
# (paper eq. 1) and one loss (paper eq. 5) {cite:p}`ebjepa2026`:
#
# $$
# E(x, x', a) = L_{\text{pred}}\big(g_\phi(f_\theta(x), q_\omega(a)),\ f_\theta(x')\big),
# $$ (eq-jepa-energy)
#
# $$
# \mathcal{L} = L_{\text{pred}} + \lambda\, R(z), \qquad z = f_\theta(x).
# $$ (eq-jepa-loss)
#
# $L_{\text{pred}}$ is a squared error. The three instantiations differ only in what $x$, $x'$,
# $g_\phi$ and $q_\omega$ are:
#
# | instantiation | context $x$ → target $x'$ | encoder $f_\theta$ | predictor $g_\phi$ | action encoder $q_\omega$ | paper |
# |---|---|---|---|---|---|
# | image | one augmented view → another view of the same image | ResNet-18, shared by both views | identity: $E = \lVert z - z' \rVert^2$ | none | eq. 2 |
# | video | frames up to $t$ → frame $t+1$ | per-frame ConvNet | ResUNet on the two most recent frame representations $(z_{t-1}, z_t)$, rolled out for several steps | none | eq. 3 |
# | action-conditioned | frame $t$ and action $a_t$ → frame $t+1$ | IMPALA ConvNet | GRU, $\hat z_{t+1} = g_\phi(z_t, a_t)$, rolled out along an action sequence | identity | eq. 4 |
#
# The toy world supplies two "views" of each point: two noisy copies of the same sample of
# the ellipse. With a toy linear encoder, {eq}`eq-jepa-energy` for the image instantiation
# is just `energy.jepa_energy(f, None, x, x_prime)`.

# %%
x_view = y_data + 0.2 * torch.randn(y_data.shape, generator=gen)       # two views of each toy point
x_view2 = y_data + 0.2 * torch.randn(y_data.shape, generator=gen)
torch.manual_seed(0)
f = torch.nn.Linear(2, 2)                                              # a toy linear encoder f_theta
with torch.no_grad():
    e_pairs = energy.jepa_energy(f, None, x_view, x_view2)             # image instantiation: g = identity
    e_mismatch = energy.jepa_energy(f, None, x_view, x_view2.roll(1, dims=0))
print(f"untrained encoder: mean E(x, x') = {e_pairs.mean():.3f} on true pairs, "
      f"{e_mismatch.mean():.3f} on mismatched pairs")

# %% [markdown]
# **Why a regulariser $R$?** The energy {eq}`eq-jepa-energy` has a trivial minimiser. If the
# encoder sends every input to the same vector, the prediction is perfect for *every* pair,
# related or not. This is {term}`Complete collapse`: the JEPA version of the flat energy in
# figure 1.6. The paper has no negatives, no momentum encoder and no stop-gradient, so the
# only thing in {eq}`eq-jepa-loss` that rules out collapse is $\lambda R$. Train the toy
# encoder with $\lambda = 0$ and watch what happens.

# %% mystnb={"image": {"alt": "Two line plots over the training steps, both on log scales, for a toy linear JEPA trained without a regulariser. Left: the mean energy of true pairs and of mismatched pairs, which both fall towards zero; right: the mean standard deviation of the embeddings, which shrinks by many orders of magnitude as the encoder collapses to a point."}}
hist = energy.train_toy_jepa(x_view, x_view2, S.train_steps, reg=None, lam=0.0)
fig = viz.plot_toy_jepa_collapse(hist)
plt.show()
print(f"after {S.train_steps} steps: E(true pairs) = {hist['e_pos'][-1]:.2e}, "
      f"E(mismatched pairs) = {hist['e_neg'][-1]:.2e}, std of f(x) = {hist['z_std'][-1]:.2e}")
glue("ch1_jepa_e_neg", float(hist["e_neg"][-1]), display=False)
glue("ch1_jepa_z_std", float(hist["z_std"][-1]), display=False)

# %% [markdown]
# *Figure 1.7: a toy linear JEPA trained on {eq}`eq-jepa-loss` with $\lambda = 0$. Left, the
# mean energy of true and of mismatched pairs; right, the mean per-dimension standard deviation
# of the embeddings $f_\theta(x)$ (both on log scales).*
#
# :::{admonition} What you should see
# At the start, mismatched pairs have clearly higher energy than true pairs. By the end,
# *both* energies and the embedding standard deviation have fallen by many orders of
# magnitude: the energy of mismatched pairs ends at {glue:text}`ch1_jepa_e_neg:.1e` and the
# standard deviation at {glue:text}`ch1_jepa_z_std:.1e`. The encoder has shrunk to a single point,
# and its energy is flat. It is the same failure as "pull down only", now in representation space.
# :::
#
# Chapter 2 adds the missing term. VICReg's variance and covariance penalties
# {cite:p}`bardes2022vicreg` and SIGReg's push towards an isotropic Gaussian
# {cite:p}`balestriero2025lejepa` are two choices of $R(z)$. Each limits the volume of low
# energy, as the regularised latent did in section 1.4.
#
# ## Summary
#
# * An energy scores compatibility. Inference minimises it, over $y$ or over a latent $\zeta$,
#   by grid search (global, but costly) or by gradient descent (cheap, but local).
# * The free energy removes a latent. At zero temperature it keeps the best $\zeta$; the relaxed
#   version {eq}`eq-free-energy-beta` moves from the minimum ($\beta \to \infty$) to the
#   mean ($\beta \to 0$).
# * Training must make the energy low on data **and** high elsewhere. Pulling down alone
#   collapses it. Contrastive methods push up negatives; regularised methods limit the
#   low-energy volume.
# * EB-JEPA has one energy {eq}`eq-jepa-energy` and one loss {eq}`eq-jepa-loss` for images,
#   video and actions. Without $R$ the loss is minimised by complete collapse.
#
# ## Further reading
#
# * {cite:t}`lecun2006tutorial`: the tutorial behind this chapter's vocabulary: energies, inference
#   by minimisation, the free energy, and the loss functions that do or do not collapse an energy.
# * {cite:t}`lecun2021deep`: the NYU Deep Learning course, whose energy-based-model lectures use the same
#   ellipse and horn toy worlds with a temperature knob.
# * {cite:t}`lecun2022path`: the position paper that proposes JEPAs and regularised (non-contrastive)
#   training as the way to limit the volume of low energy.
# * {cite:t}`ebjepa2026`, § 3: the unified energy (eq. 1) and loss (eq. 5) with their three instantiations.

# %% [markdown]
# ## Exercises
#
# Marks: *(warm-up)* turns one formula of the chapter into code; *(core)* needs an argument or a
# derivation as well; *(open)* has no single answer and asks you to experiment.
#
# :::{exercise} (warm-up) The relaxed free energy from an energy table
# :label: ex-energy-1
# Write `my_free_energy(E, beta)` that takes a table of energies `E` of shape `[N, n_zeta]` (one row
# per point, one column per latent value) and returns $F_\beta$ of {eq}`eq-free-energy-beta` for
# each row, shape `[N]`. Use `torch.logsumexp`, and remember the $\frac{1}{n_\zeta}$. Then run
# `checks.check_free_energy(my_free_energy)`.
# :::

# %% [markdown]
# :::{solution} ex-energy-1
# :class: dropdown
# $\log \frac{1}{n_\zeta}\sum_i e^{-\beta E_i} = \operatorname{logsumexp}_i(-\beta E_i) - \log n_\zeta$.
# Without the $-\log n_\zeta$ you compute a "log-sum" free energy. It still tends to the minimum as
# $\beta \to \infty$, but as $\beta \to 0$ it runs off to $-\infty$ instead of reaching the mean
# energy. `logsumexp` subtracts the largest exponent before exponentiating, so large $\beta E$
# does not underflow to $\log 0 = -\infty$.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_free_energy(E, beta):
    return -(torch.logsumexp(-beta * E, dim=-1) - math.log(E.shape[-1])) / beta


checks.check_free_energy(my_free_energy)

# %% [markdown]
# :::{exercise} (warm-up) A hinge for contrastive training
# :label: ex-energy-2
# Write `my_hinge(e_pos, e_neg, margin)` for {eq}`eq-hinge`, given the energies of the data
# `e_pos` of shape `[N]` and of the $N^-$ negatives `e_neg` of shape `[N_neg]`, and check it with
# `checks.check_hinge_loss(my_hinge)`. What would go wrong if negatives were pushed up
# without the $\max(0, \cdot)$?
# :::

# %% [markdown]
# :::{solution} ex-energy-2
# :class: dropdown
# `e_pos.mean() + torch.relu(margin - e_neg).mean()`. Without the clip, the loss is
# unbounded below. Raising any negative's energy always lowers the loss, so training spends
# its effort making energies huge far from the data instead of shaping the region near it.
# The margin says "high enough is enough".
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_hinge(e_pos, e_neg, margin):
    return e_pos.mean() + torch.relu(margin - e_neg).mean()


checks.check_hinge_loss(my_hinge)

# %% [markdown]
# :::{exercise} (core) Too much latent capacity
# :label: ex-energy-3
# Build `energy.RegularisedLatentEnergy(lam=0.0, n_latent=S.n_latent)`, an untrained model with
# $\lambda = 0$ in {eq}`eq-regularised-latent`, and evaluate it on `grid` (inside
# `torch.no_grad()`). Pass the result to `checks.check_flat_energy`. Why is the energy flat
# although the model was never trained? What would happen if you trained it with "pull down only"?
# :::

# %% [markdown]
# :::{solution} ex-energy-3
# :class: dropdown
# With $\lambda = 0$, $\zeta$ may be any vector in the plane. For any $y$ choose $\zeta = A^{-1}(y - b)$:
# the reconstruction is exact and the energy is 0. A latent with as many dimensions as the
# data can explain anything, so the free energy is flat before any training. Training with
# "pull down only" cannot change that, because the loss is already at its minimum. This is why
# latent-variable models limit the latent's information (a smaller dimension, sparsity, noise),
# and why a JEPA limits its representations with $R$.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
with torch.no_grad():
    F_flat = energy.RegularisedLatentEnergy(lam=0.0, n_latent=S.n_latent)(grid)
checks.check_flat_energy(F_flat)

# %% [markdown]
# :::{exercise} (core) How cold is cold enough?
# :label: ex-energy-4
# Show that $F_\infty(y) \le F_\beta(y) \le F_\infty(y) + \log(n_\zeta)/\beta$ for the grid version
# of {eq}`eq-free-energy-beta`. How large must $\beta$ be for $F_\beta$ to be within $0.01$ of
# $F_\infty$ everywhere when $n_\zeta = 36$? Check your answer with `checks.check_cold_enough(beta)`,
# which also measures the largest gap on a grid of the plane.
# :::

# %% [markdown]
# :::{solution} ex-energy-4
# :class: dropdown
# Let $E_\text{min} = \min_i E_i$. Every term satisfies $e^{-\beta E_i} \le e^{-\beta E_\text{min}}$, so the
# mean is at most $e^{-\beta E_\text{min}}$ and $F_\beta \ge E_\text{min}$. The mean is also at least
# $\frac{1}{n_\zeta} e^{-\beta E_\text{min}}$ (keep only the smallest energy), so
# $F_\beta \le E_\text{min} + \log(n_\zeta)/\beta$. A gap of at most $0.01$
# is guaranteed once $\beta \ge 100 \log 36$, that is $\beta \ge$ {glue:text}`ch1_ex4_beta:.1f`. The cell
# measures the largest gap on the grid at that $\beta$: {glue:text}`ch1_ex4_gap:.4f`, so no smaller
# $\beta$ would do. The bound is attained where one latent value is much better than all the others
# (points far from the ellipse); where several are nearly optimal the gap is smaller.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
beta_needed = 100 * math.log(36)
bound, gap = checks.check_cold_enough(beta_needed, n_latent=36)
glue("ch1_ex4_beta", beta_needed, display=False)
glue("ch1_ex4_gap", gap, display=False)

# %% [markdown]
# :::{exercise} (core) Reading the unified energy
# :label: ex-energy-5
# (a) In the image instantiation ($g_\phi$ = identity), what is the energy of *any* pair if
# $f_\theta(x) = \bar z$ for all $x$? (b) In the action-conditioned instantiation, could the
# predictor avoid collapse by ignoring the action? Which term of {eq}`eq-jepa-loss` has to
# prevent collapse, and on which variable does it act? (c) Implement {eq}`eq-jepa-energy`
# yourself as `my_jepa_energy(f, g, x, x_prime, a=None, q=None)` and check it with
# `checks.check_jepa_energy(my_jepa_energy)`.
# :::

# %% [markdown]
# :::{solution} ex-energy-5
# :class: dropdown
# (a) $E = \lVert \bar z - \bar z \rVert^2 = 0$ for every pair, related or not. This is complete
# collapse, and it is the global minimum of $L_{\text{pred}}$. (b) No. A constant encoder
# with a predictor that ignores the action (or outputs the constant) still has zero
# prediction error, so the action does not help. Only $\lambda R(z)$ can rule this out, and
# it acts on the representations $z = f_\theta(x)$, not on the predictions. In the paper's
# world model, extra terms such as an inverse-dynamics loss also force $z$ to carry the
# action's effect. (c) See the solution cell.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_jepa_energy(f, g, x, x_prime, a=None, q=None):
    z, target = f(x), f(x_prime)
    if g is None:
        pred = z
    elif a is None:
        pred = g(z)
    else:
        pred = g(z, a if q is None else q(a))
    return ((pred - target) ** 2).reshape(len(pred), -1).sum(-1)


checks.check_jepa_energy(my_jepa_energy)
