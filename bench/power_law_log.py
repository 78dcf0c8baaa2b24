"""Seeded synthetic logs of a public dataset's shape, for benchmarks that need its size, not its signal.

Item popularity follows a power law (the item of popularity rank r is drawn with probability
proportional to (r + 1) ** -exponent), user activity a log-normal with a floor, and every user and
every item appears at least once, so the log's id maps have exactly the asked sizes. Each user's items
are distinct. Imported by the bench scripts that run from bench/ (`python bench/<script>.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def power_law_frame(
    n_users: int,
    n_items: int,
    n_interactions: int,
    *,
    min_per_user: int = 5,
    exponent: float = 1.0,
    ratings: bool = False,
    timestamps: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Columns user, item, rating, timestamp: exactly n_interactions distinct (user, item) rows.

    :param min_per_user: least interactions of a user (a 5-core log has 5).
    :param exponent: of the item popularity power law (1.0: Zipf).
    :param ratings: star ratings 1-5 (skewed to 4, like MovieLens) instead of 1.0 everywhere.
    :param timestamps: seconds increasing within each user (row order otherwise: all 0).
    :raises ValueError: for a shape no log can have (a user needing more items than exist).
    """
    if not n_users * min_per_user <= n_interactions <= n_users * n_items or n_items < min_per_user:
        raise ValueError(
            f"cannot place {n_interactions} interactions on {n_users} users x {n_items} items "
            f"with at least {min_per_user} per user"
        )
    rng = np.random.default_rng(seed)
    counts = _activity(n_users, n_items, n_interactions, min_per_user, rng)  # [n_users]
    users = np.repeat(np.arange(n_users), counts)
    popularity = (np.arange(n_items) + 1.0) ** -exponent
    item_of_rank = rng.permutation(n_items)
    items = _distinct_items(counts, item_of_rank, popularity / popularity.sum(), rng)
    missing = np.setdiff1d(np.arange(n_items), items)  # items never drawn: every item must appear
    if len(missing):
        items = _place_missing(items, missing, rng)
    rating = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], len(users), p=[0.06, 0.11, 0.26, 0.35, 0.22])
    within = np.arange(len(users)) - np.repeat(np.cumsum(counts) - counts, counts)
    start = rng.integers(956_700_000, 1_040_000_000, n_users)  # ML-1M's span of seconds
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "rating": rating if ratings else 1.0,
            "timestamp": start[users] + 60 * within if timestamps else 0,
        }
    )


def _activity(n_users: int, n_items: int, total: int, floor: int, rng: np.random.Generator) -> np.ndarray:
    """[n_users] interaction counts: a heavy-tailed log-normal above `floor`, summing to `total`."""
    weights = rng.lognormal(0.0, 1.2, n_users)
    extra = total - floor * n_users
    counts = floor + np.floor(extra * weights / weights.sum()).astype(np.int64)
    counts = np.minimum(counts, n_items)
    while (short := total - counts.sum()) > 0:  # hand out what rounding and the cap left
        room = np.flatnonzero(counts < n_items)
        chosen = rng.choice(room, min(short, len(room)), replace=False)
        counts[chosen] += 1
    return counts


def _distinct_items(
    counts: np.ndarray, item_of_rank: np.ndarray, p: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Items per user (grouped like np.repeat(arange, counts)), by popularity, distinct within a user."""
    n_items = len(p)
    users = np.repeat(np.arange(len(counts)), counts)
    ranks = rng.choice(n_items, len(users), p=p)
    while True:
        keys = users * n_items + ranks
        order = np.argsort(keys, kind="stable")
        repeated = np.zeros(len(keys), dtype=bool)
        repeated[order[1:]] = keys[order[1:]] == keys[order[:-1]]
        if not repeated.any():
            return item_of_rank[ranks]
        heavy = repeated & (counts[users] * 2 > n_items)  # a user holding most of the catalog: uniform
        ranks[repeated] = rng.choice(n_items, int(repeated.sum()), p=p)
        ranks[heavy] = rng.integers(0, n_items, int(heavy.sum()))


def _place_missing(items: np.ndarray, missing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """items with each missing item swapped in for a row of an item that keeps another row.

    A missing item appears nowhere, so no user holds it twice after the swap.
    """
    first = np.unique(items, return_index=True)[1]
    spare = np.setdiff1d(np.arange(len(items)), first)  # every row but each item's first
    if len(spare) < len(missing):
        raise ValueError(f"{len(missing)} items never drawn and only {len(spare)} rows to give them")
    items = items.copy()
    items[rng.choice(spare, len(missing), replace=False)] = missing
    return items


def write_atomic_inter(frame: pd.DataFrame, path: Path) -> None:
    """frame as a RecBole atomic `.inter` file (tab-separated, typed header), written then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    tmp = path.with_suffix(".inter.tmp")
    with tmp.open("w") as out:
        out.write(header)
        frame.to_csv(
            out, sep="\t", header=False, index=False, columns=["user", "item", "rating", "timestamp"]
        )
    tmp.replace(path)
