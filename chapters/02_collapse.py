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
# (ch-collapse)=
# # 2. Collapse, live
#
# Chapter 1 ended with a warning: an energy that is only ever *pulled down* on compatible pairs
# goes flat. For a JEPA this has a concrete face. Train an encoder so that two views of the
# same image get the same embedding, and the cheapest solution is to give *every* image the
# same embedding. This chapter trains a small image JEPA on real MNIST digits and lets you watch
# the two ways it fails, {term}`Complete collapse` and {term}`Dimensional collapse`, and the
# regularisers that prevent them {cite:p}`bardes2022vicreg,ebjepa2026`.
#
# **Learning objectives.** After this chapter you can
#
# 1. explain why the invariance term alone has a trivial minimiser, and recognise complete
#    collapse in the per-dimension standard deviations;
# 2. tie each VICReg term to the collapse it prevents: variance (paper eq. 6) against complete
#    collapse, covariance (paper eq. 7) against dimensional collapse;
# 3. measure collapse with the {term}`Effective rank`, the covariance spectrum and a
#    {term}`Linear probe`, and know why centring matters for the rank of a collapsed embedding;
# 4. use the Collapse Lab to switch regularisers while a model trains.
#
# How this chapter's small MNIST set-up relates to the paper's CIFAR-10 experiments and the reference
# code is on the {ref}`paper-and-book` page; the symbols are collected on the {ref}`notation` page.
#
# **Prerequisites:** chapter 1 (energy, and why an energy pulled down only on data goes flat).
# **Reading time:** about 25 minutes, plus time in the Collapse Lab and the exercises.
#
# **Runtime** (whole chapter; the sizes are in `preset.collapse`):
#
# | preset | what runs | time |
# |---|---|---|
# | `ci` | 4 settings × 200 steps on 4,000 digits | {glue:text}`ch2_time_ci:.0f` s on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `cpu` | 4 settings × 600 steps on 20,000 digits, plus linear probes | {glue:text}`ch2_time_cpu:.1f` minutes on 2 CPU cores when last measured ({doc}`status page <../book/status>`) |
# | `gpu` | 4 settings × 2,000 steps on all 60,000 digits, with a wider network | not yet measured |

# %% tags=["colab-setup"]
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install the book's package, keep Colab's torch
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "ebjepa-mini[colab] @ git+https://github.com/ebjepa-mini/ebjepa-mini-book@main"], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()   # the Collapse Lab is an ipywidget
from ebjepa_mini import chapter_setup
preset, device = chapter_setup(seed=0)

# %%
import copy

import matplotlib.pyplot as plt
import torch

from ebjepa_mini import checks, viz
from ebjepa_mini.data.views import two_views
from ebjepa_mini.metrics import collapse_verdict, effective_rank
from ebjepa_mini.nets import count_parameters
from ebjepa_mini.widgets import CollapseLab

viz.use_book_style()
S = preset.collapse            # every size of this chapter: images, batch, steps, embedding dim
lab = CollapseLab(preset.name, seed=0)
print(S)
print("data:", lab.data_source)
print(f"model: {count_parameters(lab.model):,} parameters, embedding dimension D = {S.embed_dim}")

# %% tags=["hide-input"]
# Every measured number the text quotes comes from this run or from a stored record
# (bench/results/*.json) and is pasted into the prose with MyST-NB's glue: nothing measured is typed.
from ebjepa_mini.records import across_seeds, chapter_wall_s, glue, glue_across_seeds

times = chapter_wall_s("02_collapse")          # seconds by preset, from bench/results/chapters_*.json
glue("ch2_time_ci", times.get("ci", float("nan")), display=False)
glue("ch2_time_cpu", times.get("cpu", float("nan")) / 60, display=False)

# The stored `cpu` benchmark and its repeats with other seeds (collapse_cpu-seed1.json, ...): mean ± sd.
SEED_KEYS = (("random_init", "random"), ("none", "none"), ("variance", "variance"), ("vicreg", "vicreg"),
             ("sigreg", "sigreg"))
rank_cpu = {}
for name, key in SEED_KEYS:
    glue_across_seeds(f"ch2_seed_acc_{key}", "collapse_cpu", lambda r, n=name: r["probe_acc"].get(n, float("nan")))
    rank_cpu[name] = glue_across_seeds(f"ch2_seed_rank_{key}", "collapse_cpu", lambda r, n=name: r["effective_rank"][n])
verdicts = {name: across_seeds("collapse_cpu", lambda r, n=name: r["verdict"][n] == want)
            for name, want in (("none", "complete collapse"), ("variance", "dimensional collapse"), ("vicreg", "healthy"),
                               ("sigreg", "healthy"))}
n_seeds = verdicts["none"]["n"]
glue("ch2_seed_verdicts", "in every one of them" if all(sum(v["values"]) == n_seeds for v in verdicts.values())
     else "not in every one of them", display=False)
for (name, key), want in zip(SEED_KEYS[1:], ("complete collapse", "dimensional collapse", "healthy", "healthy")):
    glue(f"ch2_seed_verdict_{key}", f"{want} in {int(sum(verdicts[name]['values']))} of {n_seeds}", display=False)
# SIGReg against VICReg in effective rank: in how many seeds is SIGReg's lower?
sig_lower = sum(s < v for s, v in zip(rank_cpu["sigreg"]["values"], rank_cpu["vicreg"]["values"]))
glue("ch2_seed_sig_rank_where", f"in every one of the {n_seeds} seeds" if sig_lower == n_seeds
     else f"in {sig_lower} of the {n_seeds} seeds", display=False)
glue("ch2_seed_sig_rank_ratio", rank_cpu["sigreg"]["mean"] / rank_cpu["vicreg"]["mean"], display=False)
acc_cpu = {name: across_seeds("collapse_cpu", lambda r, n=name: r["probe_acc"][n]) for name in ("random_init", "vicreg", "sigreg")}
beats = sum(min(v, g) > r for v, g, r in zip(acc_cpu["vicreg"]["values"], acc_cpu["sigreg"]["values"],
                                             acc_cpu["random_init"]["values"]))
glue("ch2_seed_beats_random", f"in every one of the {n_seeds} seeds" if beats == n_seeds
     else f"in {beats} of the {n_seeds} seeds", display=False)
random_collapsed = across_seeds("collapse_cpu", lambda r: r["verdict"]["random_init"] == "complete collapse")
glue("ch2_seed_random_collapsed", f"{int(sum(random_collapsed['values']))} of {n_seeds}", display=False)

# %% [markdown]
# ```{note}
# If the line above says `FALLBACK`, the real MNIST file was not found: the chapter then runs on
# scikit-learn's small 8×8 digits, upsampled, and the numbers below will differ. Fetch the real
# data with `python data_scripts/get_data.py` (or point `EBJEPA_DATA` at a folder that has
# `mnist.npz`).
# ```
#
# ## 2.1 Two views of a digit
#
# The image JEPA of the paper (eq. 2) has no predictor: the encoder $f_\theta$ and a small
# projector $h_\psi$ map two random *views* $x, x'$ of one image to embeddings
# $z = h_\psi(f_\theta(x))$ and $z' = h_\psi(f_\theta(x'))$ in $\mathbb R^D$, and the
# prediction loss asks them to agree. Over a batch of $N$ images, with $Z, Z' \in \mathbb R^{N\times D}$,
#
# $$
# L_\text{inv}(Z, Z') = \frac{1}{ND}\sum_{n=1}^{N}\sum_{j=1}^{D} \bigl(Z_{nj} - Z'_{nj}\bigr)^2 .
# $$ (eq-invariance)
#
# Views are random crops with random brightness and contrast (no flips: a mirrored 2 is not a 2).
# Here are a few:

# %% mystnb={"image": {"alt": "Grid of small greyscale digit images in three rows: eight MNIST digits on top and, below each, two random views of the same digit made by cropping and changing brightness and contrast."}}
x = lab.images[:8]
v1, v2 = two_views(x, lab.augment, torch.Generator().manual_seed(1))
fig = viz.show_views(x, v1, v2)
plt.show()

# %% [markdown]
# *Figure 2.1: eight MNIST digits (top) and two random views of each (middle, bottom). The model
# must give both views of a column the same embedding.*
#
# :::{admonition} What you should see
# The two views of a column differ in crop, position, brightness and contrast, yet each still
# shows the same digit, never mirrored. These differences are what the embedding must learn to
# ignore; the digit's identity is what it should keep.
# :::
#
# Look at {eq}`eq-invariance` again: it is zero for *any* encoder that ignores its input. A
# constant $f_\theta(x) = \bar z$ (the same vector for every input) is a global minimum. In the language of chapter 1, pulling the
# energy down on compatible pairs with nothing pushing up elsewhere makes it flat.
#
# :::{admonition} Where EB-JEPA sits
# :class: note
# Joint-embedding methods keep the trivial solution away in one of three ways.
#
# * **Contrastive methods** push the embeddings of *different* images apart, as the hinge of
#   chapter 1 pushed up the energy of negatives {cite:p}`lecun2006tutorial`. They need many
#   negatives, and in high dimensions the negatives cover little of the space.
# * **Architectural asymmetry**: the targets come from a slowly updated copy of the encoder (an
#   exponential moving average, EMA), no gradient flows through them (stop-gradient), and a
#   predictor sits on one branch only. BYOL works this way, and so do the JEPAs for images and video,
#   I-JEPA {cite:p}`assran2023self` and V-JEPA {cite:p}`bardes2024revisiting`. Nothing in their loss
#   forbids collapse; the training dynamics avoid it.
# * **Explicit regularisers** add a term on the batch of embeddings that a collapsed encoder pays
#   for: VICReg {cite:p}`bardes2022vicreg` (this chapter) and SIGReg {cite:p}`balestriero2025lejepa`
#   (chapter 3).
#
# EB-JEPA {cite:p}`ebjepa2026` uses only the third: one shared encoder, no negatives, no EMA copy and
# no stop-gradient, so the regulariser alone stands between the loss and collapse, and what it
# prevents can be read off its terms, as this chapter does.
# :::
#
# ## 2.2 No regulariser: complete collapse
#
# We train the model with {eq}`eq-invariance` alone: {meth}`~ebjepa_mini.collapse.CollapseExperiment.compare`
# resets the model to the same initialisation for each setting, trains `S.steps` steps of AdamW,
# and every `S.plot_every` steps embeds 512+ held-out test digits (no augmentation) to measure them.
# Running all four settings of this chapter takes most of the chapter's runtime.

# %%
runs = lab.compare(probe=True)   # none, variance, vicreg, sigreg: the same code the widget and the benchmark run
for label, r in runs.items():
    print(f"{viz.SETTING_NAMES[label]:32s} {r.report}")
glue("ch2_steps", int(max(r.steps for r in runs.values())), display=False)
glue("ch2_train_s", float(sum(r.seconds for r in runs.values())), display=False)
glue("ch2_steps_per_s", sum(r.steps for r in runs.values()) / sum(r.seconds for r in runs.values()), display=False)

# %% [markdown]
# :::{dropdown} Run details
# When this page was built, the four settings trained {glue:text}`ch2_steps:d` steps each in
# {glue:text}`ch2_train_s:.0f` s in all ({glue:text}`ch2_steps_per_s:.0f` steps per second, on
# whatever machine built it). The stored benchmark runs, with their hardware, date and command,
# are on the {doc}`../book/results` page.
# :::
#
# Each run's dashboard shows four panels: the effective rank over training (defined in
# {eq}`eq-erank` below), the unweighted loss terms, the standard deviation of every embedding
# dimension at the end (sorted) against the hinge $\gamma = 1$ that VICReg will use, and the
# eigenvalues of the embedding covariance. First, no regulariser:

# %% mystnb={"image": {"alt": "Four-panel dashboard of the run without a regulariser: effective rank over the training steps, the invariance loss term on a log scale, the per-dimension standard deviations sorted against a dashed hinge line at gamma, and the covariance eigenvalues on a log scale. The invariance loss falls towards zero and every standard deviation is a tiny fraction of gamma: the embedding has completely collapsed."}}
r = runs["none"]
fig = viz.collapse_dashboard(r.history, r.z, title="no regulariser: " + r.report.verdict)
plt.show()

# %% [markdown]
# *Figure 2.2: the run without a regulariser: effective rank during training, the invariance loss
# term (log scale), the sorted per-dimension standard deviations at the end against the hinge
# $\gamma$ (dashed), and the covariance eigenvalues (log scale).*
#
# :::{admonition} What you should see
# The invariance loss falls towards zero, every dimension's standard deviation shrinks to a tiny
# fraction of $\gamma$, and the covariance eigenvalues drop by orders of magnitude: all digits get
# (nearly) the same embedding.
# :::
#
# Notice the start of the curves, too. A freshly initialised network already maps all digits to
# nearby points: its ReLU features are all positive, so a shared mean dominates the small
# differences between digits. The first steps of training spread the embeddings out; then the
# invariance term, with nothing to oppose it, pulls them together for good.
#
# How do we *measure* "how many directions does the embedding use"? The effective rank
# {cite:p}`roy2007effective` turns the singular values $s_k$ of the embedding matrix into
# a distribution and counts its "effective number" of outcomes:
#
# $$
# \operatorname{erank}(Z) = \exp\Bigl(-\sum_k \bar s_k \log \bar s_k\Bigr), \qquad \bar s_k = \frac{s_k}{\sum_j s_j}.
# $$ (eq-erank)
#
# It is $k$ when $k$ singular values are equal and the rest are zero. There is a catch, and a
# collapsed network shows it. Roy and Vetterli's version uses the *centred* matrix $Z - \bar Z$.
# After complete collapse almost nothing is left after centring: only tiny wiggles whose shape is
# arbitrary, so the centred rank can look healthy. RankMe {cite:p}`garrido2023rankme` uses $Z$
# itself, so the shared mean counts as one direction and a constant embedding has rank 1. The
# Collapse Lab plots RankMe (solid) and the centred rank (dashed); compare both on the
# collapsed run:

# %%
z = runs["none"].z
print(f"mean |z| = {z.mean(0).norm():.3g}, spread (RMS std) = {z.std(0).pow(2).mean().sqrt():.3g}")
print(f"RankMe (uncentred) = {effective_rank(z, centered=False):.2f}  |  centred = {effective_rank(z):.2f}  (D = {z.shape[1]})")
print(collapse_verdict(z))

# %% [markdown]
# :::{admonition} What you should see
# :class: tip
# With no regulariser the verdict is **complete collapse**: the spread of the embeddings is a
# few percent (or less) of their size and RankMe is below 2. The centred effective rank can still
# be large: it measures the *shape* of leftovers that are orders of magnitude smaller than the
# embedding itself. That is why {func}`~ebjepa_mini.metrics.collapse_verdict` checks the spread
# before it looks at the rank.
# :::
#
# ## 2.3 The variance term: dimensional collapse
#
# VICReg's first guard keeps every dimension alive {cite:p}`bardes2022vicreg`. With
# $\operatorname{Var}$ the unbiased variance over the batch, a margin $\gamma = 1$ and
# $\epsilon = 10^{-4}$ (paper eq. 6):
#
# $$
# v(Z) = \frac{1}{D}\sum_{j=1}^{D}\max\Bigl(0,\ \gamma - \sqrt{\operatorname{Var}(Z_{:,j}) + \epsilon}\Bigr).
# $$ (eq-variance)
#
# A constant embedding pays the full price $v = \gamma$ (up to $\epsilon$), so complete collapse is
# no longer free. In code it is {func}`ebjepa_mini.regularizers.vicreg_variance`, three lines:
#
# ```python
# std = torch.sqrt(z.var(dim=0, unbiased=True) + eps)
# return F.relu(gamma - std).mean()
# ```
#
# But look at what the variance-only run found:

# %% mystnb={"image": {"alt": "Four-panel dashboard of the variance-only run: effective rank over training, the loss terms, the sorted per-dimension standard deviations against the dashed hinge at gamma, and the covariance eigenvalues. Every standard deviation reaches the hinge, yet the effective rank stays at one or two and the spectrum shows one or two large eigenvalues and then a cliff: dimensional collapse."}}
r = runs["variance"]
fig = viz.collapse_dashboard(r.history, r.z, title="variance only: " + r.report.verdict)
plt.show()

# %% [markdown]
# *Figure 2.3: the variance-only run, with the same four panels as figure 2.2.*
#
# :::{admonition} What you should see
# Every dimension now has a standard deviation at or above $\gamma$, yet the effective rank falls
# to one or two: the dimensions are copies of each other. The spectrum shows one or two large
# eigenvalues and then a cliff.
# :::
#
# The model satisfied the hinge by spreading the digits along *one* direction and copying it
# into every coordinate. That is **dimensional collapse** {cite:p}`jing2022understanding`:
# the embedding is not constant, but it lives in a low-dimensional subspace, and the probe can
# only read what that subspace holds.
#
# ## 2.4 The covariance term: VICReg
#
# The second guard decorrelates the dimensions. With the unbiased covariance matrix
# $C = \frac{1}{N-1}(Z - \bar Z)^\top (Z - \bar Z)$ (paper eq. 7),
#
# $$
# c(Z) = \frac{1}{D(D-1)}\sum_{i \ne j} C_{ij}^2 .
# $$ (eq-covariance)
#
# EB-JEPA divides by $D(D-1)$, the number of off-diagonal entries (the VICReg paper divides by
# $D$, so its weights do not carry over one to one). The full image objective is
# $L_\text{inv} + \lambda_\text{std}\,[v(Z) + v(Z')] + \lambda_\text{cov}\,[c(Z) + c(Z')]$, here with
# $\lambda_\text{std} = 1$, $\lambda_\text{cov} = 100$ (the paper's best CIFAR setting; the paper writes
# these weights $\alpha$ and $\beta$):

# %% mystnb={"image": {"alt": "Four-panel dashboard of the VICReg run (variance plus covariance): effective rank over training, the loss terms, the sorted per-dimension standard deviations against the dashed hinge at gamma, and the covariance eigenvalues. The standard deviations sit near the hinge, the spectrum decays gently and the effective rank stays high."}}
r = runs["vicreg"]
fig = viz.collapse_dashboard(r.history, r.z, title="variance + covariance (VICReg): " + r.report.verdict)
plt.show()

# %% [markdown]
# *Figure 2.4: the VICReg run (variance and covariance terms), with the same four panels.*
#
# :::{admonition} What you should see
# The standard deviations sit near $\gamma$, the spectrum decays gently instead of falling off a
# cliff, and the effective rank stays high: many directions of the embedding carry signal.
# :::
#
# **The training step, written out.** Everything above ran through the package's training loop. One
# step of it, for VICReg, is short enough to write from scratch: draw a batch, make two views, embed
# both in one forward pass, compute {eq}`eq-invariance` plus the weighted terms {eq}`eq-variance` and
# {eq}`eq-covariance` of both views, back-propagate, and let AdamW update the weights. Started from a
# copy of the lab's initial weights and fed the same batches (a copy of the lab's random generator),
# two steps of `my_step` must leave the same parameters as two steps of the lab's own trainer:

# %%
def my_step(model, opt, x, augment, gen, lam_std=1.0, lam_cov=100.0):
    v1, v2 = augment(x, gen), augment(x, gen)                  # two random views of the batch
    z1, z2 = model(torch.cat([v1, v2])).chunk(2)               # forward: one pass over both views
    inv = (z1 - z2).pow(2).mean()                              # eq. (eq-invariance)

    def var(z):                                                # eq. (eq-variance), gamma = 1, eps = 1e-4
        return torch.relu(1 - torch.sqrt(z.var(dim=0) + 1e-4)).mean()

    def cov(z):                                                # eq. (eq-covariance)
        zc = z - z.mean(dim=0)
        C = zc.T @ zc / (len(z) - 1)
        D = z.shape[1]
        return (C - torch.diag(C.diag())).pow(2).sum() / (D * (D - 1))

    loss = inv + lam_std * (var(z1) + var(z2)) + lam_cov * (cov(z1) + cov(z2))
    opt.zero_grad()
    loss.backward()                                            # backward
    opt.step()                                                 # AdamW update
    return loss.item()


lab.reset()                                                    # the shared initialisation, VICReg switched on
lab.set(variance=True, covariance=True, sigreg=False)
mine = copy.deepcopy(lab.model)
opt = torch.optim.AdamW(mine.parameters(), lr=S.lr, weight_decay=S.weight_decay)
gen = torch.Generator()
gen.set_state(lab.gen.get_state())                             # the same batches and views as the lab
my_losses = []
for _ in range(2):
    idx = torch.randint(len(lab.images), (S.batch_size,), generator=gen)
    my_losses.append(my_step(mine, opt, lab.images[idx], lab.augment, gen, lab.weights.variance, lab.weights.covariance))
lab.trainer.run(2)                                             # the package's step, twice
assert all(torch.allclose(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(mine.parameters(), lab.model.parameters()))
print(f"my_step x 2 = the lab's trainer: losses {[round(v, 4) for v in my_losses]} vs "
      f"{[round(v, 4) for v in lab.trainer.history['total']]}, max parameter difference "
      f"{max((p - q).abs().max().item() for p, q in zip(mine.parameters(), lab.model.parameters())):.1e}")

# %% [markdown]
# ## 2.5 SIGReg: one term instead of two
#
# SIGReg asks for more than two moments: the whole embedding distribution should look like an
# isotropic Gaussian. It checks this along $M$ random unit directions $a_m$ with the
# {term}`Epps–Pulley statistic` $G$, which compares the empirical characteristic function of
# the projected batch with the Gaussian one (paper eq. 8):
#
# $$
# \operatorname{SIGReg}(Z) = \frac{1}{M}\sum_{m=1}^{M} G(Z a_m).
# $$ (eq-sigreg)
#
# Chapter 3 takes it apart; here we only switch it on ($\lambda = 10$, as in the paper):

# %% mystnb={"image": {"alt": "Four-panel dashboard of the SIGReg run: effective rank over training, the loss terms, the sorted per-dimension standard deviations against the dashed hinge, and the covariance eigenvalues. The standard deviations stay close to 1, so neither kind of collapse appears, although the spectrum falls more steeply than VICReg's."}}
r = runs["sigreg"]
fig = viz.collapse_dashboard(r.history, r.z, title="SIGReg: " + r.report.verdict)
plt.show()

# %% [markdown]
# *Figure 2.5: the SIGReg run, with the same four panels.*
#
# :::{admonition} What you should see
# The dimensions keep a standard deviation close to that of a standard Gaussian, so neither kind
# of collapse appears. The spectrum is steeper than VICReg's, and the longer `cpu` runs do not close
# that gap: over the {glue:text}`ch2_seed_rank_sigreg_n:d` stored `cpu` seeds (600 steps each) SIGReg's
# RankMe is {glue:text}`ch2_seed_rank_sigreg:.1f` ± {glue:text}`ch2_seed_rank_sigreg_sd:.1f` against VICReg's
# {glue:text}`ch2_seed_rank_vicreg:.1f` ± {glue:text}`ch2_seed_rank_vicreg_sd:.1f`, about
# {glue:text}`ch2_seed_sig_rank_ratio:.0%` of it, and lower {glue:text}`ch2_seed_sig_rank_where`. Both are far
# above the collapsed runs (the table in § 2.6).
# :::
#
# ## 2.6 Side by side
#
# The book uses one colour per setting in every chapter: grey for no regulariser, purple for
# variance only, blue for VICReg, vermillion for SIGReg.

# %% mystnb={"image": {"alt": "Three panels comparing the four settings in the book's colours (grey no regulariser, purple variance only, blue VICReg, vermillion SIGReg): RankMe effective rank during training, the sorted per-dimension standard deviation at the end on a symmetric-log axis with the dashed hinge, and the share of variance carried by each covariance eigenvalue. The unregularised run's standard deviations lie near zero, far below the hinge, and the collapsed runs have the lowest effective rank."}}
fig = viz.compare_collapse({k: (r.history, r.z) for k, r in runs.items()})
plt.show()

# %% [markdown]
# *Figure 2.6: the four settings side by side. Left, RankMe effective rank during training;
# middle, per-dimension standard deviation at the end (symmetric-log axis, the dashed line is
# $\gamma$); right, the share of variance carried by each covariance eigenvalue.*
#
# :::{admonition} What you should see
# The grey run (no regulariser) has its standard deviations near zero, far below the hinge. The
# purple run (variance only) clears the hinge but its rank stays at one or two, and its first
# one or two eigenvalues carry almost all the variance. Blue (VICReg) and vermillion (SIGReg) keep a high
# rank and spread the variance over many eigenvalues.
# :::
#
# The first two principal components of the test embeddings, coloured by digit, show the same
# story qualitatively (a collapsed embedding still has *some* principal components; the text in
# each panel gives its overall spread):

# %% mystnb={"image": {"alt": "Four scatter plots, one per setting, of the test embeddings projected on their first two principal components and coloured by digit class, each labelled with its overall spread. The unregularised embedding's spread is tiny compared with the others, and the variance-only embedding lies mostly along a line."}}
fig = viz.embedding_pca({k: r.z for k, r in runs.items()}, lab.eval_labels)
plt.show()

# %% [markdown]
# *Figure 2.7: the final test embeddings of each setting projected on their first two principal
# components, coloured by digit class; the text in each panel gives the overall spread.*
#
# :::{admonition} What you should see
# The unregularised panel's spread is orders of magnitude smaller than the others': its picture is
# the shape of leftover noise around one point. The variance-only embedding lies mostly along a
# line. In the VICReg and SIGReg panels the cloud is spread in two directions and the digit
# colours separate at least in part; the linear probe below measures how much.
# :::
#
# Finally, what is in the *encoder* features? A linear probe (logistic regression on frozen
# features of 2,000 training digits, tested on the held-out digits) reads how much digit identity
# each run kept. The first row is the baseline: the same probe on the *untrained* encoder, the
# initialisation every run started from. Random convolutional features already separate digits
# fairly well, so a run is only as good as its gain over this row.

# %%
lab.reset()                      # back to the shared initialisation: the random-init encoder
random_acc = lab.probe()
print(f"{'setting':32s} {'RankMe':>7s} {'probe acc':>9s}  verdict")
print(f"{'random init (untrained)':32s} {lab.history['effective_rank'][-1]:7.2f} {random_acc:9.1%}  {lab.report().verdict}")
for label, r in runs.items():
    print(f"{viz.SETTING_NAMES[label]:32s} {r.history['effective_rank'][-1]:7.2f} {r.probe_acc:9.1%}  {r.report.verdict}")
glue("ch2_probe_random", float(random_acc), display=False)
glue("ch2_probe_vicreg", float(runs["vicreg"].probe_acc), display=False)
glue("ch2_probe_vicreg_gain", float(100 * (runs["vicreg"].probe_acc - random_acc)), display=False)
collapsed = [runs[k].probe_acc for k in ("none", "variance")]
glue("ch2_collapsed_vs_random", "above" if min(collapsed) > random_acc else "below" if max(collapsed) < random_acc
     else "on either side of", display=False)

# %% [markdown]
# :::{admonition} What you should see
# :class: tip
# Under every preset: *no regulariser* ends in complete collapse (RankMe < 2), *variance only* in
# dimensional collapse (rank of one or two with std ≥ γ), *VICReg* healthy with an effective rank
# of at least a quarter of $D$ and at least four times the collapsed one, and *SIGReg* healthy.
# The two collapsed runs have the lowest probe accuracy and the regularised ones the highest, but
# the gap is smaller than the ranks suggest: the probe reads the encoder features *before* the
# projector, and most of the collapse happens in the projector, whose outputs the losses act on.
#
# Measure every run against the random-init encoder under the same probe. In this run it scores
# {glue:text}`ch2_probe_random:.1%` and VICReg {glue:text}`ch2_probe_vicreg:.1%`
# ({glue:text}`ch2_probe_vicreg_gain:+.1f` points); the two collapsed runs land
# {glue:text}`ch2_collapsed_vs_random` it.
# :::
#
# The `cpu`-preset benchmark (`python -m ebjepa_mini.bench collapse --preset cpu`, on the
# {doc}`../book/results` page) was run with {glue:text}`ch2_seed_acc_none_n:d` seeds. The four verdicts
# came out as stated above {glue:text}`ch2_seed_verdicts`; the table gives RankMe and probe accuracy as
# mean ± standard deviation over the seeds:
#
# | setting | verdict (seeds) | RankMe | probe accuracy |
# |---|---|---|---|
# | random init (untrained) | – | {glue:text}`ch2_seed_rank_random:.1f` ± {glue:text}`ch2_seed_rank_random_sd:.1f` | {glue:text}`ch2_seed_acc_random:.1%` ± {glue:text}`ch2_seed_acc_random_sd:.1%` |
# | no regulariser | {glue:text}`ch2_seed_verdict_none` | {glue:text}`ch2_seed_rank_none:.1f` ± {glue:text}`ch2_seed_rank_none_sd:.1f` | {glue:text}`ch2_seed_acc_none:.1%` ± {glue:text}`ch2_seed_acc_none_sd:.1%` |
# | variance only | {glue:text}`ch2_seed_verdict_variance` | {glue:text}`ch2_seed_rank_variance:.1f` ± {glue:text}`ch2_seed_rank_variance_sd:.1f` | {glue:text}`ch2_seed_acc_variance:.1%` ± {glue:text}`ch2_seed_acc_variance_sd:.1%` |
# | VICReg | {glue:text}`ch2_seed_verdict_vicreg` | {glue:text}`ch2_seed_rank_vicreg:.1f` ± {glue:text}`ch2_seed_rank_vicreg_sd:.1f` | {glue:text}`ch2_seed_acc_vicreg:.1%` ± {glue:text}`ch2_seed_acc_vicreg_sd:.1%` |
# | SIGReg | {glue:text}`ch2_seed_verdict_sigreg` | {glue:text}`ch2_seed_rank_sigreg:.1f` ± {glue:text}`ch2_seed_rank_sigreg_sd:.1f` | {glue:text}`ch2_seed_acc_sigreg:.1%` ± {glue:text}`ch2_seed_acc_sigreg_sd:.1%` |
#
# VICReg and SIGReg both beat the random-init encoder's probe {glue:text}`ch2_seed_beats_random`. The
# random-init encoder itself is called "complete collapse" in {glue:text}`ch2_seed_random_collapsed`
# seeds by the verdict's spread test: a fresh network maps all digits close to one shared mean (§ 2.2),
# yet its features already separate digits fairly well.
#
# ## 2.7 The Collapse Lab
#
# Now it is your turn. Tick regularisers, move their weights (log scale), choose a number of
# steps and press **Train**: the dashboard redraws every few steps while the model trains in the
# background, and **Stop** halts it. Switching a regulariser on *during* a collapsed run shows
# whether the model can recover; **Reset model** starts again from the initialisation. The lab
# starts here with no regulariser.
#
# ```{note}
# In the static web page this widget cannot train (there is no Python kernel behind it): you see
# the lab's controls and its initial dashboard. The figures above are the same dashboards,
# computed by the same code when the book was built. Open the notebook (Colab button at the top)
# to run it.
# ```

# %%
lab = CollapseLab(preset.name, seed=0)
lab

# %% [markdown]
# Without the widget (or in a script) the same lab runs headless:
#
# ```python
# lab = CollapseLab("cpu")
# lab.set(variance=True, covariance=10.0)    # True = default weight, or a number
# history = lab.run(300)                      # dict of lists: "effective_rank", "mean_std", losses, ...
# print(lab.report())
# ```
#
# ## Summary
#
# * The invariance term alone is minimised by a constant embedding: **complete collapse**.
# * The variance hinge (paper eq. 6) forbids constant dimensions but not *copied* ones:
#   **dimensional collapse**. The covariance term (paper eq. 7) decorrelates the dimensions.
# * SIGReg (paper eq. 8) replaces both by matching an isotropic Gaussian along random directions.
# * Measure collapse with the per-dimension std against $\gamma$, the covariance spectrum and the
#   effective rank, and check the spread before trusting a centred rank.
# * Read a linear probe against the random-init encoder under the same probe: random convolutional
#   features already separate digits, so only the gain over that baseline is due to training.
#
# ## Further reading
#
# * {cite:t}`bardes2022vicreg`: VICReg, with the variance, invariance and covariance terms and their
#   ablations (note its covariance term divides by $D$, not $D(D-1)$).
# * {cite:t}`jing2022understanding`: why joint-embedding methods fall into dimensional collapse, and
#   how the projector absorbs part of it.
# * {cite:t}`garrido2023rankme`: RankMe, the uncentred effective rank used here, as a label-free
#   predictor of downstream accuracy.
# * {cite:t}`balestriero2025lejepa`: SIGReg and the argument that an isotropic Gaussian is the
#   embedding distribution to aim for (chapter 3 takes it apart).
#
# ## Exercises
#
# Marks: *(warm-up)* turns one formula of the chapter into code; *(core)* needs an argument or a
# prediction as well; *(open)* has no single answer and asks you to experiment in the Collapse Lab.
#
# :::{exercise} (warm-up) The variance hinge in code
# :label: ex-collapse-1
# Write `my_variance(z)` for {eq}`eq-variance` with $\gamma = 1$ and $\epsilon = 10^{-4}$, for
# `z` of shape `[N, D]`, using torch operations only. Check it with
# `checks.check_vicreg_variance(my_variance)`. What does it return for a constant batch, and why
# is that the right value?
# :::

# %% [markdown]
# :::{solution} ex-collapse-1
# :class: dropdown
# For a constant batch every variance is 0, so every standard deviation is $\sqrt{\epsilon} = 0.01$
# and the hinge pays $\gamma - 0.01 = 0.99$ per dimension, the maximum; the cell prints
# {glue:text}`ch2_ex1_constant:.4f` for a constant batch. The $\epsilon$ inside the square root keeps
# the gradient finite at zero variance (the derivative of $\sqrt{u}$ blows up at $u = 0$), so a
# collapsed model still gets a useful push.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_variance(z):
    return torch.relu(1.0 - torch.sqrt(z.var(dim=0, unbiased=True) + 1e-4)).mean()


checks.check_vicreg_variance(my_variance)
constant = my_variance(torch.full((16, 8), 0.3)).item()
print(f"a constant batch pays {constant:.4f}")
glue("ch2_ex1_constant", constant, display=False)

# %% [markdown]
# :::{exercise} (core) Effective rank by hand
# :label: ex-collapse-2
# Implement {eq}`eq-erank` for centred embeddings as `my_erank(z)` with `torch.linalg.svdvals`,
# and check it with `checks.check_effective_rank(my_erank)`. Then predict, before running, the
# effective rank of a matrix whose centred singular values are $(3, 3, 3, 0, 0)$, and of one with
# $(4, 1, 1, 1, 1)$.
# :::

# %% [markdown]
# :::{solution} ex-collapse-2
# :class: dropdown
# $(3,3,3,0,0)$: $\bar s = (\tfrac13, \tfrac13, \tfrac13)$, entropy $\log 3$, effective rank exactly 3.
# $(4,1,1,1,1)$: $\bar s = (0.5, 0.125 \times 4)$, entropy $0.5\log 2 + 0.5 \log 8 = 2\log 2$,
# effective rank 4: one dominant direction counts like several small ones. The cell builds centred
# matrices with these singular values and `my_erank` returns {glue:text}`ch2_ex2_rank_a:.3f` and
# {glue:text}`ch2_ex2_rank_b:.3f`.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
def my_erank(z):
    s = torch.linalg.svdvals(z - z.mean(dim=0))
    p = s / s.sum()
    p = p[p > 0]
    return torch.exp(-(p * p.log()).sum()).item()


checks.check_effective_rank(my_erank)
g = torch.Generator().manual_seed(0)
u = torch.randn(50, 5, dtype=torch.float64, generator=g)
u, _ = torch.linalg.qr(u - u.mean(0))                       # orthonormal, centred columns
v, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64, generator=g))
ranks = [my_erank(u @ torch.diag(torch.tensor(sv, dtype=torch.float64)) @ v.T) for sv in ((3, 3, 3, 0, 0), (4, 1, 1, 1, 1))]
print(f"effective ranks: {ranks[0]:.3f} and {ranks[1]:.3f}")
glue("ch2_ex2_rank_a", ranks[0], display=False)
glue("ch2_ex2_rank_b", ranks[1], display=False)

# %% [markdown]
# :::{exercise} (core) Covariance alone
# :label: ex-collapse-3
# Predict what happens with the covariance term *without* the variance term. Run
# `lab.reset(); lab.set(covariance=True, variance=False, sigreg=False); lab.run(S.steps)` and read
# `lab.report()`. Then fill in `answers = {"none": ..., "variance": ..., "covariance": ...,
# "vicreg": ...}` with one of `"healthy"`, `"dimensional collapse"`, `"complete collapse"` each
# and call `checks.check_collapse_diagnosis(answers)`.
# :::

# %% [markdown]
# :::{solution} ex-collapse-3
# :class: dropdown
# A constant embedding has an all-zero covariance matrix, so the covariance term is perfectly
# happy with complete collapse: each term covers exactly one failure, and you need both. The run in
# the cell ends in **{glue:text}`ch2_ex3_verdict`**.
# :::

# %% tags=["solution", "hide-input", "hide-output"]
lab.reset()
lab.set(covariance=True, variance=False, sigreg=False)
lab.run(S.steps)
print(lab.report())
glue("ch2_ex3_verdict", lab.report().verdict, display=False)
checks.check_collapse_diagnosis({"none": "complete collapse", "variance": "dimensional collapse",
                                 "covariance": "complete collapse", "vicreg": "healthy"})

# %% [markdown]
# :::{exercise} (open) How much variance is enough?
# :label: ex-collapse-4
# In the lab, keep covariance on (weight 100) and lower the variance weight step by step
# (10, 1, 0.1, 0.01). Where does the run start to collapse, and which panel warns you first?
# :::

# %% [markdown]
# :::{solution} ex-collapse-4
# :class: dropdown
# What to expect: with a very small variance weight the covariance term (weighted 100) dominates,
# and it is cheapest to satisfy by shrinking the embedding, so the standard deviations should fall
# below $\gamma$ before the rank drops; check in your run whether the std panel warns first. The
# threshold depends on the preset and the seed, which is the point of the exercise: a two-weight
# regulariser has a balance to find, and chapter 3 compares this with SIGReg's single weight.
# :::
#
# :::{exercise} (open) Rescue a collapsed run
# :label: ex-collapse-5
# Train 200 steps with no regulariser, then switch VICReg on *without* resetting and train again.
# Does the model recover? Why might recovery be slower than training with VICReg from the start?
# :::

# %% [markdown]
# :::{solution} ex-collapse-5
# :class: dropdown
# What to expect: the variance hinge gives a strong gradient exactly when the spread is tiny, so the
# embedding should re-expand; compare `lab.report()` and the rank curve with a fresh VICReg run of the
# same length. If it recovers more slowly, the likely reasons are small last-layer weights and dead
# hidden units in the collapsed network (ReLUs that never fire carry no gradient), and encoder
# features that have drifted towards augmentation-invariant but uninformative directions.
# :::
