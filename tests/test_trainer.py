"""The Trainer: updates, schedule, exact resume, atomic saves, NaN guard, Ctrl-C."""

import json
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from gancourse.checkpoint import CheckpointError, load_checkpoint
from gancourse.config import PRESETS
from gancourse.train import Trainer, TrainingDiverged


def ring_cfg(**train):
    cfg = PRESETS["vanilla-ring8"].fast()
    sets = {
        "train.log_every": 1,
        "train.sample_every": 1000,
        "train.ckpt_every": 1000,
        "data.batch_size": 32,
        "model.g_width": 16,
        "model.d_width": 16,
    }
    sets.update({f"train.{k}": v for k, v in train.items()})
    return cfg.override(sets)


def points(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g)


def images(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1


def test_a_step_changes_both_networks():
    t = Trainer(ring_cfg(), data=points(), progress=False)
    g0 = [p.clone() for p in t.G.parameters()]
    d0 = [p.clone() for p in t.D.parameters()]
    t.fit(1)
    assert all(not torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))


def test_dcgan_step_runs_on_images():
    cfg = PRESETS["dcgan-mnist"].fast().override({"data.batch_size": 16})
    t = Trainer(cfg, data=images(), progress=False)
    t.fit(2)
    assert t.step == 2 and {"d_loss", "g_loss", "D(x_real)"} <= set(t.history[-1])


def test_d_step_builds_no_graph_into_G():
    # at D's optimiser step, D has gradients and G has none (G is frozen in D's
    # phase); at G's step, D's were cleared... D is frozen, so none were made
    t = Trainer(ring_cfg(), data=points(), progress=False)
    seen = {}
    for group, opt in t.optimizers.items():
        orig = opt.step

        def spy(*a, _orig=orig, _group=group, **kw):
            seen[_group] = (
                all(p.grad is None for p in t.G.parameters()),
                all(p.grad is not None for p in t.D.parameters()),
                [p.requires_grad for p in t.D.parameters()],
            )
            return _orig(*a, **kw)

        opt.step = spy
    t.fit(1)
    no_g_grad, d_grad, _ = seen["D"]
    assert no_g_grad and d_grad
    _, _, d_trainable = seen["G"]
    assert not any(d_trainable)  # G's step needs gradients through D, not for D


@pytest.mark.parametrize("k", [1, 3])
def test_d_steps_per_g_step(k):
    cfg = ring_cfg().override({"method.n_d_steps": k})
    t = Trainer(cfg, data=points(), progress=False)
    calls = {"d": 0, "g": 0}
    for name, opt in (("d", t.opt_d), ("g", t.opt_g)):
        orig = opt.step

        def counted(*a, _orig=orig, _name=name, **kw):
            calls[_name] += 1
            return _orig(*a, **kw)

        opt.step = counted
    t.fit(4)
    assert calls == {"d": 4 * k, "g": 4}
    # one real batch per D step, none for G's
    assert t.batches.state_dict()["cursor"] == (4 * k * 32) % 512


def test_g_gets_fresh_noise():
    t = Trainer(ring_cfg(), data=points(), progress=False)
    seen = []
    t.G.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    t.train_step()
    assert len(seen) == 2 and seen[0].shape == (32, 2)
    assert not torch.equal(seen[0], seen[1])


def test_resume_is_exact(tmp_path):
    data = points()
    a = Trainer(ring_cfg(), tmp_path / "a", data=data, progress=False)
    a.fit(40)
    b = Trainer(ring_cfg(), tmp_path / "b", data=data, progress=False)
    b.fit(20)
    b.save()
    c = Trainer.resume(tmp_path / "b" / "last.pt", data=data, progress=False)
    assert c.step == 20
    c.fit(40)
    keys = ("d_loss", "g_loss")
    assert [[r[k] for k in keys] for r in a.history[20:]] == [
        [r[k] for k in keys] for r in c.history[20:]
    ]
    for p, q in zip(a.G.parameters(), c.G.parameters()):
        assert torch.equal(p, q)
    # the log holds each step once, in order, after the resume
    steps = [
        r["step"]
        for r in map(
            json.loads, (tmp_path / "b" / "log.jsonl").read_text().splitlines()
        )
    ]
    assert steps == list(range(1, 41))


def test_resume_crosses_an_epoch_boundary_exactly(tmp_path):
    data = points(100)  # 3 batches of 32 per epoch
    a = Trainer(ring_cfg(), data=data, progress=False)
    a.fit(10)
    b = Trainer(ring_cfg(), tmp_path, data=data, progress=False)
    b.fit(4)
    b.save()
    c = Trainer.resume(tmp_path / "last.pt", data=data, progress=False)
    c.fit(10)
    assert [r["d_loss"] for r in a.history] == [r["d_loss"] for r in c.history]


def test_checkpoint_records_config_command_version(tmp_path):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False, command="my cmd")
    t.fit(3)
    ck = load_checkpoint(tmp_path / "last.pt", kind="train")
    assert ck["command"] == "my cmd" and ck["version"] and ck["step"] == 3
    assert ck["config"] == t.cfg.to_dict()
    assert (tmp_path / "log.jsonl").exists() and (tmp_path / "losses.png").exists()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "step_000000.png",
        "step_000003.png",
    ]


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False)
    t.fit(5)
    good = (tmp_path / "last.pt").read_bytes()

    def broken_save(obj, f, *a, **kw):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        t.save()
    monkeypatch.undo()
    assert (tmp_path / "last.pt").read_bytes() == good
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 5
    assert [p.name for p in tmp_path.iterdir() if "tmp" in p.name] == []


def test_killed_save_leaves_a_loadable_checkpoint(tmp_path):
    # A child process saves big checkpoints in a loop; we SIGKILL it mid-write.
    script = textwrap.dedent(f"""
        import sys, torch
        from gancourse.checkpoint import save_atomic
        i = 0
        while True:
            save_atomic({{"format": "gancourse", "kind": "train", "step": i,
                          "w": torch.full((4_000_000,), float(i))}},
                        {str(tmp_path)!r} + "/last.pt")
            i += 1
            if i == 2:
                print("ready", flush=True)
    """)
    p = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout.readline().strip() == "ready"
    import time

    time.sleep(0.37)
    p.send_signal(signal.SIGKILL)
    p.wait()
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["step"] >= 1 and torch.all(ck["w"] == ck["step"])


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False)
    t.fit(2)
    raw = (tmp_path / "last.pt").read_bytes()
    bad = tmp_path / "cut.pt"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        Trainer.resume(bad)
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a gancourse checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path):
    data = points()
    t = Trainer(ring_cfg(ckpt_every=5), tmp_path, data=data, progress=False)
    t.fit(10)
    saved = load_checkpoint(tmp_path / "last.pt")
    t.source.tensors["x"][:] = float("nan")  # poisoned data: D's loss becomes NaN
    with pytest.raises(
        TrainingDiverged, match=r"d_loss became nan at step 11.*step 10"
    ):
        t.fit(20)
    after = load_checkpoint(tmp_path / "last.pt")
    assert after["step"] == 10
    for k, v in saved["nets"]["G"].items():
        assert torch.equal(v, after["nets"]["G"][k]) and torch.isfinite(v).all()
    # the NaN weights in memory can never be saved
    with pytest.raises(TrainingDiverged):
        t.fit(25)
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 10
    events = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "diverged"


def test_ctrl_c_saves_and_returns(tmp_path):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False)
    orig = t.train_step

    def step_then_interrupt():
        out = orig()
        if t.step == 6:  # the 7th step: as if the user pressed Ctrl-C now
            signal.raise_signal(signal.SIGINT)
        return out

    t.train_step = step_then_interrupt
    before = signal.getsignal(signal.SIGINT)
    t.fit(100)  # returns instead of raising KeyboardInterrupt
    assert t.step == 7
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 7
    assert signal.getsignal(signal.SIGINT) == before  # our handler is removed again


def test_batch_larger_than_data_is_a_clear_error():
    with pytest.raises(ValueError, match="batch size"):
        Trainer(ring_cfg(), data=points(8), progress=False)
