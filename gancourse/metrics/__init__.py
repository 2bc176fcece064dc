"""Evaluation metrics: FID, IS, KID, precision / recall, and the networks behind them.

- :mod:`.frechet` — the Fréchet distance (FID's formula), exact and fast.
- :mod:`.distances` — exact 1-D Wasserstein-1 and Jensen-Shannon (chapter 2).
- :mod:`.stats` — streaming feature statistics and ``.npz`` reference files.
- :mod:`.scores` — Inception Score, KID, improved precision and recall.
- :mod:`.inception`, :mod:`.inception_weights` — the TF-Inception graph, its weights.
- :mod:`.lenet` — small classifiers for 28×28 data (domain FID, classifier IS).
- :mod:`.resize` — TF1-bilinear and clean (antialiased) resizing to 299.
- :mod:`.evaluate` — image sources, batched extraction, FID from statistics.
- ``gancourse.metrics.translation`` — paired translation: L1, PSNR, SSIM, a generator
  on a test split.
"""

from gancourse.metrics.distances import (
    js_divergence,
    linear_critic_bound,
    wasserstein_1d,
)
from gancourse.metrics.evaluate import (
    EXTRACTORS,
    FolderImages,
    GeneratorSamples,
    dataset_images,
    extract_features,
    feature_stats,
    fid_from_stats,
    get_extractor,
)
from gancourse.metrics.extractor import FeatureExtractor, MetricInputError
from gancourse.metrics.frechet import FrechetReference, frechet_distance
from gancourse.metrics.scores import (
    inception_score,
    kid,
    mmd2_unbiased,
    precision_recall,
    probs_from_logits,
)
from gancourse.metrics.stats import (
    FeatureStats,
    RunningStats,
    load_stats,
    save_stats,
    stats_from_features,
)
from gancourse.metrics.translation import (
    evaluate_translation,
    l1,
    psnr,
    ssim,
    translation_means,
    translation_scores,
)

__all__ = [
    "EXTRACTORS",
    "FeatureExtractor",
    "FeatureStats",
    "FolderImages",
    "FrechetReference",
    "GeneratorSamples",
    "MetricInputError",
    "RunningStats",
    "dataset_images",
    "evaluate_translation",
    "extract_features",
    "feature_stats",
    "fid_from_stats",
    "frechet_distance",
    "get_extractor",
    "inception_score",
    "js_divergence",
    "linear_critic_bound",
    "kid",
    "l1",
    "load_stats",
    "mmd2_unbiased",
    "precision_recall",
    "probs_from_logits",
    "psnr",
    "save_stats",
    "ssim",
    "stats_from_features",
    "translation_means",
    "translation_scores",
    "wasserstein_1d",
]
