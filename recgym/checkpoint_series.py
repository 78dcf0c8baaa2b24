"""A folder of successive checkpoints of one training run, with a `LATEST` pointer.

`save_checkpoint` writes each file atomically, but a crash between `weights.pt` and `meta.json`
would still leave a folder whose two files disagree. A series never writes into the checkpoint it
points to: each save goes to a new `step-{timesteps}` folder, `LATEST` is switched to it atomically
once both files are complete, and only then are folders older than the previous one removed. A
crash at any moment leaves `LATEST` naming a complete checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from recgym.checkpoint import CheckpointError, atomic_write_text, save_checkpoint

LATEST = "LATEST"


def save_in_series(
    root: str | Path, step: int, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    """Save a checkpoint of training step `step` under root and point `LATEST` at it; of the older
    checkpoints only the one `LATEST` pointed to before is kept."""
    root = Path(root)
    previous = _latest_name(root)
    name, n = f"step-{step:012d}", 0
    while name == previous:  # never overwrite the checkpoint LATEST points to
        n += 1
        name = f"step-{step:012d}-{n}"
    save_checkpoint(root / name, tensors, meta)
    atomic_write_text(root / LATEST, name + "\n")
    for folder in root.glob("step-*"):
        if folder.name not in (name, previous) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    return root / name


def latest_checkpoint(root: str | Path) -> Path:
    """The checkpoint folder `LATEST` names; CheckpointError when there is none."""
    root = Path(root)
    name = _latest_name(root)
    if name is None:
        raise CheckpointError(f"no checkpoint in {root}: it has no {LATEST} file")
    return root / name


def _latest_name(root: Path) -> str | None:
    path = root / LATEST
    if not path.is_file():
        return None
    name = path.read_text().strip()
    if not name.startswith("step-") or "/" in name or "\\" in name or ".." in name:
        raise CheckpointError(f"{path} must name a step-* folder beside it, got {name!r}")
    return name
