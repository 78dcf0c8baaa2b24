"""Atomic, checksummed, code-free checkpoints.

A checkpoint is a folder with `weights.pt` (tensors only, loaded with `weights_only=True`, so a file
from a stranger cannot run code) and `meta.json` (config, library versions, the SHA-256 of the
weights). Every file is written to a temporary name and renamed into place, so a crash or a full disk
never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import torch


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt, or does not match what is asked of it."""


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
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


def save_checkpoint(folder: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Save tensors and JSON metadata to folder; the weights' checksum goes into meta.json."""
    buffer = io.BytesIO()
    torch.save({name: tensor.detach().cpu() for name, tensor in tensors.items()}, buffer)
    data = buffer.getvalue()
    folder = Path(folder)
    atomic_write_bytes(folder / "weights.pt", data)
    full_meta = {**meta, "sha256": hashlib.sha256(data).hexdigest(), "versions": versions()}
    atomic_write_json(folder / "meta.json", full_meta)


def load_checkpoint(folder: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load and verify a checkpoint; raises `CheckpointError` naming what is wrong."""
    folder = Path(folder)
    weights, meta_path = folder / "weights.pt", folder / "meta.json"
    for path in (weights, meta_path):
        if not path.is_file():
            raise CheckpointError(f"checkpoint {folder}: missing {path.name}")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"checkpoint {folder}: meta.json is not valid JSON ({error})") from error
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"checkpoint {folder}: meta.json must hold a JSON object, got {type(meta).__name__}"
        )
    data = weights.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(
            f"checkpoint {folder}: weights.pt does not match its checksum (corrupt or truncated)"
        )
    try:
        tensors = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for unreadable files
        raise CheckpointError(f"checkpoint {folder}: weights.pt cannot be loaded ({error})") from error
    return tensors, meta
