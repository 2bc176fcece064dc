"""The generalised training core: parity with the landed core, old checkpoints,
the method mechanisms (named networks, groups, phases that reuse a batch and a
graph, non-network state, hooks, a step-dependent loss), sources (memory vs
stream, folders, labels), config and resume rules.

Reference values never come from the code under test: the parity numbers and
the format-1 checkpoint were made by the core of commit 9591264
(``tools/record_parity.py``, ``tests/data/make_v1_checkpoint.py``).
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from gancourse.checkpoint import load_checkpoint
from gancourse.cli import main as cli
from gancourse.config import PRESETS, ConfigError, MethodConfig
from gancourse.data.source import BatchOrder, build_source, split_batch
from gancourse.gans import METHODS, GANMethod, Phase
from gancourse.gans.template import TemplateGAN
from gancourse.losses import d_minimax, g_nonsaturating
from gancourse.train import Trainer, TrainingDiverged, lr_factor

DATA = Path(__file__).parent / "data"


def ring_cfg(**sets):
    cfg = PRESETS["vanilla-ring8"].fast()
    base = {
        "train.log_every": 1,
        "train.sample_every": 1000,
        "train.ckpt_every": 1000,
        "data.batch_size": 32,
        "model.g_width": 16,
        "model.d_width": 16,
    }
    return cfg.override({**base, **sets})


def points(n=512, seed=0):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


# -- parity with the core this one replaced -------------------------------------------
def test_parity_with_the_landed_core():
    """The first 20 steps' logged numbers equal, bit for bit, those recorded with the
    core of 9591264: the new core keeps its random draw order (G and D built in the
    same order, a per-epoch permutation, z for the global batch from the global
    generator, one penalty coefficient per sample after z)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "record_parity", Path(__file__).parents[1] / "tools" / "record_parity.py"
    )
    rp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rp)
    ref = json.loads((DATA / "parity.json").read_text())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, (cfg, kind) in rp.runs().items():
            tr = Trainer(cfg, data=rp.synthetic(kind), device="cpu", progress=False)
            tr.fit(rp.STEPS)
            got = [{k: v for k, v in r.items() if k != "step"} for r in tr.history]
            assert got == ref[name]["steps"], name
    finally:
        torch.set_num_threads(threads)


def test_format_1_checkpoint_resumes_exactly(tmp_path):
    """A last.pt written by the old core (step 5) resumes in the new one, and steps
    6-10 are the ones the old core trained after it."""
    ref = json.loads((DATA / "v1_ring_next.json").read_text())
    data = torch.randn(512, 2, generator=torch.Generator().manual_seed(7))
    ckpt = tmp_path / "last.pt"
    ckpt.write_bytes((DATA / "v1_ring_step5.pt").read_bytes())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tr = Trainer.resume(ckpt, data=data, progress=False)
        assert tr.step == 5 and tr.G_ema is not None
        tr.fit(10)
    finally:
        torch.set_num_threads(threads)
    got = [{"d_loss": r["d_loss"], "g_loss": r["g_loss"]} for r in tr.history[-5:]]
    assert got == ref["steps_6_to_10"]


# -- a method that uses every mechanism -----------------------------------------------
@dataclass(frozen=True)
class ToyPairConfig(MethodConfig):
    name: str = "toy-pair"
    warmup: int = 3
    pool: int = 4


class ToyPair(GANMethod):
    """Paired translation in miniature: G maps x_src to x; D judges (x_src, x)
    pairs. D's phase computes the fakes once (with a graph, ``keep_graph``), G's
    phase reuses them and the batch; a pool of past fakes with its own random
    generator is non-network state; the L1 weight ramps up (a step-dependent
    loss); ``on_gradients`` counts its calls."""

    Config = ToyPairConfig
    needs = ("x_src", "x")
    ema_networks = ()

    def build(self, model_cfg, spec):
        c = spec.shapes["x"][0]
        self.spec = spec
        self.nets = nn.ModuleDict(
            {
                "G": nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.Tanh()),
                "D": nn.Sequential(nn.Conv2d(2 * c, 1, 8), nn.Flatten()),  # (N, 1)
            }
        )
        self.gen = torch.Generator().manual_seed(0)
        self.stored: list[torch.Tensor] = []
        self.grad_calls = 0
        return self.nets

    def phases(self):
        return (
            Phase("D", keep_graph=("G",)),
            Phase("G", batch="reuse"),
        )

    def _pooled(self, x_fake):
        if len(self.stored) < self.cfg.pool:
            self.stored.append(x_fake[:1].detach().clone())
            return x_fake
        i = int(torch.randint(len(self.stored), (1,), generator=self.gen))
        old, self.stored[i] = self.stored[i], x_fake[:1].detach().clone()
        return torch.cat([old, x_fake[1:]])

    def d_loss(self, batch, ctx):
        x_fake = self.G(batch["x_src"])
        ctx.memo["x_fake"] = x_fake  # with a graph into G, for G's phase
        pooled = self._pooled(x_fake.detach())
        logits_real = self.D(torch.cat([batch["x_src"], batch["x"]], 1))
        logits_fake = self.D(torch.cat([batch["x_src"], pooled], 1))
        return d_minimax(logits_real, logits_fake), {}

    def g_loss(self, batch, ctx):
        x_fake = ctx.memo["x_fake"]
        weight = min(1.0, (ctx.step + 1) / self.cfg.warmup)
        adv = g_nonsaturating(self.D(torch.cat([batch["x_src"], x_fake], 1)))
        l1 = (x_fake - batch["x"]).abs().mean()
        return adv + weight * l1, {"l1_weight": torch.tensor(weight)}

    def on_gradients(self, phase, step):
        self.grad_calls += 1

    def state_dict(self):
        return {"stored": list(self.stored), "gen": self.gen.get_state()}

    def load_state_dict(self, state):
        if state:
            self.stored = list(state["stored"])
            self.gen.set_state(state["gen"])

    def sample_inputs(self, n, generator=None, examples=None):
        g = torch.Generator().manual_seed(5)
        return {"x_src": torch.rand(n, *self.spec.shapes["x_src"], generator=g)}

    def generate(self, inputs, nets=None):
        nets = self.nets if nets is None else nets
        return nets["G"](inputs["x_src"])


@pytest.fixture
def toy_pair(monkeypatch):
    monkeypatch.setitem(METHODS, "toy-pair", ToyPair)


def write_paired(root: Path, n: int = 12, size: int = 8) -> Path:
    g = torch.Generator().manual_seed(3)
    (root / "train").mkdir(parents=True)
    for i in range(n):
        a = (torch.rand(size, size, 3, generator=g) * 255).to(torch.uint8)
        b = 255 - a  # the target: the negative of the input
        Image.fromarray(torch.cat([a, b], 1).numpy()).save(root / "train" / f"{i}.png")
    return root


def pair_cfg(root, **sets):
    cfg = ring_cfg().override(
        {
            "method.name": "toy-pair",
            "data.name": "paired",
            "data.root": str(root),
            "data.image_size": 8,
            "data.batch_size": 4,
            "data.workers": 0,
            "train.n_samples": 4,
        }
    )
    return cfg.override(sets)


def test_method_mechanisms_and_exact_resume_with_method_state(toy_pair, tmp_path):
    root = write_paired(tmp_path / "pairs")
    cfg = pair_cfg(root)
    a = Trainer(cfg, tmp_path / "a", progress=False)
    a.fit(8)
    assert a.method.grad_calls == 16  # one per optimiser step, D and G
    assert [r["l1_weight"] for r in a.history[:4]] == pytest.approx(
        [1 / 3, 2 / 3, 1, 1]
    )
    b = Trainer(cfg, tmp_path / "b", progress=False)
    b.fit(5)  # the pool (4) is full and has swapped fakes: its state matters
    assert len(b.method.stored) == 4
    b.save()
    c = Trainer.resume(tmp_path / "b" / "last.pt", progress=False)
    c.fit(8)
    keys = ("d_loss", "g_loss")
    assert [[r[k] for k in keys] for r in a.history] == [
        [r[k] for k in keys] for r in c.history
    ]
    for p, q in zip(a.nets.parameters(), c.nets.parameters()):
        assert torch.equal(p, q)
    for s, t in zip(a.method.stored, c.method.stored):
        assert torch.equal(s, t)


def test_reused_fakes_carry_a_graph_into_g_only_in_g_phase(toy_pair, tmp_path):
    root = write_paired(tmp_path / "pairs")
    t = Trainer(pair_cfg(root), progress=False)
    seen = {}
    for group, opt in t.optimizers.items():
        orig = opt.step

        def spy(*a, _orig=orig, _group=group, **kw):
            seen[_group] = {
                name: [
                    None if p.grad is None else p.grad.clone() for p in net.parameters()
                ]
                for name, net in t.nets.items()
            }
            return _orig(*a, **kw)

        opt.step = spy
    t.fit(1)
    # D's step: only D has gradients (the fakes were detached for D)
    assert all(g is None for g in seen["D"]["G"])
    assert all(g is not None for g in seen["D"]["D"])
    # G's step: G got its gradient through the fakes computed in D's phase, and D
    # (frozen) got nothing new
    assert all(g is not None for g in seen["G"]["G"])
    for before, after in zip(seen["D"]["D"], seen["G"]["D"]):
        assert torch.equal(before, after)


def test_a_method_needing_keys_the_data_lacks_is_refused(toy_pair):
    cfg = ring_cfg(**{"method.name": "toy-pair"})
    with pytest.raises(ValueError, match="needs batches with x_src"):
        Trainer(cfg, data=points(), progress=False)


def test_template_method_trains(monkeypatch):
    monkeypatch.setitem(METHODS, "template", TemplateGAN)
    t = Trainer(ring_cfg(**{"method.name": "template"}), data=points(), progress=False)
    t.fit(3)
    assert t.step == 3 and {"d_loss", "g_loss", "logits_real"} <= set(t.history[-1])


# -- sources -------------------------------------------------------------------------
def test_split_batch_covers_the_global_batch_once():
    parts = [s for r in range(2) for s in split_batch(8, r, 2, 2)]
    assert [list(range(8))[s] for s in parts] == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_batch_order_is_a_permutation_per_epoch_and_balanced_draws_equalise():
    order = BatchOrder(10, seed=1)
    seen = torch.cat([order.take(5)[0], order.take(5)[0]])
    assert sorted(seen.tolist()) == list(range(10))
    labels = torch.tensor([0] * 90 + [1] * 10)
    weights = 1.0 / torch.bincount(labels).double()[labels]
    draws = BatchOrder(100, seed=0, weights=weights).order(0)
    share = (labels[draws] == 1).float().mean().item()
    assert 0.4 < share < 0.6  # a permutation would give 0.10


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_data_trains_exactly_like_memory_and_resumes(tmp_path, workers):
    data = points()
    a = Trainer(ring_cfg(), data=data, progress=False)
    a.fit(6)
    stream = ring_cfg(**{"data.loader": "stream", "data.workers": workers})
    b = Trainer(stream, tmp_path, data=data, progress=False)
    b.fit(3)
    b.save()
    c = Trainer.resume(tmp_path / "last.pt", data=data, progress=False)
    c.fit(6)
    assert [r["d_loss"] for r in a.history] == [r["d_loss"] for r in c.history]


def test_labels_are_loaded_for_named_datasets():
    from gancourse.config import DataConfig
    from gancourse.data import load_dataset

    src = build_source(DataConfig(name="mnist", limit=100))
    assert src.spec.keys == ("x", "y") and src.spec.n_classes == 10
    ds = load_dataset("mnist")
    batch = src.fetch(torch.arange(5))
    for i in range(5):
        x, y = ds[i]
        assert int(batch["y"][i]) == y and torch.equal(batch["x"][i], x)


def test_folder_of_images_trains_with_labels(tmp_path):
    g = torch.Generator().manual_seed(0)
    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(6):
            arr = (torch.rand(40, 36, 3, generator=g) * 255).to(torch.uint8).numpy()
            Image.fromarray(arr).save(tmp_path / "imgs" / cls / f"{i}.png")
    cfg = (
        PRESETS["dcgan-mnist"]
        .fast()
        .override(
            {
                "data.name": "folder",
                "data.root": str(tmp_path / "imgs"),
                "data.image_size": 32,
                "data.flip": True,
                "data.batch_size": 4,
                "data.workers": 0,
                "model.img_size": 32,
                "model.img_channels": 3,
                "train.n_samples": 4,
            }
        )
    )
    t = Trainer(cfg, progress=False)
    assert t.spec.keys == ("x", "y") and t.spec.n_classes == 2
    assert t.spec.shapes["x"] == (3, 32, 32)
    t.fit(2)
    assert t.samples[-1][1].shape == (4, 3, 32, 32)


# -- config and resume rules ---------------------------------------------------------
@pytest.mark.parametrize(
    "sets,message",
    [
        ({"data.batch_size": 0}, "data.batch_size must be >= 1"),
        ({"train.lr_d": -1e-4}, "train.lr_d must be >= 0"),
        ({"train.betas": "0.5,1.0"}, "train.betas"),
        ({"method.clip_c": 0.1}, "valid keys: name, g_loss, n_d_steps"),
        ({"model.d_norm": "layer"}, r"model \(arch=mlp\) key"),
    ],
)
def test_config_values_out_of_range_are_one_line_errors(sets, message):
    with pytest.raises(ConfigError, match=message):
        PRESETS["vanilla-ring8"].override(sets)


def test_image_size_that_does_not_match_the_data_is_refused():
    cfg = PRESETS["dcgan-mnist"].fast().override({"model.img_size": 32})
    with pytest.raises(ValueError, match=r"model.img_size=32 .* 28x28"):
        Trainer(cfg, data=torch.rand(64, 1, 28, 28) * 2 - 1, progress=False)


def test_cli_reports_a_bad_value_in_one_line(capsys):
    assert cli(["train", "--preset", "dcgan-mnist", "--set", "data.batch_size=0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.batch_size must be >= 1" in err[0]


def test_linear_decay_cannot_run_past_its_end():
    cfg = ring_cfg(**{"train.lr_decay": "linear", "train.steps": 10})
    t = Trainer(cfg, data=points(), progress=False)
    with pytest.raises(ConfigError, match="Set train.steps=12"):
        t.fit(12)


def test_constant_then_linear_schedule():
    # CycleGAN / Pix2Pix: constant for 100 epochs, then linear to 0 over 100
    assert [lr_factor("linear", s, 200, 100) for s in (0, 99, 100, 150, 199)] == [
        1.0,
        1.0,
        1.0,
        0.5,
        pytest.approx(0.01),
    ]


def test_ema_copies_until_its_start_step_then_averages():
    cfg = ring_cfg(**{"train.ema_decay": 0.5, "train.ema_start": 2})
    t = Trainer(cfg, data=points(), progress=False)
    t.fit(2)  # steps 0 and 1 copy
    for p, q in zip(t.G.parameters(), t.G_ema.parameters()):
        assert torch.equal(p, q)
    before = [p.clone() for p in t.G_ema.parameters()]
    t.fit(3)  # step 2 averages: ema = (ema + G) / 2
    for b, p, q in zip(before, t.G.parameters(), t.G_ema.parameters()):
        assert torch.allclose(q, (b + p) / 2)


def test_resume_applies_safe_overrides_and_refuses_the_rest(tmp_path, capsys):
    t = Trainer(ring_cfg(), tmp_path / "run", data=points(), progress=False)
    t.fit(3)
    last = tmp_path / "run" / "last.pt"
    with pytest.raises(ConfigError, match="cannot change train.lr_g"):
        Trainer.resume(last, overrides=["train.lr_g=1"], data=points())
    r = Trainer.resume(
        last,
        out_dir=tmp_path / "elsewhere",
        overrides=["train.log_every=2"],
        data=points(),
        progress=False,
    )
    assert r.cfg.train.log_every == 2 and r.out_dir == tmp_path / "elsewhere"
    r.fit(5)
    assert load_checkpoint(last)["step"] == 3  # the original is untouched
    assert load_checkpoint(tmp_path / "elsewhere" / "last.pt")["step"] == 5
    code = cli(["train", "--resume", str(last), "--fast"])
    assert code == 2 and "--resume continues a run" in capsys.readouterr().err


def test_second_ctrl_c_inside_a_step_saves_nothing(tmp_path, capsys):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False)
    t.fit(2)
    t.save()
    orig = t.method.g_loss

    def interrupted_g_loss(batch, ctx):
        if ctx.step == 4:  # inside step 5, after D's update
            signal.raise_signal(signal.SIGINT)  # first Ctrl-C: finish the step...
            raise KeyboardInterrupt  # ...then a second one arrives mid-step
        return orig(batch, ctx)

    t.method.g_loss = interrupted_g_loss
    with pytest.raises(KeyboardInterrupt):
        t.fit(10)
    assert "half-done step was not saved" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 2


def test_checkpoint_holds_no_per_step_history(tmp_path):
    t = Trainer(ring_cfg(), tmp_path, data=points(), progress=False)
    t.fit(30)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert "history" not in ckpt and ckpt["evals"] == []
    assert ckpt["batch"] == {"global": 32, "world_size": 1, "accum": 1}


def test_nan_guard_checks_before_every_save(tmp_path):
    # logging only every 100 steps: the check before the save still catches it
    t = Trainer(
        ring_cfg(**{"train.log_every": 100, "train.ckpt_every": 4}),
        tmp_path,
        data=points(),
        progress=False,
    )
    t.fit(4)
    t.source.tensors["x"][:] = float("inf")
    with pytest.raises(TrainingDiverged, match="at step 5"):
        t.fit(8)
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 4


def test_compile_leaves_double_backward_networks_eager(monkeypatch):
    compiled = []
    monkeypatch.setattr(
        nn.Module, "compile", lambda self, *a, **k: compiled.append(self)
    )
    cfg = (
        PRESETS["wgangp-ring8"]
        .fast()
        .override({"train.compile": True, "model.g_width": 8, "model.d_width": 8})
    )
    t = Trainer(cfg, data=points(), progress=False)
    assert compiled == [t.G]  # the penalised critic stays eager


def test_bf16_autocast_step_runs_on_cpu():
    cfg = ring_cfg(**{"train.amp": True})
    t = Trainer(cfg, data=points(), progress=False)
    t.fit(2)
    assert all(torch.isfinite(torch.tensor(r["d_loss"])) for r in t.history)


def test_channels_last_step_runs_and_keeps_the_numbers():
    cfg = PRESETS["dcgan-mnist"].fast().override({"data.batch_size": 16})
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    a = Trainer(cfg, data=x, progress=False)
    a.fit(2)
    b = Trainer(cfg.override({"train.channels_last": True}), data=x, progress=False)
    b.fit(2)
    conv = next(m for m in b.G.modules() if isinstance(m, nn.ConvTranspose2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for r, s in zip(a.history, b.history):
        assert r["d_loss"] == pytest.approx(s["d_loss"], rel=1e-4)


def test_export_and_sample_a_method_with_its_own_inputs(toy_pair, tmp_path, capsys):
    root = write_paired(tmp_path / "pairs")
    t = Trainer(pair_cfg(root), tmp_path / "run", progress=False)
    t.fit(2)
    dest = tmp_path / "shipped"
    code = cli(
        [
            "export",
            "--ckpt",
            str(tmp_path / "run" / "last.pt"),
            "--name",
            "toy",
            "--dest",
            str(dest),
        ]
    )
    assert code == 0
    shipped = load_checkpoint(dest / "toy.pt", kind="pretrained")
    assert set(shipped["nets"]) == {"G"} and shipped["spec"]["keys"] == ["x_src", "x"]
    out = tmp_path / "grid.png"
    assert (
        cli(["sample", "--ckpt", str(dest / "toy.pt"), "--n", "4", "--out", str(out)])
        == 0
    )
    assert out.exists()
    # the sampler generates from the method's own inputs (an image, not z)
    from gancourse.pretrained import sampler_from_checkpoint

    sampler = sampler_from_checkpoint(shipped)
    x = sampler.sample(3)
    expected = t.G.float()(t.method.sample_inputs(3)["x_src"]).detach()
    assert torch.allclose(x, expected, atol=1e-2)  # float16 weights in the file


def test_networks_learn_again_after_fit():
    t = Trainer(ring_cfg(), data=points(), progress=False)
    t.fit(2)
    assert all(p.requires_grad for p in t.nets.parameters())


def test_weights_broken_by_the_last_update_are_never_saved(tmp_path):
    t = Trainer(
        ring_cfg(**{"train.ckpt_every": 2}), tmp_path, data=points(), progress=False
    )
    t.fit(2)

    def poison(phase, step):
        if phase.group == "G" and step == 3:  # G's update of the 4th step
            with torch.no_grad():
                next(t.G.parameters()).fill_(float("nan"))

    t.method.after_update = poison
    with pytest.raises(TrainingDiverged, match="weight became NaN"):
        t.fit(4)  # the logged losses of step 4 were computed before the poison
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 2
    with pytest.raises(TrainingDiverged, match="cannot continue"):
        t.fit(6)  # sticky until a checkpoint is loaded


def test_keyed_noise_needs_the_same_draws_in_every_micro_batch(monkeypatch):
    monkeypatch.setitem(METHODS, "template", TemplateGAN)
    t = Trainer(
        ring_cfg(**{"method.name": "template", "train.accum": 2}),
        data=points(),
        progress=False,
    )
    orig = t.method.d_loss

    seen = []

    def uneven(batch, ctx):
        if seen:
            ctx.rand(5)  # the second micro-batch makes a draw the first did not
        seen.append(ctx.n)
        return orig(batch, ctx)

    t.method.d_loss = uneven
    with pytest.raises(RuntimeError, match="same sequence of ctx draws"):
        t.fit(1)


def test_phase_every_and_frozen_networks(monkeypatch):
    class Lazy(TemplateGAN):
        frozen = ("F",)

        def build(self, model_cfg, spec):
            super().build(model_cfg, spec)
            self.nets["F"] = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            self.seen = []
            return self.nets

        def phases(self):
            return (*super().phases(), Phase("R", group="D", every=3))

        def r_loss(self, batch, ctx):
            self.seen.append(ctx.step)
            assert not self.F.training
            assert not any(p.requires_grad for p in self.F.parameters())
            return self.D(self.F(batch["x"])).pow(2).mean(), {}

    monkeypatch.setitem(METHODS, "template", Lazy)
    t = Trainer(ring_cfg(**{"method.name": "template"}), data=points(), progress=False)
    f0 = [p.clone() for p in t.nets["F"].parameters()]
    t.fit(7)
    assert t.method.seen == [0, 3, 6]
    assert all(torch.equal(a, b) for a, b in zip(f0, t.nets["F"].parameters()))


@pytest.mark.parametrize(
    "preset,sets,message",
    [
        ("dcgan-mnist", ["model.img_size=32"], "model.img_size=32 but the data"),
        ("cgan-mnist", ["method.name=vanilla"], "is class-conditional"),
        ("wgangp-mnist", ["model.d_norm=batch"], "critic has BatchNorm"),
    ],
)
def test_config_that_does_not_fit_the_data_is_one_line(
    preset, sets, message, tmp_path, capsys
):
    args = ["train", "--preset", preset, "--fast", "--out", str(tmp_path)]
    for s in sets:
        args += ["--set", s]
    assert cli(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
