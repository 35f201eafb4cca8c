"""The book's one palette, and every colour table derived from it (all chapters).

Colours (colour-blind safe, Okabe-Ito): VICReg blue, SIGReg orange/vermillion,
no regulariser grey, variance-only purple. Energy landscapes use one colour map
(``ENERGY_CMAP``) from chapter 1 onwards. Figures use transparent-friendly,
mid-luminance colours so they read on light and dark themes.

This is the only module of :mod:`ebjepa_mini.viz` that spells a colour as a hex literal: every
other table (``ROLLOUT_COLORS``, ``PLAN_COLORS``, ``WORLD_TERM_COLORS``) names entries of
``PALETTE`` or of the neutral tones ``NEUTRALS``.
"""
from __future__ import annotations

import matplotlib
import numpy as _np
import torch as _torch

__all__ = ["PALETTE", "ENERGY_CMAP", "NEUTRALS", "SETTING_NAMES", "ROLLOUT_COLORS", "PLAN_COLORS",
           "WORLD_TERM_COLORS", "color_for", "rollout_color", "use_book_style"]

#: Fixed colour per regulariser setting, used by every figure of the book.
PALETTE = {
    "vicreg": "#0072B2",     # blue: variance + covariance
    "sigreg": "#D55E00",     # vermillion: SIGReg
    "none": "#7F7F7F",       # grey: no regulariser (collapse)
    "variance": "#CC79A7",   # reddish purple: variance only (dimensional collapse)
    "covariance": "#009E73", # bluish green: covariance only
    "data": "#E69F00",       # orange: data points / ground truth
    "model": "#56B4E9",      # sky blue: model manifold / predictions
}

#: Colour map for energies and free energies (low = dark blue, high = yellow).
ENERGY_CMAP = "viridis"

#: Neutral tones (not a regulariser setting): ink for references, paper for empty cells.
NEUTRALS = {
    "ink": "#000000",        # the paper's curves, true paths, the prediction term
    "paper": "#FFFFFF",      # empty cells
    "context": "#EDEDED",    # context frames of the rollout schedule
    "samples": "#999999",    # sampled planner rollouts
    "muted": "#555555",      # "not run" labels
}

#: Display names of the regulariser settings of chapter 2.
SETTING_NAMES = {"none": "no regulariser", "variance": "variance only", "vicreg": "variance + covariance (VICReg)",
                 "sigreg": "SIGReg", "covariance": "covariance only"}

#: Colours of the chapter 4 models: all VICReg-trained, so shades of the VICReg blue (darker = longer
#: rollout); the untrained encoder is grey like "no regulariser", the paper's curves are black.
ROLLOUT_COLORS = {"K1": PALETTE["model"], "K2": "#3A95CC", "K4": PALETTE["vicreg"], "K8": "#003F63",
                  "untrained": PALETTE["none"], "paper": NEUTRALS["ink"]}

#: Colours of chapters 5–6: executed path, planned rollouts, elites, plan mean, goal.
PLAN_COLORS = {"path": PALETTE["vicreg"], "samples": NEUTRALS["samples"], "elites": PALETTE["data"],
               "mean": PALETTE["sigreg"], "goal": PALETTE["covariance"], "truth": NEUTRALS["ink"],
               "rollout": PALETTE["sigreg"]}

#: Colours of the terms of the world-model loss (paper eq. 13, chapter 5).
WORLD_TERM_COLORS = {"pred": NEUTRALS["ink"], "variance": PALETTE["variance"], "covariance": PALETTE["vicreg"],
                     "similarity": PALETTE["covariance"], "idm": PALETTE["data"]}


def color_for(name: str) -> str:
    """The book colour of a regulariser setting (``"vicreg"``, ``"sigreg"``, ``"none"``, ...)."""
    key = name.lower().replace(" ", "").replace("+", "")
    aliases = {"vc": "vicreg", "variancecovariance": "vicreg", "var": "variance", "cov": "covariance",
               "noreg": "none", "": "none"}
    key = aliases.get(key, key)
    if key not in PALETTE:
        raise ValueError(f"name must be one of {sorted(PALETTE)}; got {name!r}")
    return PALETTE[key]


def rollout_color(name: str) -> str:
    """Colour of a chapter 4 run (``"K1"``, ``"K4"``, ``"untrained"``, ...); other K values get the VICReg blue."""
    return ROLLOUT_COLORS.get(name, PALETTE["vicreg"])


def use_book_style() -> None:
    """Matplotlib defaults for the book: readable fonts, light grid, no top/right spines.

    Figure, axes and saved-image backgrounds are opaque white (the inline backend's default is a
    transparent figure), so the PNGs stay readable when the book is read in its dark theme.
    """
    matplotlib.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
        "legend.frameon": False, "figure.facecolor": "white", "axes.facecolor": "white",
        "savefig.facecolor": "white", "savefig.transparent": False,
    })


def _setting_color(label: str) -> str:
    """Colour of a chapter 2 setting label; unknown labels get the model's sky blue."""
    try:
        return color_for(label)
    except ValueError:
        return PALETTE["model"]


def _family_color(name: str, family: str | None = None) -> str:
    """Colour of a chapter 3 run: its regulariser family, else guessed from its name's prefix."""
    fam = family or ("sigreg" if name.startswith("sigreg") else "vicreg" if name.startswith("vicreg") else "none")
    return PALETTE.get(fam, PALETTE["none"])


# ---- small helpers every subject module shares ----

def _to_np(t):
    """A tensor or array-like as a NumPy array (detached, on the CPU)."""
    return t.detach().cpu().numpy() if isinstance(t, _torch.Tensor) else _np.asarray(t)


def _noaxis(ax) -> None:
    """No ticks and no grid: for image panels."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
