"""A folder of successive checkpoints of one training run, with a `LATEST` pointer.

`save_checkpoint` writes each file atomically, but a crash between `weights.pt` and `meta.json`
would still leave a folder whose two files disagree. A series never writes into the checkpoint it
points to: each save goes to a new `step-{timesteps}` folder, `LATEST` is switched to it atomically
once both files are complete, and only then are folders older than the previous one removed. A
crash at any moment leaves `LATEST` naming a complete checkpoint. A disk can still damage it later:
`latest_complete_checkpoint` then falls back to the previous one, with a warning.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from recgym.runs.checkpoint import CheckpointError, atomic_write_text, save_checkpoint, verify_checkpoint

LATEST = "LATEST"
STEP_FOLDER = re.compile(r"step-(\d+)(?:-(\d+))?")
"""`step-{step}` or, for a step saved again, `step-{step}-{n}`."""


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


def latest_complete_checkpoint(root: str | Path) -> Path:
    """The newest checkpoint folder of the series whose files are complete and match their checksum:
    the one `LATEST` names, else (with a warning naming both) the newest other `step-*` folder that
    verifies; CheckpointError naming root and what is wrong with each when none does."""
    root = Path(root)
    problems: list[str] = []
    try:
        name = _latest_name(root)
    except CheckpointError as error:
        name = None
        problems.append(str(error))
    if name is None and not problems:
        problems.append(f"{root / LATEST} does not exist")
    others = sorted(
        (
            (int(match[1]), int(match[2] or 0), folder)
            for folder in root.glob("step-*")
            if (match := STEP_FOLDER.fullmatch(folder.name)) and folder.name != name
        ),
        reverse=True,
    )  # newest first
    for folder in ([root / name] if name is not None else []) + [folder for *_, folder in others]:
        try:
            verify_checkpoint(folder)
        except CheckpointError as error:
            problems.append(str(error))
            continue
        if problems:
            damaged = f"{root / name} is damaged" if name is not None else f"{LATEST} is unusable"
            warnings.warn(f"{damaged} ({'; '.join(problems)}); falling back to {folder}", stacklevel=2)
        return folder
    raise CheckpointError(f"no complete checkpoint in {root}: " + ("; ".join(problems) or "no step-* folder"))


def _latest_name(root: Path) -> str | None:
    path = root / LATEST
    if not path.is_file():
        return None
    try:
        name = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{path}: {LATEST} is not UTF-8 ({error})") from error
    except OSError as error:
        raise CheckpointError(f"{path} cannot be read ({error})") from error
    if not name.startswith("step-") or "/" in name or "\\" in name or ".." in name:
        raise CheckpointError(f"{path} must name a step-* folder beside it, got {name!r}")
    return name
