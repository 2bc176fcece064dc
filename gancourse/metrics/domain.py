"""Domain FID during training: a Fréchet distance in a small classifier's features.

Inception features on 28x28 grey digits are slow on a CPU and far from the images
Inception was trained on; a LeNet trained on the domain itself (:mod:`.lenet`) is a
fast, sensitive judge there. The number is an FID (Heusel et al. 2017, eq. 6) in
that classifier's 128-d feature space: comparable between runs that use the same
judge, the same reference set and the same ``n``, never with Inception FIDs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gancourse.metrics.evaluate import GeneratorSamples, extract_features
from gancourse.metrics.frechet import FrechetReference
from gancourse.metrics.lenet import load_lenet
from gancourse.metrics.stats import stats_from_features

__all__ = ["DOMAIN_JUDGES", "DomainFID", "domain_judge"]

DOMAIN_JUDGES = {"mnist": "lenet-mnist", "fashion-mnist": "lenet-fashion"}
"""Dataset name -> the shipped classifier that judges it."""


def domain_judge(dataset: str) -> str:
    """The judge's name for ``dataset``; a ``ValueError`` for data without one."""
    if dataset not in DOMAIN_JUDGES:
        raise ValueError(
            f"no domain classifier for {dataset!r} (there are for "
            f"{', '.join(DOMAIN_JUDGES)}); set train.eval_every=0 and score the "
            "checkpoint with `gancourse fid` (Inception) instead"
        )
    return DOMAIN_JUDGES[dataset]


class DomainFID:
    """FID of a generator against fixed real images, in a LeNet's features.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"`` (picks the judge).
        x_real: ``(M, 1, 28, 28)`` real images in ``[-1, 1]``, the reference set
            (its statistics are computed once, here).
        n: generated samples per evaluation.
        seed: seed of the latent codes, the same at every evaluation, so two
            evaluations differ only because G changed.
        device: where the judge runs.

    Calling it with ``G`` returns the FID (a float, lower is better).
    """

    def __init__(
        self,
        dataset: str,
        x_real: Tensor,
        n: int = 1000,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        self.judge_name = domain_judge(dataset)
        self.judge = load_lenet(self.judge_name, device=device)
        self.n, self.seed = n, seed
        feats, _ = extract_features(x_real, self.judge)
        ref = stats_from_features(feats)
        self.n_real = len(feats)
        self._ref = FrechetReference(ref.mu, ref.sigma)

    @torch.no_grad()
    def __call__(self, G: nn.Module) -> float:
        """FID of ``G`` (a generator module, evaluated in eval mode, or a
        :class:`~gancourse.sampling.Sampler`, which sets its own mode)."""
        if not isinstance(G, nn.Module):
            feats, _ = extract_features(
                GeneratorSamples(G, self.n, self.seed), self.judge
            )
            return self._distance(feats)
        was_training = G.training
        G.eval()
        try:
            feats, _ = extract_features(
                GeneratorSamples(G, self.n, self.seed), self.judge
            )
        finally:
            G.train(was_training)
        return self._distance(feats)

    def _distance(self, feats) -> float:
        fake = stats_from_features(feats)
        return float(self._ref.distance(fake.mu, fake.sigma))

    def describe(self) -> dict[str, object]:
        """What the number means: judge, reference size, n and seed."""
        return {
            "judge": self.judge_name,
            "n_real": self.n_real,
            "n_fake": self.n,
            "seed": self.seed,
        }
