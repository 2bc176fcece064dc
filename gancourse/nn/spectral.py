"""Spectral normalisation of a whole network (Miyato et al. 2018).

Each weight matrix ``W`` is divided by an estimate of its largest singular value
``sigma(W)`` (one power iteration per forward pass in training mode), which bounds
the Lipschitz constant of every layer by 1. The projection discriminator of
Miyato & Koyama (2018) normalises every convolution, linear map and the class
embedding this way. We use PyTorch's own parametrisation
(``torch.nn.utils.parametrizations.spectral_norm``).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["spectral_norm_"]

_LAYERS = (nn.Conv2d, nn.Linear, nn.Embedding)


def spectral_norm_(module: nn.Module) -> nn.Module:
    """In place: spectral normalisation on every ``Conv2d``, ``Linear`` and
    ``Embedding`` weight of ``module``; returns ``module``."""
    for m in list(module.modules()):
        if isinstance(m, _LAYERS):
            spectral_norm(m)
    return module
