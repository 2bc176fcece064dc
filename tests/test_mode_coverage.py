"""The ring's mode-coverage metric (3 standard deviations, VEEGAN / PacGAN) and the
presets that show mode collapse.

Points are placed by hand at known distances from the means, in units of the
modes' standard deviation; the expected counts are worked out in the comments.
"""

from __future__ import annotations

import math

import pytest
import torch

from gancourse.config import PRESETS
from gancourse.data import (
    fraction_near_modes,
    load_dataset,
    mode_coverage,
    modes_covered,
)
from gancourse.data.toy import ring8_centers

STD = 0.02
CENTERS = ring8_centers()  # radius 2: neighbouring means 2 * 2 sin(pi / 8) = 1.53 apart


def at(mode: int, n: int, sigmas: float, angle: float = 0.0) -> torch.Tensor:
    """``n`` points ``sigmas`` standard deviations from mode ``mode``'s mean, in the
    direction ``angle`` (radians), spread over a few directions around it."""
    angles = angle + torch.linspace(0, math.pi / 2, n, dtype=torch.float64)
    step = sigmas * STD * torch.stack([angles.cos(), angles.sin()], dim=1)
    return (CENTERS[mode].double() + step).float()


def hand_made() -> torch.Tensor:
    # mode 0: 25 at 1 sigma; mode 2: 20 at 2.9 sigma; mode 5: 19 at 0.5 sigma;
    # mode 6: 30 at 3.1 sigma (just outside 3 sigma); 6 at the ring's centre, 2 away
    # from every mean (100 sigma). N = 100, 64 of them within 3 sigma.
    return torch.cat(
        [
            at(0, 25, 1.0),
            at(2, 20, 2.9, angle=1.0),
            at(5, 19, 0.5),
            at(6, 30, 3.1, angle=2.0),
            torch.zeros(6, 2),
        ]
    )


def test_counts_high_quality_samples_per_mode_by_hand():
    cov = mode_coverage(hand_made(), CENTERS, std=STD)
    assert cov.counts == [25, 0, 20, 0, 0, 19, 0, 0]
    assert cov.high_quality == pytest.approx(64 / 100)
    assert cov.modes == 2  # modes 0 (25) and 2 (20) reach 20; mode 5 has 19
    assert modes_covered(hand_made(), CENTERS, std=STD) == 2
    assert fraction_near_modes(hand_made(), CENTERS, std=STD) == pytest.approx(0.64)


def test_min_count_and_n_sigma_move_the_thresholds():
    pts = hand_made()
    # min_count=1 is VEEGAN's rule (and PacGAN's code): modes 0, 2 and 5
    assert modes_covered(pts, CENTERS, std=STD, min_count=1) == 3
    assert modes_covered(pts, CENTERS, std=STD, min_count=26) == 0
    # 4 sigma takes in mode 6's 30 points at 3.1 sigma: modes 0, 2, 6 reach 20
    cov4 = mode_coverage(pts, CENTERS, std=STD, n_sigma=4)
    assert cov4.counts == [25, 0, 20, 0, 0, 19, 30, 0]
    assert cov4.modes == 3 and cov4.high_quality == pytest.approx(94 / 100)


def test_distances_are_measured_in_units_of_std():
    pts = hand_made()
    # halve std: 1 -> 2 sigma and 0.5 -> 1 sigma stay inside, 2.9 -> 5.8 falls out
    cov = mode_coverage(pts, CENTERS, std=STD / 2)
    assert cov.counts == [25, 0, 0, 0, 0, 19, 0, 0]
    assert cov.high_quality == pytest.approx(44 / 100) and cov.modes == 1
    # the old fixed radius 0.3 would be 15 sigma: every hand-made point but the 6
    # at the centre is inside it, and so would count as "covering" 4 modes
    assert modes_covered(pts, CENTERS, std=0.1, min_count=19) == 4


def test_each_sample_registers_to_its_nearest_mode_only():
    # 2 sigma from mode 1's mean, pointing towards mode 0: still mode 1's
    toward_0 = (CENTERS[0] - CENTERS[1]) / (CENTERS[0] - CENTERS[1]).norm()
    pts = (CENTERS[1] + 2 * STD * toward_0).repeat(20, 1)
    assert mode_coverage(pts, CENTERS, std=STD).counts == [0, 20, 0, 0, 0, 0, 0, 0]


def test_real_ring_data_is_high_quality_at_the_gaussian_rate():
    # For an isotropic 2-D Gaussian the distance to the mean is Rayleigh:
    # P(r <= 3 sigma) = 1 - exp(-9 / 2) = 0.98889 (binomial sd over 2,500: 0.002).
    ring = load_dataset("ring8", "test")
    cov = mode_coverage(ring.data[:2500], ring.centers, std=ring.std)
    assert cov.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.008)
    assert cov.modes == 8 and min(cov.counts) > 250  # about 2,500 / 8 = 312 each
    assert ring.std == STD


def test_a_one_mode_generator_covers_one_mode():
    g = torch.Generator().manual_seed(0)
    pts = CENTERS[3] + STD * torch.randn(2500, 2, generator=g)
    cov = mode_coverage(pts, CENTERS, std=STD)
    assert cov.modes == 1 and cov.counts[3] == sum(cov.counts)


@pytest.mark.parametrize(
    "kwargs", [{"std": 0.0}, {"std": STD, "n_sigma": -1}, {"std": STD, "min_count": 0}]
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        mode_coverage(hand_made(), CENTERS, **kwargs)


def test_std_must_be_given():
    with pytest.raises(TypeError):
        modes_covered(hand_made(), CENTERS)  # type: ignore[call-arg]


# ---------------------------------------------------------------- collapse presets


def test_collapse_presets_differ_only_in_the_method():
    van, gp = PRESETS["vanilla-ring8-collapse"], PRESETS["wgangp-ring8-collapse"]
    assert van.data == gp.data and van.model == gp.model
    assert van.data.name == "ring8" and van.model.z_dim == 256
    assert van.method.name == "vanilla" and gp.method.name == "wgan-gp"
    # the discriminator and the critic are both trained 5 steps per G step
    assert van.method.n_d_steps == gp.method.n_d_steps == 5
    assert van.method.g_loss == "nonsaturating" and gp.method.gp_lambda == 10.0
    assert van.train.steps == gp.train.steps and van.train.lr_d == gp.train.lr_d
    assert van.train.betas == (0.5, 0.999) and gp.train.betas == (0.5, 0.9)
    assert van.train.n_samples == 2500  # what mode_coverage's min_count=20 is for
    # chapter 1's parity-pinned preset is untouched by the new ones
    assert PRESETS["vanilla-ring8"].method.n_d_steps == 1
    assert PRESETS["vanilla-ring8"].model.z_dim == 2


@pytest.mark.parametrize("name", ["vanilla-ring8-collapse", "wgangp-ring8-collapse"])
def test_collapse_presets_fast_copies_train(name):
    from gancourse.train import Trainer

    cfg = PRESETS[name].fast()
    assert cfg.name == f"{name}-fast" and cfg.model.g_width == 64
    assert cfg.train.steps <= 200 and cfg.train.n_samples <= 64
    run = Trainer(cfg.override({"train.steps": 4}), device="cpu", progress=False)
    run.fit()
    assert run.step == 4
    step, pts = run.samples[-1]
    assert step == 4 and pts.shape == (cfg.train.n_samples, 2)
    assert torch.isfinite(pts).all()
    ring = load_dataset("ring8", "train")
    cov = mode_coverage(pts, ring.centers, std=ring.std, min_count=1)
    assert 0 <= cov.modes <= 8 and 0 <= cov.high_quality <= 1
