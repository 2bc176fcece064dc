"""Where the TF-Inception weights come from, and loading them safely.

The standard file is the TF graph's weights ported to PyTorch and published with
pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``, 91 MiB). It is downloaded
once into the torch hub cache (``$TORCH_HOME/hub/checkpoints``) and its SHA-256
is checked before every first use in a process. A file you already have can be
given by path (``weights=...``, ``--inception-weights`` or the environment
variable ``GANCOURSE_INCEPTION_WEIGHTS``): either that state dict, or NVIDIA's
TorchScript port (``inception-2015-12-05.pt``, as used by StyleGAN2-ADA and
clean-fid), whose tensors are mapped onto
:class:`~gancourse.metrics.inception.TFInception`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import urllib.request
import warnings
import zipfile
from pathlib import Path

import torch

from gancourse.metrics.inception import TFInception, convert_torchscript_state

__all__ = [
    "WEIGHTS_URL",
    "WEIGHTS_SHA256",
    "WeightsNotFoundError",
    "default_weights_path",
    "download_weights",
    "load_inception",
]

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    + WEIGHTS_FILE
)
# The file name carries the first 8 hex digits of this digest (torch hub's rule).
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
ENV_WEIGHTS = "GANCOURSE_INCEPTION_WEIGHTS"
_VERIFIED: set[Path] = set()  # cached files whose digest was checked in this process
DOWNLOAD_TIMEOUT_S = 60.0


class WeightsNotFoundError(FileNotFoundError):
    """The Inception weights are neither cached nor downloadable."""


def default_weights_path() -> Path:
    """The cache location: ``<torch hub dir>/checkpoints/<WEIGHTS_FILE>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _missing_message(dst: Path, url: str, reason: str) -> str:
    return (
        f"Inception weights not found and the download failed ({reason}).\n"
        f"Get {dst.name} from {url} (on a machine with internet) and put it at "
        f"{dst}, or pass its path with --inception-weights / weights=... / "
        f"${ENV_WEIGHTS}. NVIDIA's TorchScript inception-2015-12-05.pt works too."
    )


def download_weights(
    url: str = WEIGHTS_URL,
    dst: str | os.PathLike | None = None,
    sha256: str = WEIGHTS_SHA256,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download ``url`` to ``dst`` (default: the cache) and verify its SHA-256.

    The file is written under a temporary name and renamed only after the digest
    matches, so an interrupted or corrupted download never poses as the weights.
    """
    dst = Path(dst) if dst is not None else default_weights_path()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.part{os.getpid()}")
    try:
        try:
            with (
                urllib.request.urlopen(url, timeout=timeout) as r,
                open(tmp, "wb") as f,
            ):
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    f.write(chunk)
        except OSError as err:
            raise WeightsNotFoundError(
                _missing_message(dst, url, f"{type(err).__name__}: {err}")
            ) from err
        digest = sha256_of(tmp)
        if digest != sha256:
            raise WeightsNotFoundError(
                _missing_message(
                    dst, url, f"SHA-256 mismatch: got {digest}, expected {sha256}"
                )
            )
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dst


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a pytorch-fid ``.pth`` or a TorchScript archive."""
    if not path.is_file():
        raise WeightsNotFoundError(f"no Inception weights file at {path}")
    try:
        with warnings.catch_warnings():  # torch warns on TorchScript; handled below
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        EOFError,
        # bytes that are no pickle (an HTML error page, a truncated copy) make
        # the unpickler fail with whatever the first bad opcode triggers
        LookupError,
        ValueError,
    ) as err:
        try:  # TorchScript archives refuse weights_only loading
            with warnings.catch_warnings():  # torch.jit.load's deprecation notice
                warnings.simplefilter("ignore")
                module = torch.jit.load(str(path), map_location="cpu")
        except (RuntimeError, ValueError) as err2:
            first = str(err2).strip().splitlines()[0] if str(err2).strip() else ""
            raise WeightsNotFoundError(
                f"{path} is neither an Inception state dict nor a TorchScript "
                f"file ({type(err).__name__}; {first[:200]}); download it again"
            ) from err2
        return convert_torchscript_state(module.state_dict())
    if not isinstance(state, dict) or not all(
        torch.is_tensor(v) for v in state.values()
    ):
        raise WeightsNotFoundError(f"{path} does not hold a state dict of tensors")
    return state


def load_inception(
    weights: str | os.PathLike | None = None,
    resize: str = "tf-bilinear",
    device: str | torch.device = "cpu",
    download: bool = True,
) -> TFInception:
    """The TF-Inception extractor with real weights, in eval mode, frozen.

    Args:
        weights: a weights file; default ``$GANCOURSE_INCEPTION_WEIGHTS`` or the
            cached release file (downloaded and SHA-256-checked when missing).
        resize: ``"tf-bilinear"`` or ``"clean"`` (see :mod:`.resize`).
        download: allow a download when the cache is empty.

    Raises:
        WeightsNotFoundError: offline with no weights; the message names the
            file, its URL and where to put it.
    """
    model = TFInception(resize=resize)
    if weights is None and os.environ.get(ENV_WEIGHTS):
        weights = os.environ[ENV_WEIGHTS]
    if weights is None:
        path = default_weights_path()
        if not path.is_file():
            if not download:
                raise WeightsNotFoundError(
                    _missing_message(path, WEIGHTS_URL, "downloads disabled")
                )
            download_weights(dst=path)
        elif path not in _VERIFIED and sha256_of(path) != WEIGHTS_SHA256:
            raise WeightsNotFoundError(
                f"{path} does not have the SHA-256 of the release file (corrupt or "
                f"a different file); delete it to download again from {WEIGHTS_URL}"
            )
        _VERIFIED.add(path)
    else:
        path = Path(weights)
    state = _read_state(path)
    has_head = "fc.weight" in state
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # same names, other shapes (torchvision's weights)
        detail = (str(err).splitlines()[1:] or [str(err)])[0].strip()
        raise WeightsNotFoundError(
            f"{path} does not fit the TF-Inception graph ({detail}); torchvision's "
            "ImageNet Inception is a different network"
        ) from err
    optional = (
        ("num_batches_tracked",)
        if has_head
        else ("num_batches_tracked", "fc.weight", "fc.bias")
    )
    missing = [k for k in missing if not k.endswith(optional)]
    if missing or unexpected:
        raise WeightsNotFoundError(
            f"{path} does not fit the TF-Inception graph: missing "
            f"{missing[:3]}..., unexpected {unexpected[:3]}... ({len(missing)} / "
            f"{len(unexpected)} keys)"
        )
    model.has_classifier = has_head
    model.weights_source = str(path)
    return model.to(device).eval().requires_grad_(False)
