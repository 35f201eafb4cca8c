"""Auto-checks for the book's exercises.

A learner writes a function (or computes a value) in an exercise and passes it to the
matching ``check_*`` here. The check compares it with the package's reference
implementation on random inputs, prints a short "Correct!" line, or raises
``AssertionError`` with a hint about the most likely mistake. The chapters' hidden
solution cells end with the same calls, so CI runs every check.

One module per subject, named as in :mod:`ebjepa_mini.viz` (each check names the exercise it belongs to):

- :mod:`~ebjepa_mini.checks.energy`: chapter 1, energies and free energies of the toy world;
- :mod:`~ebjepa_mini.checks.embeddings`: chapters 2-3, collapse, VICReg, effective rank, Epps-Pulley;
- :mod:`~ebjepa_mini.checks.video`: chapter 4, rollout orders and average precision;
- :mod:`~ebjepa_mini.checks.rooms`: chapters 5-6, the world model's rollout and MPPI.

Every check is re-exported here, so chapters call ``checks.check_free_energy(...)``; each is
documented once, in its own module.
"""
from __future__ import annotations

from . import embeddings, energy, rooms, video
from .embeddings import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .rooms import *  # noqa: F401,F403
from .video import *  # noqa: F401,F403

__all__ = [*energy.__all__, *embeddings.__all__, *video.__all__, *rooms.__all__]
