"""One training loop for every GAN method.

The :class:`Trainer` owns what is common to all methods, identically: device and
processes (torchrun), seeds, data order, optimisers, the phase loop with
``requires_grad`` per phase, AMP, ``torch.compile``, gradient accumulation, EMA,
learning-rate schedules, the NaN guard, the progress bar, fixed-input sample
grids, JSON-lines logs, loss plots, checkpoints, exact resume, Ctrl-C and the time
budget. What the networks minimise, and in which phases, comes from a
:class:`gancourse.gans.base.GANMethod`; the Trainer never knows which one.

One training ``step`` runs the method's phases in order. For each phase and
each of its ``repeat`` s: draw the phase's batch, zero the group's gradients, run
the phase's loss on every micro-batch and backpropagate it (divided by the number
of micro-batches), average the gradients over processes, call the method's
``on_gradients`` hook, take the optimiser step, call ``after_update``.

Run folder layout (``out_dir``)::

    last.pt           resumable checkpoint (atomic writes)
    log.jsonl         one JSON object per logged step (means over the last steps)
    losses.png        loss curves, redrawn at the end of ``fit``
    samples/step_000500.png  fixed-input sample grids
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
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gancourse import __version__
from gancourse.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    load_checkpoint,
    save_atomic,
    upgrade_checkpoint,
)
from gancourse.config import Config, ConfigError
from gancourse.data.source import BatchStream, build_source
from gancourse.distributed import (
    World,
    all_reduce_mean_,
    any_process,
    init_world,
    mean_over_processes,
)
from gancourse.gans import build_method
from gancourse.gans.base import Batch, Phase, StepContext
from gancourse.sampling import Sampler

__all__ = [
    "Trainer",
    "TrainingDiverged",
    "resolve_device",
    "OPTIMIZERS",
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
EVAL_REFERENCE_MAX = 10_000  # real images behind the domain FID's reference stats


def lr_factor(decay: str, step: int, steps: int, start: int = 0) -> float:
    """Multiplier of the base learning rates for the update of step ``step + 1``.

    ``"linear"``: 1 until ``start``, then ``1 - (step - start) / (steps - start)``,
    reaching 0 at ``steps``. ``start = 0`` is the WGAN-GP CIFAR-10 schedule
    (Gulrajani et al. 2017, appendix); ``start = steps / 2`` is Pix2Pix's and
    CycleGAN's "constant, then linear to zero". ``"none"``: 1. A function of the
    step alone, so a resumed run continues the same schedule.
    """
    if decay == "linear" and step >= start:
        return max(0.0, 1.0 - (step - start) / max(steps - start, 1))
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


def hardware(device: torch.device, world_size: int = 1) -> str:
    """A short description of where training ran, for checkpoints and the book."""
    if device.type == "cuda":
        what = f"{torch.cuda.get_device_name(device)} (CUDA)"
    else:
        cpu = platform.processor() or platform.machine()
        what = f"CPU {cpu}, {torch.get_num_threads()} threads"
    return what if world_size == 1 else f"{world_size} processes x {what}"


class Trainer:
    """Trains the networks of ``cfg.method`` on ``cfg.data``.

    Args:
        cfg: the run's :class:`~gancourse.config.Config`.
        out_dir: run folder for checkpoints, logs and grids (``None``: keep
            everything in memory, write nothing).
        device: overrides ``cfg.train.device``.
        progress: show a ``tqdm.auto`` progress bar.
        command: the command line that started the run (stored in checkpoints).
        data: optional tensor ``(N, *sample_shape)`` of samples (or a dict of
            tensors such as ``{"x": ..., "y": ...}``) used instead of ``cfg.data``.

    Attributes:
        method: the :class:`~gancourse.gans.base.GANMethod`; its networks are
            ``method.nets`` (``trainer.G`` and ``trainer.D`` for short).
        ema: moving averages of the method's ``ema_networks`` (``{}`` unless
            ``train.ema_decay > 0``); ``G_ema`` for short.
        optimizers: one per optimiser group (``opt_g`` / ``opt_d`` for short).
        step: training steps done so far.
        history: the logged records, ``[{"step": 25, "d_loss": ...}, ...]``: each
            number is the mean over the steps since the previous record.
        samples: ``[(step, x_fake (n_samples, ...)), ...]`` from the fixed inputs.
    """

    def __init__(
        self,
        cfg: Config,
        out_dir: str | os.PathLike | None = None,
        *,
        device: str | torch.device | None = None,
        progress: bool = True,
        command: str | None = None,
        data: Tensor | dict[str, Tensor] | None = None,
    ):
        self.cfg = cfg
        t = cfg.train
        device = (
            device
            if isinstance(device, torch.device)
            else resolve_device(device or t.device)
        )
        self.world: World = init_world(device)
        self.device = self.world.device
        self.out_dir = (
            Path(out_dir) if out_dir is not None and self.world.is_main else None
        )
        self.progress = progress and self.world.is_main
        self.command = command if command is not None else " ".join(sys.argv)
        if t.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown train.optimizer {t.optimizer!r}; choose one of "
                f"{', '.join(OPTIMIZERS)}"
            )
        _seed_everything(t.seed)

        channels = getattr(cfg.model, "img_channels", None)
        self.source = build_source(cfg.data, self.device, data, channels)
        self.spec = self.source.spec
        self.data_info = dict(self.source.info)
        self.method = build_method(cfg.method)
        missing = [k for k in self.method.needs if k not in self.spec.keys]
        if missing:
            raise ConfigError(
                f"method {cfg.method.name} needs batches with {', '.join(missing)}, "
                f"but {self.data_info.get('name')} yields "
                f"{', '.join(self.spec.keys)}; choose data that has them"
            )
        self.method.build(cfg.model, self.spec)
        self.nets = self.method.nets.to(self.device)
        if t.channels_last:
            self.nets.to(memory_format=torch.channels_last)
        self.batches = BatchStream(
            self.source,
            cfg.data.batch_size,
            rank=self.world.rank,
            world=self.world.size,
            accum=t.accum,
            seed=t.seed,
            balanced=cfg.data.balanced,
            device=self.device,
        )
        self.phases: tuple[Phase, ...] = tuple(self.method.phases())
        self.optimizers = self._build_optimizers()
        self.ema: dict[str, nn.Module] = {}
        if t.ema_decay > 0:
            self.ema = {
                name: copy.deepcopy(self.nets[name]).eval().requires_grad_(False)
                for name in self.method.ema_networks
            }
        if t.compile:
            for name, net in self.nets.items():
                if name not in self.method.double_backward:
                    net.compile()
        self.evaluator = None
        if t.eval_every > 0:
            from gancourse.metrics.domain import DomainFID

            x_ref = self.source.examples(EVAL_REFERENCE_MAX)["x"]
            with torch.random.fork_rng(devices=[]):  # building the judge draws
                self.evaluator = DomainFID(
                    cfg.data.name,  # the judge of the domain (also for data= tensors)
                    x_ref,
                    n=t.eval_n,
                    device=self.device,
                )

        self.step = 0
        # The fixed inputs behind every sample grid have their own generator, so
        # they are the same for a given seed whatever else draws random numbers.
        g = torch.Generator().manual_seed(t.seed + 1)
        examples = self.source.examples(t.n_samples)
        self.fixed_inputs: Batch = self.method.sample_inputs(t.n_samples, g, examples)
        self.history: list[dict[str, Any]] = []
        self.evals: list[dict[str, Any]] = []
        self.samples: list[tuple[int, Tensor]] = []
        self.wall_time_s = 0.0
        self._segment_start: float | None = None  # perf_counter of the running fit
        self._last_saved_step: int | None = None
        self._stop_requested = False
        self._broken: str | None = None  # why this Trainer must not go on
        self._pending: list[tuple[int, dict[str, Tensor]]] = []  # since the last log
        self._since_eval: list[dict[str, Any]] = []

    # -- short names for the usual two networks --------------------------------------
    @property
    def G(self) -> nn.Module:
        return self.nets["G"]

    @property
    def D(self) -> nn.Module:
        return self.nets["D"]

    @property
    def G_ema(self) -> nn.Module | None:
        return self.ema.get("G")

    @property
    def opt_g(self) -> torch.optim.Optimizer:
        return self.optimizers["G"]

    @property
    def opt_d(self) -> torch.optim.Optimizer:
        return self.optimizers["D"]

    def _build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        t = self.cfg.train
        groups = self.groups = dict(self.method.groups())  # read once
        unknown = sorted({p.group for p in self.phases} - set(groups))
        if unknown:
            raise ValueError(
                f"phases name optimiser groups {unknown} that the "
                f"method does not declare ({', '.join(groups)})"
            )
        optimizers = {}
        for group, names in groups.items():
            lr = getattr(t, f"lr_{group.lower()}", None)
            if lr is None:
                raise ValueError(
                    f"optimiser group {group!r} has no learning rate: TrainConfig "
                    f"needs a field lr_{group.lower()}"
                )
            params = [p for name in names for p in self.nets[name].parameters()]
            optimizers[group] = OPTIMIZERS[t.optimizer](params, lr, t.betas)
        return optimizers

    # -- one step ---------------------------------------------------------------------
    def _autocast(self):
        if not self.cfg.train.amp or self.device.type not in ("cuda", "cpu"):
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _set_trainable(self, phase: Phase | None) -> None:
        """Only the networks of ``phase``'s group (and its ``keep_graph``) learn;
        ``None``: all but the frozen ones (the state between steps)."""
        if phase is None:
            learning = set(self.nets.keys())
        else:
            learning = set(self.groups[phase.group]) | set(phase.keep_graph)
        for name, net in self.nets.items():
            net.requires_grad_(name in learning and name not in self.method.frozen)

    def _draws(self, n_global: int) -> Callable[[slice], Callable[..., Tensor]]:
        """Random numbers keyed by the global sample index, for one optimiser step.

        The first micro-batch's calls draw each tensor for the whole global batch
        (from the global generator, identical on every process), later
        micro-batches reuse them, and each takes its own rows. With one process
        and no accumulation this is exactly ``torch.randn(B, ...)``.
        """
        cache: list[tuple[str, tuple[int, ...], Tensor]] = []
        device = self.device

        def for_slice(rows: slice) -> Callable[..., Tensor]:
            calls = iter(range(1 << 30))

            def draw(kind: str, *shape: int) -> Tensor:
                i = next(calls)
                if i == len(cache):
                    fn = torch.randn if kind == "randn" else torch.rand
                    cache.append((kind, shape, fn(n_global, *shape, device=device)))
                cached_kind, cached_shape, values = cache[i]
                if (cached_kind, cached_shape) != (kind, shape):
                    raise RuntimeError(
                        f"random draw {i + 1} of this phase asked for {kind}{shape} "
                        f"here but {cached_kind}{cached_shape} in the first "
                        "micro-batch: keyed noise needs the same sequence of ctx draws "
                        "in every micro-batch (draw unconditionally, then select)"
                    )
                return values[rows]

            return draw

        return for_slice

    def _prepare(self, batch: Batch) -> Batch:
        if not self.cfg.train.channels_last:
            return batch
        return {
            k: v.contiguous(memory_format=torch.channels_last) if v.dim() == 4 else v
            for k, v in batch.items()
        }

    def train_step(self) -> dict[str, Tensor]:
        """One step: every phase of the method, in order. Returns detached stats.

        A repeated phase logs its last repeat; a phase with ``every = k`` runs on
        the steps divisible by ``k``. Afterwards every network has
        ``requires_grad`` on again (networks the method lists as ``frozen`` stay
        off and in eval mode).
        """
        self._set_learning_rates()
        self.nets.train()
        for name in self.method.frozen:
            self.nets[name].eval()
        slices = self.batches.slices
        memos: list[dict[str, Any]] = [{} for _ in slices]
        batches: list[Batch] | None = None
        stats: dict[str, Tensor] = {}
        try:
            for phase in self.phases:
                if self.step % phase.every:
                    continue
                self._set_trainable(phase)
                phase_stats: dict[str, Tensor] = {}
                for _ in range(phase.repeat):
                    if phase.batch == "fresh" or (
                        phase.batch == "reuse" and not batches
                    ):
                        batches = [self._prepare(b) for b in self.batches.next()]
                    phase_stats = self._optimizer_step(phase, batches, slices, memos)
                clash = set(phase_stats) & set(stats)
                if clash:
                    raise ValueError(
                        f"phase {phase.name} logs {sorted(clash)}, which an earlier "
                        "phase of the step logs too; give the stats distinct names"
                    )
                stats.update(phase_stats)
        finally:
            self._set_trainable(None)
        self._update_ema()
        return stats

    def _optimizer_step(
        self,
        phase: Phase,
        batches: list[Batch] | None,
        slices: list[slice],
        memos: list[dict[str, Any]],
    ) -> dict[str, Tensor]:
        """One optimiser step of ``phase``'s group: the loss of every micro-batch,
        backpropagated (divided by their number), gradients averaged over
        processes, the method's hooks around ``opt.step()``."""
        opt = self.optimizers[phase.group]
        loss_fn = getattr(self.method, phase.loss)
        opt.zero_grad(set_to_none=True)
        draws = self._draws(self.cfg.data.batch_size)
        phase_stats: dict[str, Tensor] = {}
        for k, rows in enumerate(slices):
            batch = batches[k] if phase.batch != "none" and batches else {}
            ctx = StepContext(
                step=self.step,
                n=rows.stop - rows.start,
                device=self.device,
                memo=memos[k],
                draw=draws(rows),
            )
            with self._autocast():
                loss, s = loss_fn(batch, ctx)
            (loss / len(slices)).backward()
            for key, v in {phase.log_key: loss.detach(), **s}.items():
                v = v.detach().float() / len(slices)
                phase_stats[key] = phase_stats.get(key, 0) + v
        group_params = [
            p for name in self.groups[phase.group] for p in self.nets[name].parameters()
        ]
        all_reduce_mean_(group_params, self.world)
        self.method.on_gradients(phase, self.step)
        opt.step()
        self.method.after_update(phase, self.step)
        return phase_stats

    def _update_ema(self) -> None:
        t = self.cfg.train
        for name, avg in self.ema.items():
            decay = t.ema_decay if self.step >= t.ema_start else 0.0
            _ema_update(avg, self.nets[name], decay)

    def _set_learning_rates(self) -> None:
        t = self.cfg.train
        if t.lr_decay == "none":
            return
        f = lr_factor(t.lr_decay, self.step, t.steps, t.lr_decay_start)
        for group, opt in self.optimizers.items():
            base = getattr(t, f"lr_{group.lower()}")
            for param_group in opt.param_groups:
                param_group["lr"] = base * f

    # -- the NaN guard and logs ------------------------------------------------------
    def _check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` if a number logged since the last check is
        NaN / Inf: at every log step and before every save (one host sync)."""
        if not self._pending:
            return
        values = torch.stack([v for _, s in self._pending for v in s.values()])
        bad = (~torch.isfinite(values)).any()
        if self.world.size > 1:
            import torch.distributed as dist

            flag = bad.float().reshape(1)
            dist.all_reduce(flag)  # every process stops together
            bad = flag > 0
        if not bool(bad):
            return
        step, name, value = self.step, "loss", float("nan")
        for s_step, s in self._pending:
            for k, v in s.items():
                if not torch.isfinite(v):
                    step, name, value = s_step, k, float(v)
                    break
            else:
                continue
            break
        where = (
            f"the last good checkpoint is {self.ckpt_path} (step "
            f"{self._last_saved_step})"
            if self._last_saved_step is not None
            else "no checkpoint was written yet"
        )
        self._log_event({"step": step, "event": "diverged", name: value})
        self._pending.clear()
        self._broken = (
            f"training diverged at step {step} ({name} = {value}); reload the last "
            "good checkpoint with Trainer.resume"
        )
        raise TrainingDiverged(
            f"{name} became {value} at step {step}; training stopped and nothing "
            f"after step {self._last_saved_step or 0} was saved ({where}). Try a "
            "lower learning rate or resume from that checkpoint with another seed."
        )

    def _check_weights(self) -> None:
        """Raise :class:`TrainingDiverged` if a weight (or an EMA weight) is NaN /
        Inf: the last update of a step can break the weights after its loss was
        logged."""
        tensors = [p.detach() for p in self.nets.parameters()]
        tensors += [p.detach() for avg in self.ema.values() for p in avg.parameters()]
        if not tensors:
            return
        total = torch.stack([t.float().sum() for t in tensors]).sum()
        if any_process(not bool(torch.isfinite(total)), self.world):
            self._broken = (
                f"the weights became NaN / Inf by step {self.step}; reload the last "
                "good checkpoint with Trainer.resume"
            )
            raise TrainingDiverged(
                f"a weight became NaN or infinite by step {self.step}; nothing was "
                f"saved (the last good checkpoint is step {self._last_saved_step}). "
                "Try a lower learning rate."
            )

    def _refuse_if_broken(self) -> None:
        if self._broken:
            raise TrainingDiverged(
                f"this Trainer cannot continue: {self._broken}, or build a new one"
            )

    def _flush_log(self) -> dict[str, Any]:
        """The mean of every number since the last log, as floats (checked first)."""
        self._check_finite()
        n = len(self._pending)
        if n == 0:
            return {"step": self.step}
        keys = list(dict.fromkeys(k for _, s in self._pending for k in s))
        means = [
            torch.stack([s[k] for _, s in self._pending if k in s]).mean() for k in keys
        ]
        if self.world.size > 1:
            # each process saw its own share of the batch: log the global batch's
            # numbers, as one process would, not rank 0's half
            means = list(mean_over_processes(torch.stack(means), self.world))
        record: dict[str, Any] = {"step": self.step}
        for k, v in zip(keys, means):
            record[k] = float(v)
        self._pending.clear()
        return record

    # -- the loop --------------------------------------------------------------------
    @property
    def ckpt_path(self) -> Path | None:
        return self.out_dir / "last.pt" if self.out_dir is not None else None

    def fit(self, steps: int | None = None) -> list[dict[str, Any]]:
        """Train until ``step == steps`` (default ``cfg.train.steps``), or until
        ``train.max_time_s`` seconds of training (evaluation excluded) are spent.

        Ctrl-C (SIGINT) finishes the current step, saves ``last.pt`` and returns; a
        second Ctrl-C stops at once and saves nothing of the half-done step. A
        NaN / Inf loss raises :class:`TrainingDiverged` and keeps the last
        checkpoint. Returns :attr:`history`.
        """
        from tqdm.auto import tqdm

        self._refuse_if_broken()
        t = self.cfg.train
        target = t.steps if steps is None else steps
        if t.lr_decay != "none" and target > t.steps:
            raise ConfigError(
                f"train.lr_decay={t.lr_decay} reaches learning rate 0 at train.steps="
                f"{t.steps}; training to step {target} would run at rate 0. Set "
                f"train.steps={target} instead (the decay then ends there)"
            )
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
        interrupted = in_step = False
        first_step = self.step
        try:
            while self.step < target:
                # under torchrun every process gets the Ctrl-C, maybe in different
                # steps: they agree (one tiny all-reduce a step) and stop together
                if any_process(self._stop_requested, self.world):
                    interrupted = True
                    break
                if self.step == first_step and self.out_of_time():
                    # a resumed run whose budget is spent: nothing to do or save
                    print(
                        f"{self.cfg.name}: time budget train.max_time_s="
                        f"{t.max_time_s:g} already used ({self._elapsed():.0f} s)"
                    )
                    break
                in_step = True
                stats = self.train_step()
                self.step += 1
                in_step = False
                self._pending.append((self.step, stats))
                bar.update(1)
                # the last step of this fit: the target, or the time budget is spent
                last = self.step == target or self.out_of_time()
                evaluate = self.evaluator is not None and (
                    self.step % t.eval_every == 0 or last
                )
                if self.step % t.log_every == 0 or last or evaluate:
                    record = self._flush_log()
                    self._since_eval.append(record)
                    if evaluate:
                        t_eval = time.perf_counter()
                        record["fid"] = self._evaluate()
                        # evaluation is not training: keep it out of the wall time
                        t0 += time.perf_counter() - t_eval
                        self._segment_start = t0
                        self._record_eval(record)
                    self.history.append(record)
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
            if in_step:
                self._pending.clear()
                self._broken = (
                    f"it was interrupted inside step {self.step + 1} (some networks "
                    "were updated, others not); reload the last checkpoint with "
                    "Trainer.resume"
                )
                print(
                    f"Interrupted inside step {self.step + 1}: that half-done step "
                    "was not saved. "
                    + (
                        f"The last checkpoint is {self.ckpt_path} (step "
                        f"{self._last_saved_step})."
                        if self._last_saved_step is not None
                        else "No checkpoint was written yet."
                    )
                )
                raise
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

    def _evaluate(self) -> float:
        """The domain FID, without touching the training's random state (so a run
        with evaluations trains exactly like one without)."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            return self.evaluator(self.sampler())

    def _record_eval(self, record: dict[str, Any]) -> None:
        """An evaluation point: the FID and the means of the logged numbers since
        the previous evaluation (kept in checkpoints: the curve of a run)."""
        point: dict[str, Any] = {"step": record["step"], "fid": record["fid"]}
        keys = {k for r in self._since_eval for k in r if k not in ("step", "fid")}
        for k in sorted(keys):
            vals = [r[k] for r in self._since_eval if k in r]
            point[k] = sum(vals) / len(vals)
        self.evals.append(point)
        self._since_eval = []

    def out_of_time(self) -> bool:
        """True once ``train.max_time_s`` (> 0) seconds of training are spent.

        Under torchrun the processes decide together (a collective call): their
        clocks differ, and one that stopped alone would leave the others waiting
        in their next gradient all-reduce.
        """
        budget = self.cfg.train.max_time_s
        if budget <= 0:
            return False
        return any_process(self._elapsed() >= budget, self.world)

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
    def sampler(self, ema: bool = True) -> Sampler:
        """Generate with the method and its networks (EMA copies when kept)."""
        nets = nn.ModuleDict(dict(self.nets.items()))
        if ema:
            for name, avg in self.ema.items():
                nets[name] = avg
        return Sampler(self.method, nets)

    @torch.no_grad()
    def generate(self, inputs: Tensor | Batch, ema: bool = True) -> Tensor:
        """Samples from ``inputs`` (a tensor ``z``, or a dict such as
        ``fixed_inputs``), in the mode the method asks for, on the CPU."""
        return self.sampler(ema)(inputs).float().cpu()

    def _record_samples(self) -> None:
        # a grid must not change the training's random state (e.g. dropout in a
        # generator sampled in train mode, as Pix2Pix does; in that mode BatchNorm's
        # running statistics do move, but such a method never uses them)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            x = self.generate(self.fixed_inputs)
        self.samples.append((self.step, x))
        if self.out_dir is not None:
            from gancourse.viz import save_samples

            save_samples(
                x,
                self.out_dir / "samples" / f"step_{self.step:06d}.png",
                title=f"{self.cfg.name}, step {self.step}",
                nrow=self.method.grid_nrow(),
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
            "spec": _spec_dict(self.spec),
            "sample_shape": list(self.spec.sample_shape),
            "data": dict(self.data_info),
            "batch": {
                "global": self.cfg.data.batch_size,
                "world_size": self.world.size,
                "accum": self.cfg.train.accum,
            },
            "hardware": hardware(self.device, self.world.size),
            "wall_time_s": self.wall_time_s,
            "step": self.step,
            "data_state": self.batches.state_dict(),
            "nets": {name: net.state_dict() for name, net in self.nets.items()},
            "ema": {name: avg.state_dict() for name, avg in self.ema.items()},
            "opt": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "method_state": self.method.state_dict(),
            "fixed_inputs": self.fixed_inputs,
            "rng": _rng_state(self.device),
            "evals": self.evals,
        }

    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the training state atomically (default ``out_dir/last.pt``).

        The logged numbers and every weight are checked for NaN / Inf first: a
        diverged state is never saved. Only process 0 writes, but under torchrun
        every process must call ``save`` (the check is a collective).
        """
        self._refuse_if_broken()
        self._check_finite()
        self._check_weights()
        path = Path(path) if path is not None else self.ckpt_path
        if path is None or not self.world.is_main:
            return None
        save_atomic(self.state_dict(), path)
        self._last_saved_step = self.step
        return path

    def load_state_dict(self, ckpt: dict[str, Any]) -> None:
        ckpt = upgrade_checkpoint(ckpt)
        for name, net in self.nets.items():
            net.load_state_dict(_uncompiled(ckpt["nets"][name]))
        for name, avg in self.ema.items():
            if name in ckpt.get("ema", {}):
                avg.load_state_dict(_uncompiled(ckpt["ema"][name]))
        for name, opt in self.optimizers.items():
            opt.load_state_dict(ckpt["opt"][name])
        self.method.load_state_dict(ckpt.get("method_state") or {})
        self.step = int(ckpt["step"])
        self.batches.load_state_dict(ckpt["data_state"])
        self.fixed_inputs = dict(ckpt["fixed_inputs"])
        self.wall_time_s = float(ckpt.get("wall_time_s", 0.0))
        self.evals = list(ckpt.get("evals", []))
        self._last_saved_step = self.step
        self._broken = None
        _set_rng_state(ckpt["rng"], self.device)

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike,
        out_dir: str | os.PathLike | None = None,
        overrides: list[str] | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Trainer:
        """Rebuild a Trainer from ``last.pt`` and continue exactly where it stopped.

        ``out_dir`` defaults to the checkpoint's folder (another folder leaves the
        original untouched); the log is cut back to the checkpoint's step so it
        never holds steps that will be re-run. ``overrides`` may change what does
        not alter the training math (``RESUME_SAFE``: steps, logging,
        evaluation, device, compile); anything else is a
        :class:`~gancourse.config.ConfigError`.
        """
        ckpt = upgrade_checkpoint(load_checkpoint(path, kind="train"))
        cfg = Config.from_dict(ckpt["config"])
        if overrides:
            cfg = _safe_resume_overrides(cfg, overrides)
        src = Path(path).parent
        out = Path(out_dir) if out_dir is not None else src
        # the run's history of commands: the one that started it, then each resume
        prior, now = ckpt.get("command"), kwargs.pop("command", None)
        kwargs["command"] = (
            prior if now is None else f"{prior}; resumed at step {ckpt['step']}: {now}"
        )
        trainer = cls(cfg, out, **kwargs)
        trainer.load_state_dict(ckpt)
        world = ckpt.get("batch", {}).get("world_size", 1)
        if world != trainer.world.size:
            print(
                f"note: this checkpoint was trained by {world} process(es) and resumes "
                f"with {trainer.world.size}: the data order and noise continue, but "
                "the run is not bit-for-bit the one it would have been"
            )
        if trainer.world.is_main:
            log = src / "log.jsonl"
            if out != src and log.exists():
                out.mkdir(parents=True, exist_ok=True)
                (out / "log.jsonl").write_text(log.read_text())
            trainer.history = _truncate_log(out / "log.jsonl", trainer.step)
        return trainer


RESUME_SAFE = (
    "train.steps",
    "train.log_every",
    "train.sample_every",
    "train.ckpt_every",
    "train.eval_every",
    "train.eval_n",
    "train.max_time_s",
    "train.device",
    "train.compile",
    "data.workers",
)
"""Config keys ``--resume`` may change: none of them alters the training math
(``train.steps`` moves the end of a linear learning-rate decay: allowed, and
said)."""


def _safe_resume_overrides(
    cfg: Config, overrides: list[str] | dict[str, Any]
) -> Config:
    items = (
        overrides
        if isinstance(overrides, dict)
        else dict(o.split("=", 1) if "=" in o else (o, "") for o in overrides)
    )
    unsafe = sorted(k.strip() for k in items if k.strip() not in RESUME_SAFE)
    if unsafe:
        raise ConfigError(
            f"--resume cannot change {', '.join(unsafe)}: it would not continue the "
            f"same run. Keys it may change: {', '.join(RESUME_SAFE)}. Start a new "
            "run for the rest"
        )
    new = cfg.override(items)
    if new.train.steps != cfg.train.steps and cfg.train.lr_decay != "none":
        print(
            f"note: train.steps {cfg.train.steps} -> {new.train.steps} moves the end "
            "of the learning-rate decay; the rate changes from the next step on"
        )
    return new


# -- helpers --------------------------------------------------------------------------
def _spec_dict(spec) -> dict[str, Any]:
    return {
        "keys": list(spec.keys),
        "shapes": {k: list(v) for k, v in spec.shapes.items()},
        "n_classes": spec.n_classes,
        "n": spec.n,
    }


def _uncompiled(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """State-dict keys without torch.compile's ``_orig_mod.`` prefix."""
    return {k.replace("_orig_mod.", ""): v for k, v in state.items()}


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state(device: torch.device) -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        # this process's GPU only: a machine with fewer GPUs can still restore it
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if isinstance(cuda, list):  # format 1 kept one state per visible GPU
        cuda = cuda[0] if cuda else None
    if cuda is not None and device.type == "cuda":
        torch.cuda.set_rng_state(cuda, device)
    elif cuda is not None:
        print(
            "note: the checkpoint's CUDA random state is not restored on "
            f"{device.type}; GPU-side noise will differ from the original run"
        )
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))


@torch.no_grad()
def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema <- decay * ema + (1 - decay) * model`` for parameters; buffers (e.g.
    BatchNorm statistics) are copied. ``decay = 0`` copies the weights."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def _truncate_log(log: Path, step: int) -> list[dict[str, Any]]:
    """Cut ``log`` back to ``step`` (in place); return its records as history."""
    if not log.exists():
        return []
    keep, history = [], []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill: drop it
        if record.get("step", 0) <= step:
            keep.append(line)
            if "event" not in record:
                history.append({k: v for k, v in record.items() if k != "wall_time_s"})
    log.write_text("".join(k + "\n" for k in keep))
    return history
