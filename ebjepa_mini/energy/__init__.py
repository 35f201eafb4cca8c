"""Toy energy-based models on a 2-D world: energies, free energies, inference, training.

Taught in chapter 1 (energy-based models). One toy world is used throughout: points
``y = (y1, y2)`` on an ellipse with radii ``ELLIPSE_RADII``, and a conditional "horn"
in which an input ``x`` in ``[0, 1]`` shrinks and turns the ellipse. A latent angle
``z`` says where on the ellipse a point sits; the decoder ``y_tilde(z)`` draws it.

Reading order, one module per step:

- :mod:`~ebjepa_mini.energy.toy`: the toy world (ellipse and horn decoders, samples, latent and plotting grids);
- :mod:`~ebjepa_mini.energy.latent`: the latent energy ``E(y, z)``, free energies (zero temperature and
  relaxed with inverse temperature ``beta``) and inference by gradient descent;
- :mod:`~ebjepa_mini.energy.training`: training that shapes the energy (pull-down only, contrastive, regularised);
- :mod:`~ebjepa_mini.energy.toy_jepa`: the paper's unified JEPA energy on a toy linear encoder.

Every public name is re-exported here (``from ebjepa_mini.energy import free_energy`` and
``energy.free_energy(...)`` work); each is documented once, in its own module.

All functions take and return ``torch`` tensors on the CPU; points are ``y: [N, 2]``.

Names in code and in the book differ on purpose: the code calls the latent ``z`` and the number
of latent values ``K`` (``n_latent``), while chapter 1 writes them ``ζ`` and ``n_ζ``, keeping
``z`` for representations and ``K`` for the rollout length (see :doc:`/book/notation`).
"""
from .latent import free_energy, free_energy_zero_temp, infer_latent, infer_y, latent_energy, relaxed_min
from .toy import (ELLIPSE_RADII, EXTENT, ellipse_decoder, horn_decoder, latent_grid, make_grid, sample_ellipse,
                  sample_horn)
from .toy_jepa import jepa_energy, train_toy_jepa
from .training import (TRAIN_METHODS, MLPEnergy, RegularisedLatentEnergy, TrainResult, contrastive_negatives,
                       energy_stats, hinge_loss, off_manifold_points, train_energy_model)

__all__ = [
    "ELLIPSE_RADII", "EXTENT", "TRAIN_METHODS",
    "latent_grid", "ellipse_decoder", "horn_decoder", "sample_ellipse", "sample_horn", "make_grid",
    "latent_energy", "free_energy_zero_temp", "relaxed_min", "free_energy",
    "infer_latent", "infer_y",
    "MLPEnergy", "RegularisedLatentEnergy", "hinge_loss", "contrastive_negatives",
    "off_manifold_points", "energy_stats",
    "TrainResult", "train_energy_model",
    "jepa_energy", "train_toy_jepa",
]
