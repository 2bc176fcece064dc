"""Data-parallel training under ``torchrun``, in a few functions.

``torchrun --nproc_per_node=N -m gancourse train ...`` starts N processes with
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set. Each process builds the same
networks (same seed), trains on its own share of every global batch
(:class:`gancourse.data.source.BatchStream`), and before each optimiser step the
gradients of the group being updated are averaged over processes with one
``all_reduce`` (NCCL on GPUs, gloo on CPUs). So every process takes the same
step, and the networks stay identical without broadcasting weights.

We average gradients by hand after the backward passes, as StyleGAN2-ADA's
training loop does, instead of wrapping each network in
``DistributedDataParallel``: a GAN step freezes and unfreezes networks, runs
gradient penalties (a double backward) and may leave a network unused in a phase,
all of which DDP's bucketed hooks handle badly. The price is no overlap of
communication with the backward pass. BatchNorm statistics stay per process.
Rank 0 alone writes logs, sample grids and checkpoints; the numbers it logs are
averaged over the processes first (one more ``all_reduce`` per log record), so
they are the global batch's, and the processes stop on the time budget together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = [
    "World",
    "init_world",
    "all_reduce_mean_",
    "mean_over_processes",
    "any_process",
    "close_world",
]


@dataclass(frozen=True)
class World:
    """This process's place: ``rank`` of ``size``, and its ``device``."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_world(device: torch.device) -> World:
    """Join the process group when ``torchrun`` started us (``WORLD_SIZE > 1``).

    On CUDA each process takes GPU ``LOCAL_RANK`` and NCCL; elsewhere gloo.
    Without torchrun: a world of one, on ``device``.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(device=device)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(rank=rank, size=size, local_rank=local_rank, device=device)


def all_reduce_mean_(params: list[torch.nn.Parameter], world: World) -> None:
    """Average the ``.grad`` of ``params`` over the processes of ``world``, in
    place, with one flattened ``all_reduce``.

    A parameter without a gradient on every process keeps ``grad = None`` (as in
    one process, where the optimiser then skips it); one with a gradient on some
    processes only counts zero for the others.
    """
    if world.size <= 1:
        return
    has = torch.tensor(
        [p.grad is not None for p in params], dtype=torch.float32, device=world.device
    )
    dist.all_reduce(has)
    used = [p for p, h in zip(params, has.tolist()) if h > 0]
    if not used:
        return
    for p in used:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in used])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for p in used:
        k = p.grad.numel()
        p.grad.copy_(flat[offset : offset + k].view_as(p.grad))
        offset += k


def mean_over_processes(x: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of ``x`` over the processes of ``world`` (``x`` itself alone).

    A collective: every process must call it. With equal shares of the batch, the
    mean of the processes' batch means is the global batch's mean.
    """
    if world.size <= 1:
        return x
    x = x.detach().clone()
    dist.all_reduce(x)
    return x / world.size


def any_process(flag: bool, world: World) -> bool:
    """True if ``flag`` is true on any process: a decision all of them share (a
    collective: every process must call it)."""
    if world.size <= 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=world.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def close_world(world: World) -> None:
    """Leave the process group (at the end of a torchrun run)."""
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()
