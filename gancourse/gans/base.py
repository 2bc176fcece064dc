"""What a GAN method is, as far as the Trainer is concerned.

A method owns the training *math* only: what D minimises given a real batch and
latent codes, what G minimises given latent codes, and how many D steps come
before each G step. The Trainer owns everything else (optimisers, data, devices,
logging), so a method never reaches into the Trainer and the Trainer never knows
which method it runs.
"""

from __future__ import annotations

from torch import Tensor, nn

Stats = dict[str, float]


class GANMethod:
    """Base class: subclasses implement :meth:`d_loss` and :meth:`g_loss`.

    Attributes:
        n_d_steps: discriminator (critic) updates per generator update.
    """

    n_d_steps: int = 1

    def d_loss(
        self, G: nn.Module, D: nn.Module, x_real: Tensor, z: Tensor
    ) -> tuple[Tensor, Stats]:
        """D's scalar loss on real ``x_real (N, ...)`` and codes ``z (N, z_dim)``.

        Must not build a graph into G (G is not updated on this loss).
        Returns the loss and a dict of floats to log (``"d_loss"`` at least).
        """
        raise NotImplementedError

    def g_loss(self, G: nn.Module, D: nn.Module, z: Tensor) -> tuple[Tensor, Stats]:
        """G's scalar loss on fresh codes ``z (N, z_dim)``: ``(loss, stats)``."""
        raise NotImplementedError

    def after_d_step(self, D: nn.Module) -> None:
        """Hook run after every optimiser step of D (e.g. WGAN's weight clipping)."""

    def check_models(self, G: nn.Module, D: nn.Module) -> None:
        """Raise ``ValueError`` if ``G`` or ``D`` cannot be trained by this method
        (e.g. a BatchNorm critic under a per-sample gradient penalty)."""
