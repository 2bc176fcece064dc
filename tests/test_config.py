"""Configs: presets, overrides, unknown keys, round trips."""

import dataclasses
import json

import pytest

from gancourse.config import PRESETS, Config, ConfigError, get_preset


def test_presets_exist_and_are_frozen():
    assert {"vanilla-mnist", "dcgan-mnist"} <= set(PRESETS)
    cfg = PRESETS["dcgan-mnist"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.train.steps = 3  # type: ignore[misc]


def test_dcgan_preset_follows_the_paper():
    cfg = PRESETS["dcgan-mnist"]
    assert cfg.train.betas == (0.5, 0.999) and cfg.train.lr_g == 2e-4  # Radford sec. 4
    assert cfg.method.g_loss == "nonsaturating"


def test_override_parses_types():
    cfg = get_preset("dcgan-mnist", fast=False).override(
        [
            "train.steps=123",
            "train.betas=0.0,0.9",
            "data.limit=none",
            "train.amp=true",
            "train.lr_d=1e-3",
        ]
    )
    assert cfg.train.steps == 123 and cfg.train.betas == (0.0, 0.9)
    assert cfg.data.limit is None and cfg.train.amp is True and cfg.train.lr_d == 1e-3


@pytest.mark.parametrize("bad", ["train.stpes=3", "trian.steps=3", "steps=3"])
def test_unknown_key_lists_valid_keys(bad):
    with pytest.raises(ConfigError) as e:
        get_preset("dcgan-mnist").override([bad])
    msg = str(e.value)
    assert "unknown" in msg and ("steps" in msg or "train" in msg)


def test_unknown_key_in_dict_lists_valid_keys():
    d = PRESETS["dcgan-mnist"].to_dict()
    d["train"]["lr"] = 0.1
    with pytest.raises(ConfigError, match="valid keys: steps, optimizer, lr_g"):
        Config.from_dict(d)


def test_bad_value_is_a_clear_error():
    with pytest.raises(ConfigError, match="not a valid int"):
        get_preset("dcgan-mnist").override(["train.steps=many"])


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError, match="dcgan-mnist"):
        get_preset("dcgan-mnst")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_round_trip_through_json(name):
    cfg = PRESETS[name]
    assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_fast_is_smaller_and_env_selects_it(monkeypatch):
    full = PRESETS["dcgan-mnist"]
    fast = full.fast()
    assert (
        fast.train.steps < full.train.steps and fast.model.g_width < full.model.g_width
    )
    assert fast.method == full.method and fast.model.arch == full.model.arch
    monkeypatch.setenv("GANCOURSE_FAST", "1")
    assert get_preset("dcgan-mnist") == fast
    monkeypatch.setenv("GANCOURSE_FAST", "0")
    assert get_preset("dcgan-mnist") == full
