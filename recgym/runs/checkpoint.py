"""Atomic, checksummed, code-free checkpoints, and the check of a folder that caches them.

A checkpoint is a folder with `weights.pt` (tensors only, loaded with `weights_only=True`, so a file
from a stranger cannot run code) and `meta.json` (config, library versions, the SHA-256 of the
weights, and the SHA-256 of meta.json's own content). Every file is written to a temporary name and
renamed into place, so a crash or a full disk never leaves a half-written file where a good one was;
`replace_checkpoint` does the same for the whole folder. Files get the permissions a plain `open`
would give them (0666 less the umask), so a cache shared by a team stays readable to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt, or does not match what is asked of it."""


PROC_STATUS = Path("/proc/self/status")
"""Where Linux shows the process's umask, which `os.umask` can only read by setting it."""


def current_umask() -> int:
    """The process's umask: read from /proc where it is shown (no race with other threads creating
    files), else set and restored at once."""
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())  # mkstemp makes it 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, payload: Any) -> None:
    """Write JSON atomically (indented, keys in insertion order)."""
    atomic_write_bytes(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def versions() -> dict[str, str]:
    """Versions of the libraries a checkpoint depends on."""
    import numpy

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}


def meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of meta's content (every field but `meta_sha256`), the same before and after a JSON
    round trip: keys sorted, values as `atomic_write_json` writes them."""
    content = json.loads(json.dumps({k: v for k, v in meta.items() if k != "meta_sha256"}, default=str))
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def save_checkpoint(folder: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Save tensors and JSON metadata to folder; the checksums of the weights and of the metadata
    go into meta.json."""
    buffer = io.BytesIO()
    torch.save({name: tensor.detach().cpu() for name, tensor in tensors.items()}, buffer)
    data = buffer.getvalue()
    folder = Path(folder)
    atomic_write_bytes(folder / "weights.pt", data)
    full_meta = {**meta, "sha256": hashlib.sha256(data).hexdigest(), "versions": versions()}
    atomic_write_json(folder / "meta.json", full_meta | {"meta_sha256": meta_checksum(full_meta)})


def replace_checkpoint(folder: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Save a checkpoint into a temporary sibling folder, then rename it to folder, replacing whatever
    was there: a failed save leaves folder as it was and no temporary folder behind."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    old = tmp.with_name(tmp.name + ".old")
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes it 0700
        save_checkpoint(tmp, tensors, meta)
        if folder.exists() or folder.is_symlink():
            os.replace(folder, old)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not folder.exists():
            os.replace(old, folder)  # put the old one back
        raise
    finally:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def check_cache_dir(path: str | Path, source: str, write: bool = True) -> bool:
    """Check a cache folder before any work goes into what it will hold.

    :param path: the cache folder; it need not exist yet.
    :param source: where path came from (`"RECGYM_CACHE"`, `"the cache_dir argument"`), for messages.
    :param write: also create the folder and check that a file can be written in it.
    :return: whether the cache can be used for writing (always True without write). When it cannot
        (read-only, full, no permission), one warning says so and the caller goes on without caching.
    :raises ValueError: when path, or a folder above it, exists and is not a folder: no run could
        ever cache there.
    """
    path = Path(path)
    where = f"cache folder {path} (from {source})"
    for existing in (path, *path.parents):
        if existing.exists() or existing.is_symlink():
            if not existing.is_dir():
                culprit = "it exists" if existing == path else f"{existing} is a file"
                raise ValueError(f"{where} is not a folder: {culprit}; name a folder, or one to create")
            break
    if not write:
        return True
    try:
        path.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=path))
    except OSError as error:
        warnings.warn(f"{where} cannot be written ({error}); going on without caching", stacklevel=2)
        return False
    return True


def load_checkpoint(
    folder: str | Path, verify_meta: bool = False
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load and verify a checkpoint; raises `CheckpointError` naming what is wrong.

    :param verify_meta: also require meta.json's own checksum (`meta_sha256`) and check it, so that
        a changed value that is still valid JSON is caught too (older checkpoints have none).
    """
    folder = Path(folder)
    data, meta = _read_checked(folder)
    if verify_meta:
        if "meta_sha256" not in meta:
            raise CheckpointError(
                f"checkpoint {folder}: meta.json has no meta_sha256 (written by an older save)"
            )
        if meta["meta_sha256"] != meta_checksum(meta):
            raise CheckpointError(
                f"checkpoint {folder}: meta.json does not match its checksum (corrupt or edited)"
            )
    try:
        tensors = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for unreadable files
        raise CheckpointError(f"checkpoint {folder}: weights.pt cannot be loaded ({error})") from error
    if not isinstance(tensors, dict) or not all(
        isinstance(name, str) and isinstance(tensor, torch.Tensor) for name, tensor in tensors.items()
    ):
        raise CheckpointError(
            f"checkpoint {folder}: weights.pt must hold a dict of named tensors, got {type(tensors).__name__}"
        )
    return tensors, meta


def verify_checkpoint(folder: str | Path) -> dict[str, Any]:
    """The metadata of a checkpoint whose files are there, readable and match the weights' checksum,
    without unpickling the weights; raises `CheckpointError` naming what is wrong."""
    return _read_checked(Path(folder))[1]


def _read_checked(folder: Path) -> tuple[bytes, dict[str, Any]]:
    """The weights' bytes and the metadata of a checkpoint, checked against the weights' checksum."""
    weights, meta_path = folder / "weights.pt", folder / "meta.json"
    for path in (weights, meta_path):
        if not path.is_file():
            raise CheckpointError(f"checkpoint {folder}: missing {path.name}")
    try:
        text = meta_path.read_bytes().decode("utf-8")
        data = weights.read_bytes()
    except UnicodeDecodeError as error:
        raise CheckpointError(f"checkpoint {folder}: meta.json is not UTF-8 ({error})") from error
    except OSError as error:
        raise CheckpointError(f"checkpoint {folder}: cannot be read ({error})") from error
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as error:  # ValueError includes JSONDecodeError
        raise CheckpointError(f"checkpoint {folder}: meta.json is not valid JSON ({error})") from error
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"checkpoint {folder}: meta.json must hold a JSON object, got {type(meta).__name__}"
        )
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(
            f"checkpoint {folder}: weights.pt does not match its checksum (corrupt or truncated)"
        )
    return data, meta
