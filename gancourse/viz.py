"""Figures for the course: sample grids, 2-D scatter plots, loss curves,
latent interpolations, and ``show_source`` to display library code in a notebook.

Images are tensors ``(N, C, H, W)`` in ``[-1, 1]`` (what every G here outputs);
they are mapped to ``[0, 1]`` for display. 2-D samples are ``(N, 2)``.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "image_grid",
    "show_grid",
    "translation_grid",
    "show_translation",
    "save_samples",
    "plot_points",
    "plot_losses",
    "read_log",
    "interpolate",
    "show_source",
    "show_table",
    "show_samples_over_training",
    "show_pretrained",
]


def image_grid(x: Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile images ``(N, C, H, W)`` in ``[-1, 1]`` into one array for ``imshow``.

    Returns ``(H', W')`` for one channel or ``(H', W', 3)`` for three, in ``[0, 1]``.
    Uses :func:`torchvision.utils.make_grid`.
    """
    from torchvision.utils import make_grid

    if x.dim() != 4:
        raise ValueError(
            f"image_grid expects (N, C, H, W) images, got {tuple(x.shape)}"
        )
    img = (x.detach().float().cpu().clamp(-1, 1) + 1) / 2
    grid = make_grid(img, nrow=nrow, padding=padding, pad_value=1.0)  # (3, H', W')
    if x.shape[1] == 1:
        return grid[0].numpy()
    return grid.permute(1, 2, 0).numpy()


def show_grid(x: Tensor, title: str | None = None, nrow: int = 8, ax: Any = None):
    """Draw :func:`image_grid` (images) or :func:`plot_points` (2-D) on ``ax``."""
    import matplotlib.pyplot as plt

    if x.dim() == 2:
        return plot_points(x, title=title, ax=ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    grid = image_grid(x, nrow=nrow)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def translation_grid(
    x_src: Tensor,
    x_fake: Tensor,
    x: Tensor | None = None,
    n: int | None = None,
    per_row: int = 4,
    padding: int = 2,
) -> np.ndarray:
    """Triplets *input | output | target* of paired translation, for ``imshow``.

    Args:
        x_src: inputs ``(N, C_src, H, W)`` in ``[-1, 1]``.
        x_fake: outputs ``(N, C, H, W)`` in ``[-1, 1]``.
        x: targets ``(N, C, H, W)``, or None for pairs *input | output*.
        n: show the first ``n`` examples (default all).
        per_row: examples per row of the grid (each takes 2 or 3 cells).
        padding: white pixels between cells.

    Returns:
        ``(H', W')`` for grey images or ``(H', W', 3)``, in ``[0, 1]``: example
        ``i`` fills cells ``k i .. k i + k - 1`` (``k`` = 3 or 2) in reading order.
        A 1-channel image next to colour ones is repeated to 3 channels.
    """
    columns = [x_src, x_fake] if x is None else [x_src, x_fake, x]
    n = len(x_fake) if n is None else min(n, len(x_fake))
    if any(t.dim() != 4 or len(t) < n for t in columns):
        shapes = [tuple(t.shape) for t in columns]
        raise ValueError(f"translation_grid expects (N, C, H, W) images, got {shapes}")
    if len({t.shape[-2:] for t in columns}) != 1:
        shapes = [tuple(t.shape) for t in columns]
        raise ValueError(f"input, output and target differ in size: {shapes}")
    c = max(t.shape[1] for t in columns)
    cells = [t[:n].detach().float().cpu().expand(-1, c, -1, -1) for t in columns]
    # (k, n, C, H, W) -> (n * k, C, H, W): input, output, target of each example
    tiles = torch.stack(cells, dim=1).flatten(0, 1)
    return image_grid(tiles, nrow=len(columns) * per_row, padding=padding)


def show_translation(
    x_src: Tensor,
    x_fake: Tensor,
    x: Tensor | None = None,
    n: int | None = 8,
    per_row: int = 4,
    title: str | None = None,
    ax: Any = None,
):
    """Draw :func:`translation_grid` on ``ax``, titled *input | output | target*."""
    import matplotlib.pyplot as plt

    grid = translation_grid(x_src, x_fake, x, n=n, per_row=per_row)
    if ax is None:
        w = min(12.0, 1.2 * per_row * (2 if x is None else 3))
        _, ax = plt.subplots(figsize=(w, w * grid.shape[0] / grid.shape[1] + 0.4))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    heading = "input | output" + ("" if x is None else " | target")
    ax.set_title(f"{title}: {heading}" if title else heading)
    return ax


def plot_points(
    x: Tensor,
    title: str | None = None,
    ax: Any = None,
    reference: Tensor | None = None,
    lim: float = 3.0,
):
    """Scatter 2-D samples ``(N, 2)``, optionally over ``reference`` points."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    if reference is not None:
        r = reference.detach().cpu().numpy()
        ax.scatter(r[:, 0], r[:, 1], s=4, c="0.75", label="data")
    p = x.detach().float().cpu().numpy()
    ax.scatter(p[:, 0], p[:, 1], s=4, c="C3", label="G(z)")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def _file_figure(figsize: tuple[float, float]):
    """A figure drawn with Agg for saving to a file: no pyplot, no display, and the
    backend a notebook uses stays as it is."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def save_samples(
    x: Tensor, path: str | os.PathLike, title: str | None = None, nrow: int = 8
) -> Path:
    """Save a grid (images, ``nrow`` per row) or scatter plot (2-D) of ``x`` as a PNG.

    Draws on a standalone Agg figure, so it neither needs a display nor changes
    the backend a notebook is using.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = _file_figure((4, 4.3))
    show_grid(x, title=title, nrow=nrow, ax=fig.add_subplot())
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def read_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Records of a run's ``log.jsonl`` (events such as divergence included)."""
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def plot_losses(
    history: Iterable[dict[str, Any]] | str | os.PathLike,
    keys: tuple[str, ...] = ("d_loss", "g_loss"),
    ax: Any = None,
    path: str | os.PathLike | None = None,
    smooth: int = 1,
):
    """Loss curves from a Trainer's ``history`` or a ``log.jsonl`` path.

    ``smooth`` > 1 draws a running mean over that many records. With ``path``,
    saves the figure there and closes it.
    """
    records = (
        read_log(history) if isinstance(history, (str, os.PathLike)) else list(history)
    )
    if ax is None:
        if path is not None:  # a file only
            ax = _file_figure((6, 3)).add_subplot()
        else:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 3))
    for k in keys:
        pts = [(r["step"], r[k]) for r in records if k in r and "step" in r]
        if not pts:
            continue
        s, v = np.array(pts).T
        if smooth > 1 and len(v) >= smooth:
            v = np.convolve(v, np.ones(smooth) / smooth, mode="valid")
            s = s[smooth - 1 :]
        ax.plot(s, v, label=k)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=100)
    return ax


@torch.no_grad()
def interpolate(
    G: Any, z0: Tensor, z1: Tensor, n: int = 8, spherical: bool = True
) -> Tensor:
    """``G`` along a path from ``z0`` to ``z1`` (each ``(z_dim,)``): ``(n, ...)``.

    ``G`` is a generator module (run in eval mode, its mode restored after) or any
    callable ``G(z) -> samples``, e.g. ``lambda z: sampler(z, y)`` to hold a class
    fixed. ``spherical=True`` uses slerp, which keeps the path at the typical norm
    of a Gaussian ``z`` (White 2016); a straight line passes through low-norm codes
    that G rarely saw in training.
    """
    t = torch.linspace(0, 1, n, device=z0.device)[:, None]
    if spherical:
        a, b = z0 / z0.norm(), z1 / z1.norm()
        omega = torch.arccos((a * b).sum().clamp(-1 + 1e-7, 1 - 1e-7))
        z = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(
            omega
        )
    else:
        z = (1 - t) * z0 + t * z1
    if not isinstance(G, torch.nn.Module):
        return G(z)
    was_training = G.training
    G.eval()
    try:
        return G(z)
    finally:
        G.train(was_training)


def show_source(obj: Any) -> None:
    """Show the source of a library function or class (highlighted in Jupyter).

    Notebooks use this instead of pasting a second copy of library code.
    """
    src = inspect.getsource(obj)
    try:
        from IPython import get_ipython
        from IPython.display import Code, display

        if get_ipython() is not None:
            display(Code(src, language="python"))
            return
    except ImportError:
        pass
    print(src)


def show_table(rows: Iterable[Iterable[Any]], columns: list[str]) -> None:
    """Display ``rows`` as a Markdown table in a notebook (plain text elsewhere).

    Floats are shown with 4 significant digits; ``None`` as an em dash.
    """
    from IPython.display import Markdown, display

    def cell(v: Any) -> str:
        if v is None:
            return "—"
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    display(Markdown("\n".join(lines)))


def show_samples_over_training(
    samples: list[tuple[int, Tensor]],
    k: int = 4,
    n: int = 36,
    title: str = "",
    nrow: int | None = None,
) -> None:
    """``k`` evenly spaced grids from a run's ``Trainer.samples`` (fixed noise),
    the first and the last included, drawn side by side; ``nrow`` images per row
    (default a square grid; a conditional method's ``grid_nrow()`` puts one class
    in each column)."""
    import matplotlib.pyplot as plt

    picks = np.linspace(0, len(samples) - 1, k).round().astype(int)
    fig, axes = plt.subplots(1, k, figsize=(3 * k, 3.2))
    for ax, i in zip(np.atleast_1d(axes), picks):
        step, x_fake = samples[i]
        per_row = nrow or int(round(n**0.5))
        show_grid(x_fake[:n], nrow=per_row, ax=ax, title=f"step {step}")
    if title:
        fig.suptitle(title)
    plt.show()


def show_pretrained(name: str, n: int = 64, seed: int = 0):
    """Draw ``n`` samples of the shipped generator ``name`` and print how it was
    trained (command, steps, data, hardware, time, and the domain FID when the
    record has one). Returns the generator."""
    import matplotlib.pyplot as plt

    from gancourse.pretrained import load_sampler, pretrained_info

    sampler, info = load_sampler(name), pretrained_info(name)
    x_fake = sampler.sample(n, seed)  # the method draws the inputs (z, and labels)
    nrow = sampler.method.grid_nrow()
    fig, ax = plt.subplots(figsize=(4.5, 4.8))
    title = f"shipped {name}" + (", one class per column" if nrow != 8 else "")
    show_grid(x_fake, ax=ax, title=title, nrow=nrow)
    plt.show()
    data = info["data"]
    source = data.get("source", {})
    source = source.get("source", source) if isinstance(source, dict) else source
    lines = [
        f"command:  {info['command']}",
        f"steps:    {info['steps']} (batch {info['config']['data']['batch_size']})",
        f"data:     {data['name']} {data['split']}, {data['n']} images ({source})",
        f"hardware: {info['hardware']}",
        f"time:     {info['wall_time_s'] / 60:.1f} min",
    ]
    if info.get("note"):
        lines.append(f"note:     {info['note']}")
    fid = info.get("domain_fid")
    if fid:
        lines.append(
            f"domain FID: {fid['fid']:.1f} at step {fid['step']} ({fid['judge']} "
            f"features, {fid['n_fake']} samples vs the {fid['reference']})"
        )
    print("\n".join(lines))
    return sampler.nets["G"]
