"""What a GAN method is, as far as the Trainer is concerned.

A method owns the training *math* of one GAN and nothing else:

* its **named networks** (:attr:`GANMethod.nets`, an ``nn.ModuleDict``: ``G``
  and ``D``; CycleGAN's ``G_ab``, ``G_ba``, ``D_a``, ``D_b``; ...);
* its **optimiser groups** (:meth:`GANMethod.groups`): which networks each
  optimiser updates. The Trainer gives group ``"G"`` the learning rate
  ``train.lr_g`` and group ``"D"`` ``train.lr_d``, so TTUR is a config value;
* its **phases** as data (:meth:`GANMethod.phases`): e.g. ``D`` repeated
  ``n_d_steps`` times on fresh batches, then ``G``. A phase names its group and
  the method function that returns ``(loss, stats)`` for one batch;
* what it needs from the data (:attr:`GANMethod.needs`), how to draw the inputs of
  a sample grid and generate from them, and which networks are exported;
* hooks between backward and the optimiser step (:meth:`GANMethod.on_gradients`)
  and after it (:meth:`GANMethod.after_update`, WGAN's clipping), and state that
  is not a network (:meth:`GANMethod.state_dict`, e.g. an image pool).

The Trainer owns everything else, identically for every method: optimisers,
``requires_grad`` per phase, the phase loop, data, AMP, EMA, learning-rate
schedules, the NaN guard, logs, grids, checkpoints, resume and torchrun. A method
never reaches into the Trainer, and the Trainer never knows which method it runs.
``gancourse/gans/template.py`` is the commented skeleton to copy for a new GAN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gancourse.config import MethodConfig

__all__ = [
    "Batch",
    "DataSpec",
    "GANMethod",
    "Phase",
    "StepContext",
    "Stats",
]

Batch = dict[str, Tensor]
"""A batch of data, e.g. ``{"x": (N, C, H, W), "y": (N,)}`` (see :class:`DataSpec`)."""
Stats = dict[str, Tensor]
"""The numbers a phase logs, as detached 0-d tensors (read only when logged)."""


@dataclass(frozen=True)
class DataSpec:
    """What a dataset yields, so methods and networks can be built for it.

    Attributes:
        keys: the keys of every batch, e.g. ``("x", "y")``; ``("x_src", "x")`` for
            paired images, ``("a", "b")`` for unpaired ones.
        shapes: one sample's shape per key: ``{"x": (1, 28, 28), "y": ()}``.
        n_classes: number of classes when batches carry labels ``y``, else None.
        n: samples in the dataset.
    """

    keys: tuple[str, ...]
    shapes: dict[str, tuple[int, ...]]
    n_classes: int | None = None
    n: int = 0

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one generated sample (that of ``x``, else of the first
        key)."""
        return tuple(self.shapes.get("x", self.shapes[self.keys[0]]))


@dataclass(frozen=True)
class Phase:
    """One part of a training step, e.g. ``Phase("D", repeat=5)``.

    Attributes:
        name: the phase; its loss is logged as ``"<name>_loss"`` (lower case).
        group: the optimiser group this phase updates (default: ``name``). Only
            that group's networks have ``requires_grad`` on during the phase.
        loss: the method's function ``fn(batch, ctx) -> (loss, stats)`` (default:
            ``"<name>_loss"`` in lower case, e.g. ``d_loss``).
        repeat: how many optimiser steps this phase makes per training step.
        batch: ``"fresh"`` draws a new real batch for every repeat; ``"reuse"``
            takes the most recent batch of the step (Pix2Pix's G sees the pairs D
            just saw); ``"none"`` needs no real data (the vanilla G step).
        keep_graph: networks of other groups that keep ``requires_grad`` during
            this phase, so that what it computes (the fakes) can carry a graph into
            a later phase that reuses it through ``ctx.memo``. This phase's own loss
            must then use ``x_fake.detach()``, or the later backward runs through a
            freed graph; with ``train.accum`` every micro-batch's graph stays alive
            until the later phase.
        every: run this phase only on steps divisible by ``every`` (lazy
            regularisation, e.g. an R1 penalty every 16 steps).
    """

    name: str
    group: str | None = None
    loss: str | None = None
    repeat: int = 1
    batch: str = "fresh"
    keep_graph: tuple[str, ...] = ()
    every: int = 1

    def __post_init__(self):
        if self.every < 1:
            raise ValueError(f"Phase.every must be >= 1, got {self.every}")
        if self.batch not in ("fresh", "reuse", "none"):
            raise ValueError(f"Phase.batch must be fresh, reuse or none: {self.batch}")
        if self.repeat < 1:
            raise ValueError(f"Phase.repeat must be >= 1, got {self.repeat}")
        object.__setattr__(self, "group", self.group or self.name)
        object.__setattr__(self, "loss", self.loss or f"{self.name.lower()}_loss")

    @property
    def log_key(self) -> str:
        return f"{self.name.lower()}_loss"


@dataclass
class StepContext:
    """What a phase's loss function gets besides the batch.

    Attributes:
        step: the training step being computed (0 for the first).
        n: samples in this micro-batch on this process.
        device: where the batch and the networks are.
        memo: a dict shared by the phases of one step (per micro-batch): a phase
            may store what a later phase reuses, e.g. the fakes.
        draw: ``draw(kind, *shape)`` returns ``(n, *shape)`` random numbers
            (``kind`` ``"randn"`` or ``"rand"``) keyed by the global sample index:
            the same values whatever the number of processes or micro-batches,
            provided every micro-batch makes the same sequence of draws (draw
            unconditionally, then select). Randomness inside the networks
            (dropout) is not keyed.

    ``step`` counts from 0 here, in the learning-rate schedule and in
    ``train.ema_start``; logs and checkpoints count finished steps (from 1).
    """

    step: int
    n: int
    device: torch.device
    memo: dict[str, Any]
    draw: Callable[..., Tensor]

    def randn(self, *shape: int) -> Tensor:
        """``(n, *shape)`` standard normal numbers, e.g. ``z = ctx.randn(z_dim)``."""
        return self.draw("randn", *shape)

    def rand(self, *shape: int) -> Tensor:
        """``(n, *shape)`` uniform numbers in ``[0, 1)``."""
        return self.draw("rand", *shape)

    def randint(self, high: int) -> Tensor:
        """``(n,)`` integers uniform in ``[0, high)`` (e.g. class labels)."""
        return (self.draw("rand") * high).long().clamp_(max=high - 1)


class GANMethod:
    """Base class of every method; subclasses set :attr:`Config` and write the
    phase functions their :meth:`phases` name (``d_loss``, ``g_loss``, ...).

    Args:
        cfg: the method's own parameter dataclass (:attr:`Config`).

    Attributes:
        Config: the parameter dataclass (a :class:`~gancourse.config.MethodConfig`).
        needs: batch keys the method reads (checked against the data's
            :class:`DataSpec` before training).
        nets: the named networks, set by :meth:`build`.
        ema_networks: networks of which the Trainer keeps a moving average.
        double_backward: networks differentiated twice (a gradient penalty):
            ``train.compile`` leaves them eager.
        exported: networks written by ``gancourse export``.
        sample_in_train_mode: generate with the networks in training mode
            (Pix2Pix keeps dropout at test time); default: eval mode.
        needs_examples: :meth:`sample_inputs` takes its inputs from real data
            (``examples``): an image-to-image method's input images.
        frozen: networks that never learn (a pretrained feature extractor or
            classifier): always in eval mode with ``requires_grad`` off, in no
            optimiser group; they move to the device with the others.
    """

    Config: type[MethodConfig] = MethodConfig
    needs: tuple[str, ...] = ("x",)
    frozen: tuple[str, ...] = ()
    ema_networks: tuple[str, ...] = ("G",)
    double_backward: tuple[str, ...] = ()
    exported: tuple[str, ...] = ("G",)
    sample_in_train_mode: bool = False
    needs_examples: bool = False

    def __init__(self, cfg: MethodConfig | None = None):
        self.cfg = cfg if cfg is not None else self.Config()
        self.nets = nn.ModuleDict()
        self.spec: DataSpec | None = None

    # -- networks ---------------------------------------------------------------
    def build(self, model_cfg: Any, spec: DataSpec) -> nn.ModuleDict:
        """Create ``nets`` for data described by ``spec`` (default: ``G`` and
        ``D`` of ``model_cfg.arch`` for the sample shape) and check them."""
        from gancourse.models import build_discriminator, build_generator

        self.spec = spec
        self.nets = nn.ModuleDict(
            {
                "G": build_generator(model_cfg, spec.sample_shape),
                "D": build_discriminator(model_cfg, spec.sample_shape),
            }
        )
        self.check_networks()
        return self.nets

    def check_networks(self) -> None:
        """Raise ``ValueError`` if ``nets`` cannot be trained by this method
        (e.g. a BatchNorm critic under a per-sample gradient penalty)."""

    def __getattr__(self, name: str) -> Any:
        # self.G, self.D, self.G_ab, ...: the named networks, for readable losses
        nets = self.__dict__.get("nets")
        if nets is not None and name in nets:
            return nets[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # -- the training step, as data -------------------------------------------------
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Optimiser group -> the networks it updates."""
        return {"D": ("D",), "G": ("G",)}

    def phases(self) -> tuple[Phase, ...]:
        """The phases of one step, in order (default: D once, then G)."""
        return (Phase("D"), Phase("G", batch="none"))

    def on_gradients(self, phase: Phase, step: int) -> None:
        """Hook after the backward passes of ``phase`` (and, under torchrun, after
        the gradients were averaged over processes: what it adds must be the same
        on every process), before the optimiser step of ``phase.group``; e.g. add
        a regulariser's gradient, as BigGAN-PyTorch does for orthogonal
        regularisation."""

    def after_update(self, phase: Phase, step: int) -> None:
        """Hook after the optimiser step of ``phase.group`` (e.g. WGAN's weight
        clipping)."""

    # -- non-network state ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """State that is not a network (an image pool, its random state)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` exactly."""

    # -- generation ----------------------------------------------------------------
    def sample_inputs(
        self,
        n: int,
        generator: torch.Generator | None = None,
        examples: Batch | None = None,
    ) -> Batch:
        """Inputs of ``n`` samples, drawn on the CPU from ``generator`` (default:
        ``{"z": (n, z_dim)}``; conditional methods add labels).

        ``examples`` (when the caller has data) holds the first ``n`` real samples
        of the training data, for methods whose inputs are images (Pix2Pix's
        ``x_src``); a sample grid then shows the same inputs at every step.
        """
        return {"z": torch.randn(n, self.G.z_dim, generator=generator)}

    def grid_nrow(self) -> int:
        """Images per row of a sample grid (conditional methods: the number of
        classes, so that each column of the grid is one class)."""
        return 8

    def grid(self, inputs: Batch, samples: Tensor) -> tuple[Tensor, int]:
        """What a sample grid shows for ``samples`` generated from ``inputs``, and
        how many images per row (default: the samples, :meth:`grid_nrow` per
        row; an image-to-image method shows input | output | target)."""
        return samples, self.grid_nrow()

    def generate(self, inputs: Batch, nets: nn.ModuleDict | None = None) -> Tensor:
        """Samples ``(n, *sample_shape)`` from :meth:`sample_inputs`-style inputs,
        with ``nets`` (default ``nets``; the Trainer passes the EMA copies).
        Called under ``torch.no_grad`` in the mode ``sample_in_train_mode``
        says."""
        nets = self.nets if nets is None else nets
        return nets["G"](inputs["z"])
