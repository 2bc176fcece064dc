"""TEMPLATE: copy this file to add a GAN to the course.

1. Copy it to ``gancourse/gans/<yourgan>.py`` and rename ``TemplateConfig`` /
   ``TemplateGAN``.
2. Register the class in :data:`gancourse.gans.METHODS` (``"yourgan": YourGAN``).
3. Add a preset in :mod:`gancourse.presets` and a test in ``tests/``.

You never edit the Trainer: it reads everything it needs from the method.
This template is a complete, working method (it trains the non-saturating GAN,
``method.name=template`` is *not* registered), so ``tests/test_template.py`` can
check that a copy of it trains.

Naming: write the math with the paper's names (``x_real``, ``x_fake``, ``z``,
``logits_real``...), cite the equation you implement, and keep each phase
function on one screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, GANMethod, Phase, Stats, StepContext
from gancourse.losses import d_minimax, g_nonsaturating


# (1) The method's own parameters. Every field is a config key
#     (``--set method.my_weight=2``); a key your method does not have is an error
#     that lists these. Validate ranges in __post_init__ with a ConfigError.
@dataclass(frozen=True)
class TemplateConfig(MethodConfig):
    """``method.name=template``.

    Attributes:
        n_d_steps: D updates per G update.
    """

    name: str = "template"
    n_d_steps: int = 1

    def __post_init__(self):
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")


class TemplateGAN(GANMethod):
    """One sentence: what the method is, and the paper (authors year)."""

    Config = TemplateConfig
    # (2) What the batches must hold: "x" images; add "y" for labels, use
    #     ("x_src", "x") for paired data or ("a", "b") for unpaired data. The
    #     Trainer refuses data that does not provide these, before training.
    needs = ("x",)
    # Networks whose moving average the Trainer keeps (train.ema_decay > 0) and
    # which `gancourse export` writes; networks differentiated twice (a gradient
    # penalty) are listed so that train.compile leaves them eager.
    ema_networks = ("G",)
    exported = ("G",)
    double_backward = ()

    # (3) Networks. The default build() makes self.nets = {"G", "D"} from
    #     model.arch; override it for more networks, e.g.
    #         self.nets = nn.ModuleDict({"G_ab": ..., "G_ba": ..., ...})
    #     and access them as self.G_ab in the losses.

    # (4) Optimiser groups: which networks each optimiser updates. Group "G" gets
    #     train.lr_g, group "D" train.lr_d.
    def groups(self) -> dict[str, tuple[str, ...]]:
        return {"D": ("D",), "G": ("G",)}

    # (5) The phases of one training step, in order. Each names its group and the
    #     function below that returns (loss, stats). batch="fresh" draws new real
    #     data for each repeat, "reuse" keeps the previous phase's, "none" needs
    #     none. During a phase only its group's networks have requires_grad.
    def phases(self) -> tuple[Phase, ...]:
        return (
            Phase("D", repeat=self.cfg.n_d_steps),  # calls self.d_loss
            Phase("G", batch="none"),  # calls self.g_loss
        )

    # (6) The math. Draw noise with ctx.randn / ctx.rand (never torch.randn): those
    #     are keyed by the global sample index, so runs on several processes or
    #     with gradient accumulation match a single process. Return the scalar
    #     loss to minimise and a dict of *detached* tensors to log. ctx.memo
    #     carries results to later phases of the same step; ctx.step is the step.
    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_real = batch["x"]  # (N, C, H, W) in [-1, 1]
        x_fake = self.G(ctx.randn(self.G.z_dim))  # G is frozen in this phase
        logits_real, logits_fake = self.D(x_real), self.D(x_fake)
        loss = d_minimax(logits_real, logits_fake)
        return loss, {"logits_real": logits_real.detach().mean()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        logits_fake = self.D(self.G(ctx.randn(self.G.z_dim)))
        return g_nonsaturating(logits_fake), {}

    # (7) Optional hooks: on_gradients(phase, step) runs after backward, before
    #     the optimiser step; after_update(phase, step) after it (WGAN clips there).
    #     Phase(..., every=16) runs a phase on every 16th step only (lazy
    #     regularisation); networks listed in `frozen` (a pretrained feature
    #     extractor) never learn and stay in eval mode.
    #     state_dict / load_state_dict: non-network state (an image pool) that a
    #     checkpoint must carry for an exact resume.
    # (8) Generation: sample_inputs(n, generator, examples) draws the inputs of a
    #     sample grid ({"z": ...} by default; add labels for a conditional G; take
    #     input images from `examples`, the first n real samples, for an
    #     image-to-image G) and generate(inputs, nets) runs the networks. Set
    #     sample_in_train_mode = True to generate in training mode (Pix2Pix keeps
    #     dropout on at test time).
