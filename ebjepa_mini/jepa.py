"""The image JEPA of chapters 2-3 (its objective's weights, :class:`~ebjepa_mini.regularizers.RegularizerWeights`,
sit beside the losses they weight).

Paper eqs. 1-5 (chapter 1) write every JEPA with one energy,

.. math:: z = f_\\theta(x),\\quad u = q_\\omega(a),\\quad
          E(x, x', a) = L_{pred}\\bigl(g_\\phi(f_\\theta(x), u),\\ f_\\theta(x')\\bigr),\\qquad
          L = L_{pred} + \\lambda R(z)

(:func:`~ebjepa_mini.energy.toy_jepa.jepa_energy`), instantiated three times:

* image (eq. 2): predictor = identity, ``x, x'`` two views of one image (:class:`ImageJEPA`, here);
* video (eq. 3): predictor on the most recent frame representations (:mod:`ebjepa_mini.video`, chapter 4);
* action-conditioned (eq. 4): predictor conditioned on ``u = q(a)`` (:mod:`ebjepa_mini.world`, chapter 5).

Targets are not detached and there is no EMA teacher: collapse is prevented by the
regulariser ``R`` alone (EB-JEPA's choice).
"""
from __future__ import annotations

import torch
from torch import nn

from .regularizers import RegularizerWeights, two_view_loss

__all__ = ["ImageJEPA"]


class ImageJEPA(nn.Module):
    """Image JEPA with a projector (paper eq. 2, as in the reference code).

    Encoder ``f``, projector ``h``, identity predictor.

    The invariance and the regularisers act on projector outputs ``r = h(f(x))``; the
    linear probe reads the encoder features ``f(x)``.
    """

    def __init__(self, encoder: nn.Module, projector: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.projector = projector

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projected embeddings ``[B, P]``."""
        return self.projector(self.encoder(x))

    def loss(self, v1: torch.Tensor, v2: torch.Tensor, weights: RegularizerWeights, num_slices: int = 256,
             generator: torch.Generator | None = None, monitor: bool = False):
        """Objective on two views: ``(total, terms)``; both views go through one forward pass."""
        r = self(torch.cat([v1, v2]))
        r1, r2 = r.chunk(2)
        return two_view_loss(r1, r2, invariance=weights.invariance, variance=weights.variance,
                             covariance=weights.covariance, sigreg=weights.sigreg,
                             num_slices=num_slices, generator=generator, monitor=monitor)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 1024, projected: bool = True) -> torch.Tensor:
        """Embeddings of ``x`` in eval mode, in batches (``[N, P]`` or encoder ``[N, F]``)."""
        was = self.training
        self.eval()
        out = []
        for i in range(0, len(x), batch_size):
            h = self.encoder(x[i:i + batch_size])
            out.append(self.projector(h) if projected else h)
        self.train(was)
        return torch.cat(out)

