"""Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks"): a conditional GAN that translates an input image
``x_src`` into an output image, trained on aligned pairs ``(x_src, x)``.

G is a U-Net, ``x_fake = G(x_src)``, with no ``z``: its only noise is dropout
(section 3.1). D is a PatchGAN that judges the *pair* ``(x_src, x)`` stacked on
the channel axis, one logit per patch (:mod:`gancourse.models.patchgan`). The
objective is the conditional GAN loss plus an L1 reconstruction term (eq. 1-4):

    ``G* = arg min_G max_D L_cGAN(G, D) + lambda * L_L1(G)``,
    ``L_cGAN = E[log D(x_src, x)] + E[log(1 - D(x_src, G(x_src)))]``,
    ``L_L1 = E[|x - G(x_src)|_1]``, ``lambda = 100``.

As trained (section 3.3 and the authors' code):

* **D's phase** minimises ``1/2 [BCE(D(x_src, x), real) + BCE(D(x_src, x_fake),
  fake)]``, each BCE the mean over every patch logit of the batch: "we divide
  the objective by 2 while optimizing D, which slows down the rate at which D
  learns relative to G" (section 3.3).
* **G's phase** reuses the fakes of D's phase (one forward pass of G per step, so
  one dropout draw) and minimises ``gan_weight * BCE(D(x_src, x_fake), real)``
  (the non-saturating loss of section 3.3) ``+ lambda_l1 * mean|x_fake - x|``.

``gan_weight = 0`` is the paper's "L1 alone" ablation (D is then not trained at
all) and ``lambda_l1 = 0`` its "cGAN alone" (table 1, figure 4).

Test time (section 3.3): the paper runs G as in training, with dropout on and
BatchNorm using the statistics of the test batch (``sample_train_mode=True``);
``False`` samples in eval mode (no dropout, BatchNorm's running statistics).
In training mode a sample depends on the others generated with it (through the
batch statistics); the paper trained with batches of 1 to 10 (section 3.3) and
the authors' ``test.py`` generates one image at a time. Sampling never changes the
running statistics (:class:`~gancourse.sampling.Sampler` restores them).

Samples need input images: :meth:`Pix2Pix.sample_inputs` takes them from the
``examples`` it is given (the Trainer passes the first training pairs, so its
grids show the same inputs at every step).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, DataSpec, GANMethod, Phase, Stats, StepContext
from gancourse.losses import d_minimax, g_nonsaturating

__all__ = ["Pix2Pix", "Pix2PixConfig", "pair"]


@dataclass(frozen=True)
class Pix2PixConfig(MethodConfig):
    """``method.name=pix2pix``.

    Attributes:
        lambda_l1: weight of the L1 term (eq. 4: 100); 0 gives "cGAN alone".
        gan_weight: weight of G's adversarial term (1); 0 gives "L1 alone"
            (table 1), and D is not trained.
        sample_train_mode: generate with dropout on and batch statistics, as the
            paper does at test time (``True``), or in eval mode (``False``).
    """

    name: str = "pix2pix"
    lambda_l1: float = 100.0
    gan_weight: float = 1.0
    sample_train_mode: bool = True

    def __post_init__(self):
        for key in ("lambda_l1", "gan_weight"):
            v = getattr(self, key)
            if v < 0:
                raise ConfigError(f"method.{key} must be >= 0, got {v}")
        if self.lambda_l1 == 0 and self.gan_weight == 0:
            raise ConfigError(
                "method.lambda_l1 and method.gan_weight are both 0: G would learn "
                "nothing; keep at least one of them positive"
            )


def pair(x_src: Tensor, x: Tensor) -> Tensor:
    """What the conditional D sees: ``(N, C_src, H, W)`` and ``(N, C, H, W)``
    stacked to ``(N, C_src + C, H, W)`` (input first, as in the authors' code)."""
    return torch.cat([x_src, x], dim=1)


class Pix2Pix(GANMethod):
    """Paired image-to-image translation: ``G(x_src)``, ``D(x_src, x)`` judged
    per patch, L1 to the target (config: :class:`Pix2PixConfig`).

    Logged: ``d_loss`` (with the 1/2), ``d_real`` and ``d_fake`` (the mean
    probability ``sigmoid(logit)`` D gives real and fake patches), ``g_loss``,
    ``g_gan`` (the adversarial term, unweighted) and ``g_l1`` (``mean|x_fake -
    x|``, unweighted).
    """

    Config = Pix2PixConfig
    needs = ("x_src", "x")
    needs_examples = True  # samples translate real input images

    @property
    def sample_in_train_mode(self) -> bool:
        return self.cfg.sample_train_mode

    def build(self, model_cfg, spec: DataSpec) -> nn.ModuleDict:
        from gancourse.models import build_discriminator, build_generator

        self.spec = spec
        shape, src = spec.shapes["x"], spec.shapes["x_src"]
        self.nets = nn.ModuleDict(
            {
                "G": build_generator(model_cfg, shape, src_shape=src),
                "D": build_discriminator(model_cfg, shape, src_shape=src),
            }
        )
        return self.nets

    def phases(self) -> tuple[Phase, ...]:
        if self.cfg.gan_weight == 0:  # "L1 alone": no adversary to train
            return (Phase("G"),)
        # D's phase computes the fakes with a graph into G (keep_graph); G's phase
        # reuses them and the same batch
        return (Phase("D", keep_graph=("G",)), Phase("G", batch="reuse"))

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_src, x_real = batch["x_src"], batch["x"]  # (N, C_src, S, S), (N, C, S, S)
        x_fake = self.G(x_src)  # (N, C, S, S) in [-1, 1]
        ctx.memo["x_fake"] = x_fake
        logits_real = self.D(pair(x_src, x_real))  # (N, 1, S', S')
        logits_fake = self.D(pair(x_src, x_fake.detach()))
        # every patch logit is one judgement: BCE averaged over N * S' * S'
        loss = 0.5 * d_minimax(logits_real.reshape(-1), logits_fake.reshape(-1))
        return loss, {
            "d_real": torch.sigmoid(logits_real.detach()).mean(),
            "d_fake": torch.sigmoid(logits_fake.detach()).mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_src, x_real = batch["x_src"], batch["x"]
        x_fake = ctx.memo.get("x_fake")
        if x_fake is None:  # no D phase ("L1 alone")
            x_fake = self.G(x_src)
        l1 = (x_fake - x_real).abs().mean()
        loss = self.cfg.lambda_l1 * l1
        stats = {"g_l1": l1.detach()}
        if self.cfg.gan_weight > 0:
            g_gan = g_nonsaturating(self.D(pair(x_src, x_fake)).reshape(-1))
            loss = loss + self.cfg.gan_weight * g_gan
            stats["g_gan"] = g_gan.detach()
        return loss, stats

    # -- generation -----------------------------------------------------------------
    def sample_inputs(
        self,
        n: int,
        generator: torch.Generator | None = None,
        examples: Batch | None = None,
    ) -> Batch:
        """``{"x_src": (k, C_src, S, S), "x": (k, C, S, S)}``: the first ``k =
        min(n, len(examples))`` input images of ``examples`` and their targets
        (kept for grids). Nothing is random: G's noise is its dropout."""
        if examples is None or "x_src" not in examples:
            raise ValueError(
                "pix2pix translates input images, so sampling needs some: pass "
                "examples={'x_src': (n, C, H, W)} (Sampler(method, nets, "
                "examples=...)), or call generate({'x_src': ...}) directly"
            )
        k = min(n, len(examples["x_src"]))
        inputs = {"x_src": examples["x_src"][:k]}
        if "x" in examples:
            inputs["x"] = examples["x"][:k]
        return inputs

    def generate(self, inputs: Batch, nets: nn.ModuleDict | None = None) -> Tensor:
        """``x_fake = G(x_src)``, ``(N, C, S, S)`` in ``[-1, 1]``."""
        nets = self.nets if nets is None else nets
        return nets["G"](inputs["x_src"])

    def grid(self, inputs: Batch, samples: Tensor) -> tuple[Tensor, int]:
        """Triplets ``input | output | target`` (``input | output`` without
        targets), four per row; a 1-channel input shown next to colour outputs
        is repeated to 3 channels."""
        x_src = inputs["x_src"].to(samples.device, samples.dtype)
        columns = [_channels_like(x_src, samples), samples]
        if "x" in inputs:
            columns.append(inputs["x"].to(samples.device, samples.dtype))
        images = torch.stack(columns, dim=1).flatten(0, 1)  # (k * cols, C, S, S)
        return images, 4 * len(columns)


def _channels_like(x: Tensor, like: Tensor) -> Tensor:
    """``x (N, c, H, W)`` with the channel count of ``like``, for display only."""
    c = like.shape[1]
    if x.shape[1] == c:
        return x
    gray = x.mean(dim=1, keepdim=True)
    return gray.expand(-1, c, -1, -1)
