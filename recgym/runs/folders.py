"""Run folders: every run, experiment or benchmark, writes into a folder of its own, named so that
runs sort by what and when and never overwrite each other."""

from __future__ import annotations

import time
from pathlib import Path


def make_run_dir(out: str, env: str, experiment: str, seed: int) -> Path:
    """`out/{env}__{experiment}__{seed}__{unix time}`, created; a suffix `-N` keeps runs started in
    the same second apart."""
    base = Path(out) / f"{env}__{experiment}__{seed}__{int(time.time())}"
    folder, n = base, 0
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
