"""Fetching and unpacking a dataset archive: stream to disk, hash, extract safely.

Used for the Pix2Pix archives (:func:`gancourse.data.paired.download_pix2pix`);
torchvision's own datasets keep torchvision's downloader. Any URL ``urllib``
opens works, ``file://`` included (how a local copy or a test fixture is read).
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from gancourse.data.datasets import DOWNLOAD_TIMEOUT_S, DataNotFoundError

CHUNK = 1 << 20  # bytes read at a time


class ArchiveError(DataNotFoundError):
    """An archive is truncated, not a tar file, or holds unsafe paths (``..``,
    absolute paths, links): nothing of it is used."""


def download_file(
    url: str,
    dest: str | Path,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    log: Callable[[str], Any] | None = None,
) -> str:
    """Stream ``url`` to ``dest`` and return the SHA-256 (hex) of its bytes.

    The bytes go to ``dest.part`` first and are renamed when complete, so an
    interrupted download never looks like a finished one. ``timeout`` (seconds)
    bounds each network wait, so a firewalled network fails fast. ``log`` (if
    given) gets a line at every tenth of the file when its size is known.

    Raises:
        OSError (``urllib.error.URLError``, ``TimeoutError``): the download failed.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    sha = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done, next_report = 0, 0.1
            with open(part, "wb") as f:
                while chunk := response.read(CHUNK):
                    f.write(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    if log is not None and total and done / total >= next_report:
                        log(f"  {done / 2**20:.0f} / {total / 2**20:.0f} MB")
                        next_report += 0.1
            if total and done != total:
                raise OSError(f"connection closed after {done} of {total} bytes")
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
    return sha.hexdigest()


def _unsafe(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` must not be extracted, or None if it is a plain file or folder
    inside the destination."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        return f"path {member.name!r} leaves the destination folder"
    if not (member.isfile() or member.isdir()):
        return f"{member.name!r} is a link or special file"
    return None


def extract_tar(archive: str | Path, dest: str | Path) -> list[str]:
    """Extract a ``.tar`` / ``.tar.gz`` into ``dest``; return its member names.

    The whole archive is read before anything is written, so a truncated or
    corrupt file fails here and not halfway. Only plain files and folders with
    relative paths inside ``dest`` are accepted (also Python's ``"data"``
    extraction filter where it exists), so an archive cannot write elsewhere.

    Raises:
        ArchiveError: not a tar archive, damaged or truncated, or an unsafe member.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()  # reads to the end: truncation shows here
            for member in members:
                reason = _unsafe(member)
                if reason is not None:
                    raise ArchiveError(f"{archive.name} is unsafe: {reason}")
            dest.mkdir(parents=True, exist_ok=True)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4, 3.10.12
                tar.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - older Pythons; members checked above
                tar.extractall(dest, members=members)
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        reason = str(err) or type(err).__name__
        raise ArchiveError(
            f"{archive.name} is not a complete tar archive ({reason})"
        ) from None
    return [m.name for m in members]


def remove_tree(path: str | Path) -> None:
    """Delete a folder (or file) if it exists."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


__all__ = ["ArchiveError", "download_file", "extract_tar", "remove_tree"]
