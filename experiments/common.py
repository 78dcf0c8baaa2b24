"""Pieces every experiment shares: reading the chosen logs and naming the run folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from recgym.data import InteractionLog, load_movielens
from recgym.data.synthetic import LoggingConfig, generate_logs

DataSource = Literal["synthetic", "movielens"]


def load_logs(
    data: DataSource, path: str | None, synthetic: LoggingConfig | None = None, likes: bool = False
) -> InteractionLog:
    """The built-in synthetic logs, or MovieLens files (u.data, ratings.dat, ratings.csv, .inter) at path;
    with `likes`, ratings become likes and explicit non-likes (`InteractionLog.as_likes`)."""
    if data == "synthetic":
        log = generate_logs(synthetic)[0]
    elif path is None:
        raise ValueError("--data movielens needs --path to a MovieLens file or folder")
    else:
        log = load_movielens(path)
    return log.as_likes() if likes else log


def world_name(data: DataSource, path: str | None) -> str:
    """Short name of the logs, e.g. 'synthetic' or 'ml-100k' (the folder holding the MovieLens file)."""
    if data == "synthetic" or path is None:
        return "synthetic"
    resolved = Path(path).resolve()
    return (resolved if resolved.is_dir() else resolved.parent).name


def env_name(data: DataSource, path: str | None, model: str = "neumf") -> str:
    """Short name of the simulated world, e.g. 'neumf-synthetic' or 'sasrec-ml-100k'."""
    return f"{model}-{world_name(data, path)}"


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
