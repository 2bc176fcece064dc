"""``gancourse bench trainer``: the bare loop is a fair reference, the command runs."""

import json
import re

import pytest
import torch

from gancourse.bench_trainer import bare_loop, bench_config, synthetic_images
from gancourse.cli import main
from gancourse.train import Trainer


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # no oversubscription of shared cores
    yield
    torch.set_num_threads(before)


def test_bare_loop_computes_what_the_trainer_computes(one_thread):
    # a benchmark of overhead compares equal work: same initial weights, data
    # order (256 images: 5 steps cross an epoch), noise and updates, bit for bit,
    # BatchNorm running statistics included
    cfg = bench_config(fast=True)
    data = synthetic_images(256)
    bare, seconds = bare_loop(cfg, data, 5)
    trainer = Trainer(cfg, data=data, progress=False)
    trainer.fit(5)
    assert seconds["wall"] > 0 and seconds["cpu"] > 0
    for name in ("G", "D"):
        ours, theirs = trainer.nets[name].state_dict(), bare[name].state_dict()
        assert ours.keys() == theirs.keys()
        for k in ours:
            assert torch.equal(ours[k], theirs[k]), (name, k)


def test_command_prints_the_overhead_and_records_it(tmp_path, capsys):
    threads = torch.get_num_threads()
    record = tmp_path / "bench.json"
    argv = ["bench", "trainer", "--steps", "2", "--repeats", "1", "--warmup", "0"]
    assert main([*argv, "--fast", "--record", str(record)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^overhead of the Trainer: [+-]\d+\.\d\d% ", out, re.M), out
    assert "1 thread(s)" in out and "dcgan-mnist-fast, batch 64" in out
    r = json.loads(record.read_text())
    assert r["steps"] == 2 and r["threads"] == 1 and r["torch"] == torch.__version__
    for clock in ("wall", "cpu"):
        t = r[clock]
        assert len(t["seconds"]["trainer"]) == len(t["seconds"]["bare"]) == 1
        expected = 100 * (t["median_s"]["trainer"] / t["median_s"]["bare"] - 1)
        assert abs(t["overhead_pct"] - expected) < 0.01  # rounded inputs
    assert r["overhead_pct"] == r["wall"]["overhead_pct"]
    assert torch.get_num_threads() == threads  # the benchmark's setting is undone


def test_command_refuses_zero_repeats(capsys):
    assert main(["bench", "trainer", "--repeats", "0", "--fast"]) == 2
    assert "at least 1" in capsys.readouterr().err
