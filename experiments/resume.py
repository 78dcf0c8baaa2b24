"""Finding the run an experiment's `--resume` continues, and checking it is the same experiment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAY_DIFFER = ("resume", "progress", "checkpoint_every")
"""Options that change how a run is watched or saved, not what it computes."""


def run_to_resume(out: str, env: str, experiment: str, seed: int, config: dict[str, Any]) -> Path:
    """The newest run folder `out/{env}__{experiment}__{seed}__*`; ValueError when there is none, or
    when its config.json differs from config in anything but `MAY_DIFFER`."""
    pattern = f"{env}__{experiment}__{seed}__*"
    runs = [folder for folder in Path(out).glob(pattern) if folder.is_dir()]
    if not runs:
        raise ValueError(f"--resume: no run {pattern} under {out} to continue")
    run_dir = max(runs, key=_started)
    saved = json.loads((run_dir / "config.json").read_text())
    current = json.loads(json.dumps(config, default=str))  # as config.json holds it
    differ = sorted(key for key in saved.keys() | current.keys() if saved.get(key) != current.get(key))
    differ = [key for key in differ if key not in MAY_DIFFER]
    if differ:
        raise ValueError(f"--resume: {run_dir} was started with other options ({', '.join(differ)})")
    return run_dir


def _started(folder: Path) -> tuple[int, ...]:
    """(unix time, same-second suffix) of a run folder named `...__{time}` or `...__{time}-{n}`."""
    stamp = folder.name.rsplit("__", 1)[1]
    return tuple(int(part) for part in stamp.split("-") if part.isdigit())
