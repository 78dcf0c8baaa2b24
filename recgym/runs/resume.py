"""Finding the run an experiment's `--resume` continues, and checking it is the same experiment.

Checked before anything is fitted: the run's options (config.json), the fingerprints of what it computed
from (inputs.json, `recgym.runs.inputs`) and that it has a checkpoint to continue from.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from recgym.runs.checkpoint import CheckpointError
from recgym.runs.checkpoint_series import latest_complete_checkpoint
from recgym.runs.inputs import changed_inputs

MAY_DIFFER = ("resume", "progress", "checkpoint_every", "out", "cache_dir")
"""Options that change how a run is watched, saved or found, not what it computes (a run folder found
under another spelling of --out, or moved, resumes where it is)."""


def run_to_resume(
    out: str, env: str, experiment: str, seed: int, config: dict[str, Any], inputs: dict[str, Any]
) -> Path:
    """The newest run folder `out/{env}__{experiment}__{seed}__*`, once it is known to continue this
    run: the same options but `MAY_DIFFER`, the same inputs, and a checkpoint to start from.

    ValueError naming what differs or is damaged; CheckpointError when there is no checkpoint.
    """
    pattern = f"{env}__{experiment}__{seed}__*"
    runs = [folder for folder in Path(out).glob(pattern) if folder.is_dir()]
    if not runs:
        raise ValueError(f"--resume: no run {pattern} under {out} to continue")
    run_dir = max(runs, key=_started)
    saved = _read_json(run_dir / "config.json")
    current = json.loads(json.dumps(config, default=str))  # as config.json holds it
    differ = sorted(key for key in saved.keys() | current.keys() if saved.get(key) != current.get(key))
    differ = [key for key in differ if key not in MAY_DIFFER]
    if differ:
        raise ValueError(f"--resume: {run_dir} was started with other options ({', '.join(differ)})")
    changes = changed_inputs(_read_json(run_dir / "inputs.json"), inputs)
    if changes:
        raise ValueError(
            f"--resume: the inputs of {run_dir} changed since it started ({'; '.join(changes)}); "
            "continuing would mix them: start a new run without --resume"
        )
    try:
        with warnings.catch_warnings():  # a fallback to an older checkpoint is announced when it is loaded
            warnings.simplefilter("ignore")
            latest_complete_checkpoint(run_dir / "checkpoints")
    except CheckpointError as error:
        raise CheckpointError(
            f"--resume: {error}: the run stopped before its first checkpoint (or ran without "
            "--checkpoint-every); start it again without --resume"
        ) from None
    return run_dir


def _read_json(path: Path) -> dict[str, Any]:
    """A run's JSON record; ValueError naming the file when it is missing, damaged or not an object."""
    if not path.is_file():
        raise ValueError(f"--resume: {path} is missing, so the run cannot be checked; start a new run")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"--resume: {path} is damaged ({error}); start a new run") from None
    if not isinstance(value, dict):
        raise ValueError(f"--resume: {path} is damaged (not a JSON object); start a new run")
    return value


def _started(folder: Path) -> tuple[int, ...]:
    """(unix time, same-second suffix) of a run folder named `...__{time}` or `...__{time}-{n}`."""
    stamp = folder.name.rsplit("__", 1)[1]
    return tuple(int(part) for part in stamp.split("-") if part.isdigit())
