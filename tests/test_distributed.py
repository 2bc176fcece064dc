"""torchrun on the CPU (gloo, 2 processes) against 1 process, and gradient
accumulation against one micro-batch.

One ``torchrun`` launch (``_torchrun_worker.py``, about 20 s on 2 cores, most of
it two processes importing torch) trains the vanilla GAN, an exact resume and a
time-budget stop, then runs ``gancourse train`` on ``wgangp-ring8``; the tests
below compare what it saved with the same runs in this process.

Tolerances. The models have no BatchNorm, and data order, ``z`` and the penalty's
interpolation coefficients are keyed by the global sample index, so two processes
at ``B/2`` compute the same numbers as one at ``B`` up to float32 summation
order: two half-batch means averaged by ``all_reduce`` instead of one mean. We
measured differences of at most 1e-7 in gradients, parameters and logged losses,
and hold them to 1e-5 (atol; gradients also rtol 1e-5). Adam did not amplify that
noise over 6-10 steps, so the runs keep the presets' Adam. What the tolerance
catches: a shard that overlaps or skips samples, noise that is not keyed, or a
missing all-reduce change parameters by about the learning rate (1e-3) per step;
gradients summed instead of averaged (which Adam's scale invariance would hide in
the parameters) double the gradients compared below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _torchrun_worker import (
    CLI_STEPS,
    STEPS,
    nets,
    points,
    vanilla_cfg,
    watch,
)

import gancourse
from gancourse.checkpoint import load_checkpoint
from gancourse.cli import main as gancourse_main
from gancourse.config import Config, ConfigError
from gancourse.data.source import BatchStream, TensorSource
from gancourse.train import Trainer

WORKER = Path(__file__).with_name("_torchrun_worker.py")
ATOL = 1e-5  # float32 summation order; see the module docstring
GRAD_RTOL = 1e-5


@pytest.fixture
def one_thread():
    """Reference runs on one thread, like each torchrun process (and no
    oversubscription of shared cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def torchrun(tmp_path_factory):
    """The folder the two processes wrote to, and their standard output."""
    out = tmp_path_factory.mktemp("torchrun")
    root = str(Path(gancourse.__file__).resolve().parents[1])  # the code under test
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc_per_node=2", str(WORKER), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return out, proc.stdout


def ranks(out: Path, run: str) -> tuple[dict, dict]:
    return (torch.load(out / f"rank{r}_{run}.pt") for r in (0, 1))


def assert_nets_close(a: dict, b: dict, atol: float = ATOL) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for k in a[name]:
            torch.testing.assert_close(
                a[name][k], b[name][k], rtol=0, atol=atol, msg=f"{name}.{k}"
            )


def assert_logs_close(a: list[dict], b: list[dict]) -> None:
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        ra = {k: v for k, v in ra.items() if k != "wall_time_s"}
        rb = {k: v for k, v in rb.items() if k != "wall_time_s"}
        assert ra.keys() == rb.keys()
        for k in ra:
            assert ra[k] == pytest.approx(rb[k], abs=ATOL), (ra["step"], k)


# -- the vanilla GAN, through the Trainer -------------------------------------------
def test_each_process_trains_on_its_half_of_the_global_batch(torchrun, one_thread):
    r0, r1 = ranks(torchrun[0], "vanilla")
    one = Trainer(vanilla_cfg(), data=points(), progress=False)
    seen = watch(one)
    one.fit(1)
    B = vanilla_cfg().data.batch_size
    assert r0["x_real"].shape[0] == r1["x_real"].shape[0] == B // 2
    # rank 0 the first half, rank 1 the second: together exactly one process's batch
    assert torch.equal(torch.cat([r0["x_real"], r1["x_real"]]), seen["x_real"])


def test_two_processes_at_half_batch_match_one_process(torchrun, one_thread):
    r0, r1 = ranks(torchrun[0], "vanilla")
    t = Trainer(vanilla_cfg(), data=points(), progress=False)
    seen = watch(t)
    t.fit(STEPS)
    # the processes stay identical without any broadcast of weights
    for name in r0["nets"]:
        for k in r0["nets"][name]:
            assert torch.equal(r0["nets"][name][k], r1["nets"][name][k]), (name, k)
    # the all-reduced gradients are the global batch's mean gradients
    for group, grads in seen["grads"].items():
        for g2, g1 in zip(r0["grads"][group], grads):
            torch.testing.assert_close(g2, g1, rtol=GRAD_RTOL, atol=1e-6)
    assert_nets_close(r0["nets"], nets(t))
    # the log holds the global batch's numbers, not rank 0's half
    assert_logs_close(r0["history"], t.history)
    assert len(r0["history"]) == STEPS


def test_resume_with_the_same_number_of_processes_is_exact(torchrun):
    uninterrupted, _ = ranks(torchrun[0], "vanilla")
    resumed, _ = ranks(torchrun[0], "resumed")
    for name, state in uninterrupted["nets"].items():
        for k, v in state.items():
            assert torch.equal(resumed["nets"][name][k], v), (name, k)


def test_processes_stop_together_when_one_runs_out_of_time(torchrun):
    # rank 1's clock said "out of time" after step 3, rank 0's never did: both
    # stop there (one stopping alone crashed gloo with a collective mismatch)
    r0, r1 = ranks(torchrun[0], "budget")
    assert r0["step"] == r1["step"] == 3


# -- wgangp-ring8, through the command --------------------------------------------
@pytest.fixture(scope="module")
def one_process(torchrun):
    """The command's run in one process, from the config it recorded: parameters
    and log after CLI_STEPS steps and after two more."""
    cfg = Config.from_dict(load_checkpoint(torchrun[0] / "cli" / "last.pt")["config"])
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t = Trainer(cfg, progress=False)
        t.fit(CLI_STEPS)
        at_10 = (nets(t), list(t.history))
        t.fit(CLI_STEPS + 2)
    finally:
        torch.set_num_threads(before)
    return {CLI_STEPS: at_10, CLI_STEPS + 2: (nets(t), list(t.history))}


def log_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_only_rank_0_writes_logs_grids_and_checkpoints(torchrun):
    out, stdout = torchrun
    files = sorted(str(p.relative_to(out / "cli")) for p in (out / "cli").rglob("*"))
    assert files == [
        "last.pt",
        "log.jsonl",
        "losses.png",
        "samples",
        "samples/step_000000.png",
        f"samples/step_{CLI_STEPS:06d}.png",
    ]
    steps = [r["step"] for r in log_records(out / "cli" / "log.jsonl")]
    assert steps == list(range(1, CLI_STEPS + 1))  # each step once
    assert stdout.count("x 2 processes ->") == 1 and stdout.count("done: step") == 1
    ckpt = load_checkpoint(out / "cli" / "last.pt")
    assert ckpt["step"] == CLI_STEPS
    assert ckpt["batch"] == {"global": 256, "world_size": 2, "accum": 1}
    assert ckpt["hardware"].startswith("2 processes x CPU")
    assert ckpt["command"].startswith("gancourse train --preset wgangp-ring8")


def test_command_with_two_processes_matches_one_process(torchrun, one_process):
    out = torchrun[0]
    ckpt = load_checkpoint(out / "cli" / "last.pt")
    ref_nets, ref_log = one_process[CLI_STEPS]
    assert_nets_close(ckpt["nets"], ref_nets)
    assert_logs_close(log_records(out / "cli" / "log.jsonl"), ref_log)


def test_checkpoint_of_two_processes_resumes_in_one(torchrun, one_process, capsys):
    src = torchrun[0] / "cli"
    dest = src.parent / "resumed-in-one"
    shutil.rmtree(dest, ignore_errors=True)
    argv = ["train", "--resume", str(src / "last.pt"), "--steps", str(CLI_STEPS + 2)]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert gancourse_main([*argv, "--out", str(dest), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(before)
    said = capsys.readouterr().out
    assert "trained by 2 process(es) and resumes with 1" in said
    assert "not bit-for-bit" in said
    ckpt = load_checkpoint(dest / "last.pt")
    assert ckpt["step"] == CLI_STEPS + 2 and ckpt["batch"]["world_size"] == 1
    log = log_records(dest / "log.jsonl")
    assert [r["step"] for r in log] == list(range(1, CLI_STEPS + 3))
    # not bit-exact, but the data order and noise continued: it is the run that
    # one process would have made, to float32 rounding
    ref_nets, ref_log = one_process[CLI_STEPS + 2]
    assert_nets_close(ckpt["nets"], ref_nets)
    assert_logs_close(log, ref_log)


# -- gradient accumulation, one process -----------------------------------------------
@pytest.mark.parametrize("method", ["vanilla", "wgan-gp"])
def test_accumulation_matches_one_micro_batch(method, one_thread):
    # same keyed noise (z, and the penalty's eps) and data, no BatchNorm: accum=2
    # differs from accum=1 only by float32 summation order (measured <= 1e-7)
    cfg = vanilla_cfg(**{"method.name": method})
    runs = {}
    for accum in (1, 2):
        t = Trainer(cfg.override({"train.accum": accum}), data=points(), progress=False)
        seen = watch(t)
        t.fit(4)
        runs[accum] = (t, seen)
    (t1, s1), (t2, s2) = runs[1], runs[2]
    assert t2.batches.slices == [slice(0, 32), slice(32, 64)]
    for group, grads in s1["grads"].items():
        for a, b in zip(s2["grads"][group], grads):
            torch.testing.assert_close(a, b, rtol=GRAD_RTOL, atol=1e-6)
    assert_nets_close(nets(t2), nets(t1))
    assert_logs_close(t2.history, t1.history)


def test_batch_not_divisible_by_processes_times_accum_is_a_clear_error(
    tmp_path, capsys
):
    with pytest.raises(ConfigError, match=r"divisible .* train.accum \(3\)"):
        Trainer(vanilla_cfg(**{"train.accum": 3}), data=points(), progress=False)
    source = TensorSource({"x": points()}, {"name": "tensor"})
    with pytest.raises(ConfigError, match=r"processes \(2\) times train.accum \(2\)"):
        BatchStream(source, 30, rank=0, world=2, accum=2)
    # the command prints one line and exits with status 2, no traceback
    argv = ["train", "--preset", "vanilla-ring8", "--set", "train.accum=3"]
    assert gancourse_main([*argv, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gancourse train: error: data.batch_size=256 must be")
    assert "multiple of 3" in err and "Traceback" not in err
