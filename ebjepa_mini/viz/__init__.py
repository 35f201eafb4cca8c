"""Every plot the book shows, one module per subject, one palette for the whole book.

- :mod:`~ebjepa_mini.viz.style`: ``PALETTE``, ``ENERGY_CMAP`` and every colour table derived from them;
  the book's matplotlib style.
- :mod:`~ebjepa_mini.viz.energy`: chapter 1, energies and free energies of the toy world.
- :mod:`~ebjepa_mini.viz.embeddings`: chapters 2-3, collapse, spreads, spectra, effective rank, Epps-Pulley.
- :mod:`~ebjepa_mini.viz.video`: chapter 4, Moving MNIST, the rollout schedule, rollouts, AP by horizon.
- :mod:`~ebjepa_mini.viz.rooms`: chapters 5-6, Two Rooms, the world model, planning.
- :mod:`~ebjepa_mini.viz.html`: figures and animations as HTML (widgets, the offline book).

Every public name is re-exported here, so ``from ebjepa_mini import viz; viz.plot_horn(...)`` and
``from ebjepa_mini.viz import PALETTE`` work; each is documented once, in its own module.
"""
from __future__ import annotations

from . import embeddings, energy, html, rooms, style, video
from .embeddings import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .html import *  # noqa: F401,F403
from .rooms import *  # noqa: F401,F403
from .style import *  # noqa: F401,F403
from .video import *  # noqa: F401,F403

__all__ = [*style.__all__, *energy.__all__, *embeddings.__all__, *video.__all__, *rooms.__all__, *html.__all__]
