"""Does a client beat popular over all its seeds? Each session's return minus popular's, averaged over
the client's trained seeds, with a 95% interval over sessions (the session is the unit: every seed was
scored on the same sessions).

    python bench/pooled.py bench/results/clients-tianshou-candidates-100k-gamma-0.5-seed-*.json \
        --client tianshou-dqn

Reads result files of bench/clients.py and bench/tianshou_dqn.py. They must have been scored on the
same sessions (same env, session seeds and popular returns) and hold each seed once; otherwise it
refuses rather than mix them. Prints one line and returns the mean and interval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from clients import ENV, paired


@dataclass
class Args:
    files: tyro.conf.Positional[tuple[Path, ...]]
    """Result files, one or more, each with a popular row."""
    client: str = "cleanrl"
    """The rows' client name (`cleanrl`, `tianshou-dqn`, `cleanrl, masked`...)."""


def sessions_of(settings: dict) -> tuple[str, int, int]:
    """The env, session count and first session seed a result file was scored on (the dense id and
    10,000 before `env` and `first_session` were settings)."""
    return settings.get("env", ENV), settings["episodes"], settings.get("first_session", 10_000)


def pooled_minus_popular(results: list[dict], client: str) -> list[float]:
    """The mean over sessions of (client's return averaged over its seeds) minus popular's, and its 95%
    interval: [mean, low, high]."""
    if len({sessions_of(r["settings"]) for r in results}) != 1:
        raise ValueError("the result files were scored on different sessions (env, episodes, first_session)")
    populars = [
        np.asarray(row["returns"]) for r in results for row in r["rows"] if row["client"] == "popular"
    ]
    if any(not np.array_equal(popular, populars[0]) for popular in populars):
        raise ValueError("the result files' popular returns differ: not the same sessions")
    rows = [row for r in results for row in r["rows"] if row["client"] == client]
    if not rows:
        raise ValueError(f"no {client!r} rows in the result files")
    keys = [(row["budget"], row["seed"]) for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a (budget, seed) of {client!r} appears twice: {sorted(keys)}")
    if len({budget for budget, _ in keys}) != 1:
        raise ValueError(f"{client!r} rows have different budgets: {sorted(keys)}")
    return paired(np.mean([np.asarray(row["returns"]) for row in rows], axis=0) - populars[0])


def main(args: Args) -> list[float]:
    results = [json.loads(path.read_text()) for path in args.files]
    mean, low, high = pooled_minus_popular(results, args.client)
    seeds = sum(row["client"] == args.client for r in results for row in r["rows"])
    print(f"{args.client}, {seeds} seeds, minus popular per session: {mean:+.3f} [{low:+.3f}, {high:+.3f}]")
    return [mean, low, high]


if __name__ == "__main__":
    main(tyro.cli(Args))
