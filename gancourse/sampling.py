"""A trained method ready to generate: :class:`Sampler`.

Sample grids, ``gancourse sample``, ``export``, the shipped models, the domain FID
during training and ``gancourse fid`` all generate through the method, so they
work alike for unconditional, conditional, translation and instance-conditioned
generators: the method says what inputs a sample needs
(:meth:`~gancourse.gans.base.GANMethod.sample_inputs`), how to generate from them
(:meth:`~gancourse.gans.base.GANMethod.generate`) and in which mode.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gancourse.gans.base import Batch, GANMethod

__all__ = ["Sampler"]


class Sampler:
    """Generate with ``method`` and its networks ``nets`` (e.g. the EMA copies).

    ``sampler(inputs)`` takes a dict from :meth:`draw_inputs` (or a tensor ``z``)
    and returns samples ``(n, *sample_shape)`` on the networks' device, in
    ``[-1, 1]`` for images, without building a graph.

    Attributes:
        method: the :class:`~gancourse.gans.base.GANMethod`.
        nets: the networks to generate with.
        examples: optional fixed real inputs for image-conditioned methods
            (Pix2Pix's ``{"x_src": ..., "x": ...}``).
        train_mode: generate with the networks in training mode (dropout on,
            batch statistics) or not; ``None``: as the method says
            (``method.sample_in_train_mode``).
    """

    def __init__(
        self,
        method: GANMethod,
        nets: nn.ModuleDict,
        examples: Batch | None = None,
        train_mode: bool | None = None,
    ):
        self.method, self.nets, self.examples = method, nets, examples
        self.train_mode = train_mode

    @property
    def z_dim(self) -> int | None:
        G = self.nets["G"] if "G" in self.nets else None
        return getattr(G, "z_dim", None)

    @property
    def device(self) -> torch.device:
        return next(self.nets.parameters()).device

    def parameters(self):
        return self.nets.parameters()

    def draw_inputs(self, n: int, generator: torch.Generator | None = None) -> Batch:
        """The inputs of ``n`` samples, drawn on the CPU from ``generator``."""
        return self.method.sample_inputs(n, generator, self.examples)

    @torch.no_grad()
    def __call__(self, inputs: Batch | Tensor, *labels: Any) -> Tensor:
        if isinstance(inputs, Tensor):
            inputs = {"z": inputs}
            if labels:
                inputs["y"] = labels[0]
        device = self.device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        modes = {name: net.training for name, net in self.nets.items()}
        train_mode = self.train_mode
        if train_mode is None:
            train_mode = self.method.sample_in_train_mode
        self.nets.train(train_mode)
        # a forward pass in training mode updates BatchNorm's running statistics,
        # even under no_grad: sampling must not change the model it samples
        saved = _running_stats(self.nets) if train_mode else {}
        try:
            return self.method.generate(inputs, self.nets)
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])
            for buf, value in saved.values():
                buf.copy_(value)

    def sample(self, n: int, seed: int = 0) -> Tensor:
        """``n`` samples from inputs drawn with ``seed``, on the CPU, as float32."""
        g = torch.Generator().manual_seed(seed)
        return self(self.draw_inputs(n, g)).float().cpu()


def _running_stats(module: torch.nn.Module) -> dict[str, tuple[Tensor, Tensor]]:
    """Each normalisation buffer (running mean / var, batch count) of ``module``
    with a copy of its value, to restore after a forward pass in training mode."""
    return {
        name: (buf, buf.clone())
        for name, buf in module.named_buffers()
        if name.rsplit(".", 1)[-1]
        in ("running_mean", "running_var", "num_batches_tracked")
    }
