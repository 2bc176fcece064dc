"""The `gancourse` command, run as a user would: in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gancourse.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None, env=None):
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gancourse", *args],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_fast_train_writes_checkpoint_grid_and_log_then_samples_and_resumes(tmp_path):
    out = tmp_path / "run"
    r = run(
        "train",
        "--preset",
        "vanilla-ring8",
        "--fast",
        "--set",
        "train.steps=30",
        "--set",
        "train.sample_every=10",
        "--out",
        str(out),
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr
    ck = load_checkpoint(out / "last.pt", kind="train")
    assert ck["step"] == 30 and "--preset vanilla-ring8" in ck["command"]
    assert ck["config"]["name"] == "vanilla-ring8-fast"
    assert (out / "samples" / "step_000030.png").stat().st_size > 1000
    assert (out / "log.jsonl").read_text().count("\n") >= 3
    grid = tmp_path / "grid.png"
    r = run("sample", "--ckpt", str(out / "last.pt"), "--n", "16", "--out", str(grid))
    assert r.returncode == 0, r.stderr
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # an existing run is never overwritten by accident
    r = run("train", "--preset", "vanilla-ring8", "--fast", "--out", str(out))
    assert r.returncode == 2 and "--resume" in r.stderr and "Traceback" not in r.stderr
    r = run("train", "--resume", str(out / "last.pt"), "--steps", "40", "--no-progress")
    assert r.returncode == 0, r.stderr
    ckpt = load_checkpoint(out / "last.pt")
    assert ckpt["step"] == 40
    # the checkpoint names both commands: the one that started the run, the resume
    first, _, resumed = ckpt["command"].partition("; resumed at step 30: ")
    assert first.startswith("gancourse train --preset vanilla-ring8 --fast")
    assert resumed.startswith("gancourse train --resume ") and "--steps 40" in resumed


@pytest.mark.skipif(
    not (
        Path(os.environ.get("GANCOURSE_DATA", "~/.cache/gancourse")).expanduser()
        / "MNIST"
    ).exists(),
    reason="MNIST not prepared (run `gancourse data prepare --offline`)",
)
def test_fast_dcgan_mnist_run(tmp_path):
    out = tmp_path / "dc"
    r = run(
        "train",
        "--preset",
        "dcgan-mnist",
        "--set",
        "train.steps=3",
        "--out",
        str(out),
        "--no-progress",
        env={"GANCOURSE_FAST": "1"},
    )
    assert r.returncode == 0, r.stderr
    assert load_checkpoint(out / "last.pt")["config"]["name"] == "dcgan-mnist-fast"
    assert (out / "samples" / "step_000003.png").exists()


@pytest.mark.parametrize(
    "args,expected",
    [
        (["train", "--preset", "nope"], "available presets"),
        (["train", "--preset", "dcgan-mnist", "--set", "train.stepz=3"], "valid keys"),
        (["sample", "--ckpt", "missing.pt"], "no checkpoint at"),
    ],
)
def test_user_errors_are_one_line(tmp_path, args, expected):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert expected in r.stderr and "Traceback" not in r.stderr


def test_missing_data_is_a_clear_error(tmp_path):
    r = run(
        "train",
        "--preset",
        "dcgan-mnist",
        "--fast",
        "--out",
        str(tmp_path / "x"),
        env={
            "GANCOURSE_DATA": str(tmp_path / "empty"),
            "no_proxy": "*",
            "https_proxy": "http://127.0.0.1:9",
            "http_proxy": "http://127.0.0.1:9",
        },
    )
    assert r.returncode == 2
    assert (
        "gancourse data prepare --offline" in r.stderr and "Traceback" not in r.stderr
    )


def test_python_dash_m_and_presets():
    r = run("presets")
    assert (
        r.returncode == 0 and "dcgan-mnist" in r.stdout and "vanilla-mnist" in r.stdout
    )


def test_sample_label_draws_one_class_of_a_conditional_model(tmp_path):
    from PIL import Image

    out = tmp_path / "sneakers.png"
    r = run(
        "sample",
        "--ckpt",
        "acgan-fashion",
        "--n",
        "16",
        "--label",
        "7",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size[0] > 0
    r = run("sample", "--ckpt", "acgan-fashion", "--label", "10", "--out", str(out))
    assert r.returncode == 2 and "[0, 10)" in r.stderr
    r = run("sample", "--ckpt", "dcgan-mnist", "--label", "1", "--out", str(out))
    assert r.returncode == 2 and "class-conditional" in r.stderr
