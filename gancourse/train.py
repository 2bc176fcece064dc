"""One training loop for every GAN method.

The :class:`Trainer` owns what is common to all methods: device, seeds, data
order, optimisers, the D/G step schedule, the progress bar, fixed-noise sample
grids, JSON-lines logs, loss plots, checkpoints, exact resume, Ctrl-C and the
NaN guard. What D and G minimise comes from a :class:`gancourse.gans.base.GANMethod`.

One iteration (one ``step``) is Algorithm 1 of Goodfellow et al. (2014):
``n_d_steps`` updates of D, each on a fresh real batch and fresh ``z``, then one
update of G on *fresh* ``z``. (A common shortcut reuses the fakes D has just
seen for G's step; that couples the two updates and is not what the algorithm
says, so we draw new noise.)

Run folder layout (``out_dir``)::

    last.pt           resumable checkpoint (atomic writes)
    log.jsonl         one JSON object per logged step
    losses.png        loss curves, redrawn at the end of ``fit``
    samples/step_000500.png  fixed-noise sample grids
"""

from __future__ import annotations

import copy
import json
import os
import platform
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gancourse import __version__
from gancourse.checkpoint import FORMAT, FORMAT_VERSION, load_checkpoint, save_atomic
from gancourse.config import Config
from gancourse.gans import build_method
from gancourse.models import build_discriminator, build_generator

__all__ = [
    "Trainer",
    "TrainingDiverged",
    "resolve_device",
    "OPTIMIZERS",
    "LR_DECAYS",
    "lr_factor",
    "hardware",
]


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; training stopped without saving bad weights."""


def _adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas))


def _rmsprop(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=lr)


OPTIMIZERS = {"adam": _adam, "rmsprop": _rmsprop}
LR_DECAYS = ("none", "linear")
EVAL_REFERENCE_MAX = 10_000  # real images behind the domain FID's reference stats


def lr_factor(decay: str, step: int, steps: int) -> float:
    """Multiplier of the base learning rates before generator update ``step + 1``.

    ``"linear"``: ``1 - step / steps``, reaching 0 at ``steps`` (the schedule of
    the WGAN-GP CIFAR-10 ResNet, Gulrajani et al. 2017, appendix); ``"none"``: 1.
    A function of the step alone, so a resumed run continues the same schedule.
    """
    if decay == "linear":
        return max(0.0, 1.0 - step / max(steps, 1))
    return 1.0


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: cuda if available, else mps, else cpu; or ``torch.device(name)``."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def hardware(device: torch.device) -> str:
    """A short description of where training ran, for checkpoints and the book."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {torch.get_num_threads()} threads"


def _load_training_data(cfg: Config) -> tuple[Tensor, dict[str, Any]]:
    """All training samples as one tensor ``(N, *sample_shape)`` plus a data record."""
    from gancourse.data import dataset_source, load_dataset, to_tensors

    ds = load_dataset(cfg.data.name, cfg.data.split)
    X, _ = to_tensors(ds)
    if cfg.data.limit is not None:
        X = X[: cfg.data.limit]
    info = {
        "name": cfg.data.name,
        "split": cfg.data.split,
        "n": len(X),
        "source": dataset_source(cfg.data.name),
    }
    return X, info


class Trainer:
    """Trains ``G`` and ``D`` of ``cfg`` with the method ``cfg.method``.

    Args:
        cfg: the run's :class:`~gancourse.config.Config`.
        out_dir: run folder for checkpoints, logs and grids (``None``: keep
            everything in memory, write nothing).
        device: overrides ``cfg.train.device``.
        progress: show a ``tqdm.auto`` progress bar.
        command: the command line that started the run (stored in checkpoints).
        data: optional tensor ``(N, *sample_shape)`` of training samples in the
            data's range, used instead of loading ``cfg.data``.

    Attributes:
        G, D: the networks. ``G_ema``: moving average of G (``None`` unless
            ``train.ema_decay > 0``).
        step: generator updates done so far.
        history: every step's logged numbers, ``[{"step": 1, "d_loss": ...}, ...]``.
        samples: ``[(step, x_fake (n_samples, ...)), ...]`` from the fixed noise.
    """

    def __init__(
        self,
        cfg: Config,
        out_dir: str | os.PathLike | None = None,
        *,
        device: str | torch.device | None = None,
        progress: bool = True,
        command: str | None = None,
        data: Tensor | None = None,
    ):
        self.cfg = cfg
        t = cfg.train
        self.device = (
            device
            if isinstance(device, torch.device)
            else resolve_device(device or t.device)
        )
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress
        self.command = command if command is not None else " ".join(sys.argv)
        _seed_everything(t.seed)

        if data is None:
            X, self.data_info = _load_training_data(cfg)
        else:
            X, self.data_info = data, {"name": "tensor", "n": len(data)}
        if len(X) < cfg.data.batch_size:
            raise ValueError(
                f"only {len(X)} training samples but data.batch_size="
                f"{cfg.data.batch_size}; lower the batch size or raise data.limit"
            )
        self.X = X.to(self.device)
        self.sample_shape = tuple(X.shape[1:])

        self.G = build_generator(cfg.model, self.sample_shape).to(self.device)
        self.D = build_discriminator(cfg.model, self.sample_shape).to(self.device)
        self.method = build_method(cfg.method)
        self.method.check_models(self.G, self.D)
        if t.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown train.optimizer {t.optimizer!r}; choose one of "
                f"{', '.join(OPTIMIZERS)}"
            )
        self.opt_g = OPTIMIZERS[t.optimizer](self.G.parameters(), t.lr_g, t.betas)
        self.opt_d = OPTIMIZERS[t.optimizer](self.D.parameters(), t.lr_d, t.betas)
        if t.lr_decay not in LR_DECAYS:
            raise ValueError(
                f"unknown train.lr_decay {t.lr_decay!r}; choose one of "
                f"{', '.join(LR_DECAYS)}"
            )
        self.G_ema = copy.deepcopy(self.G).eval() if t.ema_decay > 0 else None
        self.evaluator = None
        if t.eval_every > 0:
            from gancourse.metrics.domain import DomainFID

            self.evaluator = DomainFID(
                cfg.data.name, X[:EVAL_REFERENCE_MAX], n=t.eval_n, device=self.device
            )

        self.step = 0
        self._epoch, self._cursor, self._perm = 0, 0, None
        # The fixed noise behind every sample grid has its own generator, so it is
        # the same for a given seed whatever else draws random numbers.
        g = torch.Generator().manual_seed(t.seed + 1)
        self.fixed_z = torch.randn(t.n_samples, cfg.model.z_dim, generator=g)
        self.history: list[dict[str, float]] = []
        self.samples: list[tuple[int, Tensor]] = []
        self.wall_time_s = 0.0
        self._segment_start: float | None = None  # perf_counter of the running fit
        self._last_saved_step: int | None = None
        self._stop_requested = False

    # -- data and noise -----------------------------------------------------------
    def _permutation(self, epoch: int) -> Tensor:
        # A permutation per (seed, epoch): resume needs only (epoch, cursor).
        g = torch.Generator().manual_seed(self.cfg.train.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.X), generator=g)

    def next_batch(self) -> Tensor:
        """The next real batch ``(B, *sample_shape)``; reshuffles every epoch."""
        B = self.cfg.data.batch_size
        if self._perm is None:
            self._perm = self._permutation(self._epoch)
        if self._cursor + B > len(self.X):  # drop the ragged end of an epoch
            self._epoch, self._cursor = self._epoch + 1, 0
            self._perm = self._permutation(self._epoch)
        idx = self._perm[self._cursor : self._cursor + B].to(self.device)
        self._cursor += B
        return self.X[idx]

    def sample_z(self, n: int) -> Tensor:
        """``z ~ N(0, I)``, shape ``(n, z_dim)``, on the training device."""
        return torch.randn(n, self.cfg.model.z_dim, device=self.device)

    # -- one step -------------------------------------------------------------------
    def _autocast(self):
        enabled = self.cfg.train.amp and self.device.type == "cuda"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def train_step(self) -> dict[str, float]:
        """``n_d_steps`` D updates, then one G update on fresh noise. Returns stats."""
        B = self.cfg.data.batch_size
        stats: dict[str, float] = {}
        self._set_learning_rates()
        self.G.train()
        self.D.train()
        self.D.requires_grad_(True)
        for _ in range(self.method.n_d_steps):
            x_real = self.next_batch()
            with self._autocast():
                d_loss, d_stats = self.method.d_loss(
                    self.G, self.D, x_real, self.sample_z(B)
                )
            self._guard("d_loss", d_loss)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            self.method.after_d_step(self.D)
            stats.update(d_stats)
        # G's step needs gradients *through* D, not *for* D's weights.
        self.D.requires_grad_(False)
        with self._autocast():
            g_loss, g_stats = self.method.g_loss(self.G, self.D, self.sample_z(B))
        self._guard("g_loss", g_loss)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        stats.update(g_stats)
        if self.G_ema is not None:
            _ema_update(self.G_ema, self.G, self.cfg.train.ema_decay)
        return stats

    def _set_learning_rates(self) -> None:
        t = self.cfg.train
        if t.lr_decay == "none":
            return
        f = lr_factor(t.lr_decay, self.step, t.steps)
        for opt, lr in ((self.opt_g, t.lr_g), (self.opt_d, t.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * f

    def _guard(self, name: str, loss: Tensor) -> None:
        if torch.isfinite(loss).all():
            return
        where = (
            f"the last good checkpoint is {self.ckpt_path} (step "
            f"{self._last_saved_step})"
            if self._last_saved_step is not None
            else "no checkpoint was written yet"
        )
        self._log_event(
            {"step": self.step + 1, "event": "diverged", name: float(loss.detach())}
        )
        raise TrainingDiverged(
            f"{name} became {float(loss.detach())} at step {self.step + 1}; training "
            "stopped and "
            f"nothing was saved from this step ({where}). Try a lower learning rate "
            "or resume from that checkpoint with another seed."
        )

    # -- the loop -------------------------------------------------------------------
    @property
    def ckpt_path(self) -> Path | None:
        return self.out_dir / "last.pt" if self.out_dir is not None else None

    def fit(self, steps: int | None = None) -> list[dict[str, float]]:
        """Train until ``step == steps`` (default ``cfg.train.steps``), or until
        ``train.max_time_s`` seconds of training (evaluation excluded) are spent.

        Ctrl-C (SIGINT) finishes the current step, saves ``last.pt`` and returns.
        A NaN / Inf loss raises :class:`TrainingDiverged` and keeps the last
        checkpoint. Returns :attr:`history`.
        """
        from tqdm.auto import tqdm

        t = self.cfg.train
        target = t.steps if steps is None else steps
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        restore = self._install_sigint_handler()
        bar = tqdm(
            total=target,
            initial=self.step,
            disable=not self.progress,
            desc=self.cfg.name,
            unit="step",
            dynamic_ncols=True,
        )
        if self.step == 0 and not self.samples:
            self._record_samples()
        t0 = self._segment_start = time.perf_counter()
        interrupted = False
        first_step = self.step
        try:
            while self.step < target:
                if self._stop_requested:
                    interrupted = True
                    break
                if self.step == first_step and self.out_of_time():
                    # a resumed run whose budget is spent: nothing to do or save
                    print(
                        f"{self.cfg.name}: time budget train.max_time_s="
                        f"{t.max_time_s:g} already used ({self._elapsed():.0f} s)"
                    )
                    break
                stats = self.train_step()
                self.step += 1
                bar.update(1)
                # the last step of this fit: the target, or the time budget is spent
                last = self.step == target or self.out_of_time()
                record = {"step": self.step, **stats}
                if self.evaluator is not None and (
                    self.step % t.eval_every == 0 or last
                ):
                    t_eval = time.perf_counter()
                    record["fid"] = self.evaluator(
                        self.G_ema if self.G_ema is not None else self.G
                    )
                    # evaluation is not training: keep it out of the wall time
                    t0 += time.perf_counter() - t_eval
                    self._segment_start = t0
                self.history.append(record)
                if self.step % t.log_every == 0 or last or "fid" in record:
                    self._log_event(record)
                    bar.set_postfix(
                        {
                            k: f"{v:.3f}"
                            for k, v in record.items()
                            if k in ("d_loss", "g_loss", "fid")
                        }
                    )
                if self.step % t.sample_every == 0 or last:
                    self._record_samples()
                if self.step % t.ckpt_every == 0 or last:
                    self.wall_time_s += time.perf_counter() - t0
                    t0 = self._segment_start = time.perf_counter()
                    self.save()
                if last:
                    break
        except KeyboardInterrupt:  # a second Ctrl-C, or one outside our handler
            interrupted = True
        finally:
            self.wall_time_s += time.perf_counter() - t0
            self._segment_start = None
            bar.close()
            restore()
        if interrupted:
            path = self.save()
            if path is not None:
                print(
                    f"Interrupted at step {self.step}; saved {path}. Resume with: "
                    f"gancourse train --resume {path}"
                )
            self._stop_requested = False
        if self.out_dir is not None and self.history:
            from gancourse.viz import plot_losses

            plot_losses(self.history, path=self.out_dir / "losses.png")
        return self.history

    def out_of_time(self) -> bool:
        """True once ``train.max_time_s`` (> 0) seconds of training are spent."""
        budget = self.cfg.train.max_time_s
        return budget > 0 and self._elapsed() >= budget

    def _install_sigint_handler(self):
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            # first Ctrl-C: stop at the end of this step; a second one interrupts now
            self._stop_requested = True
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, previous)

    # -- samples and logs -------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, ema: bool = True) -> Tensor:
        """``G(z)`` in eval mode (BatchNorm running statistics), on the CPU."""
        G = self.G_ema if (ema and self.G_ema is not None) else self.G
        was_training = G.training
        G.eval()
        x = G(z.to(self.device)).float().cpu()
        G.train(was_training)
        return x

    def _record_samples(self) -> None:
        x = self.generate(self.fixed_z)
        self.samples.append((self.step, x))
        if self.out_dir is not None:
            from gancourse.viz import save_samples

            save_samples(
                x,
                self.out_dir / "samples" / f"step_{self.step:06d}.png",
                title=f"{self.cfg.name}, step {self.step}",
            )

    def _log_event(self, record: dict[str, Any]) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / "log.jsonl", "a") as f:
            f.write(
                json.dumps({**record, "wall_time_s": round(self._elapsed(), 3)}) + "\n"
            )

    def _elapsed(self) -> float:
        """Training seconds so far, including the segment now running."""
        running = self._segment_start
        return self.wall_time_s + (time.perf_counter() - running if running else 0.0)

    # -- checkpoints --------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where we are."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "train",
            "version": __version__,
            "command": self.command,
            "config": self.cfg.to_dict(),
            "sample_shape": list(self.sample_shape),
            "data": dict(self.data_info),
            "hardware": hardware(self.device),
            "wall_time_s": self.wall_time_s,
            "step": self.step,
            "epoch": self._epoch,
            "cursor": self._cursor,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "fixed_z": self.fixed_z,
            "rng": _rng_state(),
            "history": self.history,
        }

    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the training state atomically (default ``out_dir/last.pt``)."""
        path = Path(path) if path is not None else self.ckpt_path
        if path is None:
            return None
        save_atomic(self.state_dict(), path)
        self._last_saved_step = self.step
        return path

    def load_state_dict(self, ckpt: dict[str, Any]) -> None:
        self.G.load_state_dict(ckpt["G"])
        self.D.load_state_dict(ckpt["D"])
        if self.G_ema is not None and ckpt.get("G_ema") is not None:
            self.G_ema.load_state_dict(ckpt["G_ema"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        self.step = int(ckpt["step"])
        self._epoch, self._cursor = int(ckpt["epoch"]), int(ckpt["cursor"])
        self._perm = None if self._cursor == 0 else self._permutation(self._epoch)
        self.fixed_z = ckpt["fixed_z"]
        self.wall_time_s = float(ckpt.get("wall_time_s", 0.0))
        self.history = list(ckpt.get("history", []))
        self._last_saved_step = self.step
        _set_rng_state(ckpt["rng"])

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike,
        out_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> Trainer:
        """Rebuild a Trainer from ``last.pt`` and continue exactly where it stopped.

        ``out_dir`` defaults to the checkpoint's folder; the log is cut back to the
        checkpoint's step so it never holds steps that will be re-run.
        """
        ckpt = load_checkpoint(path, kind="train")
        cfg = Config.from_dict(ckpt["config"])
        out = Path(out_dir) if out_dir is not None else Path(path).parent
        kwargs.setdefault("command", ckpt.get("command"))
        trainer = cls(cfg, out, **kwargs)
        trainer.load_state_dict(ckpt)
        _truncate_log(out / "log.jsonl", trainer.step)
        return trainer


# -- helpers --------------------------------------------------------------------------
def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))


@torch.no_grad()
def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def _truncate_log(log: Path, step: int) -> None:
    if not log.exists():
        return
    keep = []
    for line in log.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill: drop it
    log.write_text("".join(k + "\n" for k in keep))
