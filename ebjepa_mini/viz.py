"""Every plot the book shows. One palette for the whole book.

Colours (colour-blind safe, Okabe-Ito): VICReg blue, SIGReg orange/vermillion,
no regulariser grey, variance-only purple. Energy landscapes use one colour map
(``ENERGY_CMAP``) from chapter 1 onwards. Figures use transparent-friendly,
mid-luminance colours so they read on light and dark themes.
"""
from __future__ import annotations

import matplotlib

import matplotlib.pyplot as plt

__all__ = ["PALETTE", "ENERGY_CMAP", "color_for", "use_book_style"]

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


def color_for(name: str) -> str:
    """The book colour of a regulariser setting (``"vicreg"``, ``"sigreg"``, ``"none"``, ...)."""
    key = name.lower().replace(" ", "").replace("+", "")
    aliases = {"vc": "vicreg", "variancecovariance": "vicreg", "var": "variance", "cov": "covariance",
               "noreg": "none", "": "none"}
    key = aliases.get(key, key)
    if key not in PALETTE:
        raise ValueError(f"name must be one of {sorted(PALETTE)}; got {name!r}")
    return PALETTE[key]


def use_book_style() -> None:
    """Matplotlib defaults for the book: readable fonts, light grid, no top/right spines."""
    matplotlib.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
        "legend.frameon": False, "figure.facecolor": "white", "axes.facecolor": "white",
    })
