"""Run folders: every run, experiment or benchmark, writes into a folder of its own, named so that
runs sort by what and when and never overwrite each other, and marked until it has its results so
that a killed run is never mistaken for a finished one."""

from __future__ import annotations

import datetime
import os
import socket
import time
from pathlib import Path
from typing import Any

from recgym.runs.checkpoint import atomic_write_json

UNFINISHED = "UNFINISHED"
"""The file in a run folder that has no results.json yet: the run is going, or was killed or crashed."""


def make_run_dir(out: str, env: str, experiment: str, seed: int) -> Path:
    """`out/{env}__{experiment}__{seed}__{unix time}`, created and marked `UNFINISHED`; a suffix `-N`
    keeps runs started in the same second apart."""
    base = Path(out) / f"{env}__{experiment}__{seed}__{int(time.time())}"
    folder, n = base, 0
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            break
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    (folder / UNFINISHED).write_text(
        f"started {started} by process {os.getpid()} on {socket.gethostname()}. recgym removes this file "
        "once results.json is written: a folder that keeps it is a run still going, or one that was "
        "killed or crashed (resume it with --resume where the run kept checkpoints).\n"
    )
    return folder


def finish_run_dir(folder: Path, results: dict[str, Any]) -> None:
    """Write the run's results.json (atomically), then remove its `UNFINISHED` mark."""
    atomic_write_json(folder / "results.json", results)
    (folder / UNFINISHED).unlink(missing_ok=True)
