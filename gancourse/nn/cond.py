"""How a class label (or any conditioning vector) enters a network.

Three ways, each a few lines, shared by every conditional family:

* **concatenation** (Mirza & Osindero 2014, section 4.1): G reads
  ``cat([z, one_hot(y)])`` (:func:`concat_onehot`); a convolutional D reads its
  image with ``K`` constant label maps stacked on the channels
  (:func:`label_maps`). Mirza & Osindero's D is an MLP that concatenates ``y`` to
  its input; label maps at the input are the usual way to do the same for a
  convolutional D.
* **conditional batch normalisation** in G (:class:`ConditionalBatchNorm2d`): a
  BatchNorm without its own affine parameters, whose per-channel gain and bias are
  linear functions of a conditioning vector ``c`` (de Vries et al. 2017, Dumoulin
  et al. 2017; the categorical form Miyato & Koyama 2018 use in G; the layout of
  BigGAN-PyTorch's ``ccbn``). With ``c = one_hot(y)`` each class gets its own gain
  and bias; chapter 6 feeds ``c = [z_chunk, embed(y)]`` to the same layer.
* **projection** in D (:class:`ProjectionHead`, Miyato & Koyama 2018, eq. 3):
  ``logit = psi(phi(x)) + <embed(y), phi(x)>``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ConditionalBatchNorm2d",
    "ProjectionHead",
    "concat_onehot",
    "label_maps",
]


def concat_onehot(z: Tensor, y: Tensor, n_classes: int) -> Tensor:
    """``cat([z, one_hot(y)])``: ``z (N, z_dim)``, ``y (N,)`` ints in ``[0, K)`` ->
    ``(N, z_dim + K)``, ``z`` first (Mirza & Osindero 2014, G's input)."""
    return torch.cat([z, F.one_hot(y, n_classes).to(z.dtype)], dim=1)


def label_maps(x: Tensor, y: Tensor, n_classes: int) -> Tensor:
    """The image with ``K`` label maps appended: ``x (N, C, H, W)`` ->
    ``(N, C + K, H, W)``, where map ``k`` is 1 everywhere if ``y == k``, else 0."""
    n, _, h, w = x.shape
    maps = F.one_hot(y, n_classes).to(x.dtype)  # (N, K)
    return torch.cat([x, maps[:, :, None, None].expand(n, n_classes, h, w)], dim=1)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias depend on a conditioning vector ``c``.

    ``out = BN(x) * (1 + gain(c)) + bias(c)``, with ``BN = BatchNorm2d(affine=
    False)`` (batch statistics in training, running ones in eval mode) and
    ``gain``, ``bias`` linear maps ``(N, cond_dim) -> (N, C)`` broadcast over
    ``(H, W)``. Writing the gain as ``1 + gain(c)`` (BigGAN-PyTorch's ``ccbn``)
    makes zero linear maps the plain, unscaled BatchNorm.

    With ``c = one_hot(y)``, ``gain(c) = W_g[:, y] + b_g``: one learned
    ``(gamma, beta)`` per class, Miyato & Koyama's categorical conditional BN.

    Args:
        num_features: channels ``C`` of ``x (N, C, H, W)``.
        cond_dim: length of ``c (N, cond_dim)``.
        eps, momentum: as in ``nn.BatchNorm2d``.
    """

    def __init__(
        self, num_features: int, cond_dim: int, eps: float = 1e-5, momentum=0.1
    ):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False)
        self.gain = nn.Linear(cond_dim, num_features)
        self.bias = nn.Linear(cond_dim, num_features)
        # start as plain BatchNorm: gain 1, bias 0 for every c
        for lin in (self.gain, self.bias):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        gain = (1 + self.gain(c))[:, :, None, None]  # (N, C) -> (N, C, 1, 1)
        bias = self.bias(c)[:, :, None, None]
        return self.bn(x) * gain + bias


class ProjectionHead(nn.Module):
    """The projection discriminator's output layer (Miyato & Koyama 2018, eq. 3).

    ``logit(x, y) = psi(phi) + <embed(y), phi>`` for features ``phi = phi(x)``
    ``(N, F)``: ``psi`` a linear map ``F -> 1`` (no bias, as in the authors'
    code) and ``embed`` a learned ``(K, F)`` table (the paper's ``V``, row ``y``).
    The inner product is per sample. The form follows from writing the optimal D
    as the log density ratio of a log-linear class model (their section 3).

    Returns logits ``(N,)``.
    """

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        self.psi = nn.Linear(n_features, 1, bias=False)
        self.embed = nn.Embedding(n_classes, n_features)
        nn.init.xavier_uniform_(self.psi.weight)
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, phi: Tensor, y: Tensor) -> Tensor:
        # (N, F) -> (N,) + (N,)
        return self.psi(phi)[:, 0] + (self.embed(y) * phi).sum(dim=1)
