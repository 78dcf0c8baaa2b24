"""Negative sampling: uniform items a user has not interacted with, for training and sampled evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from recgym.data.interactions import InteractionLog


@dataclass(frozen=True)
class UserItemSets:
    """The distinct items of each user in CSR form, used to exclude known items.

    User `u`'s items, sorted ascending, are `items[indptr[u]:indptr[u + 1]]`.
    `indptr`: [n_users + 1] int64; `items`: [n_pairs] int64, each below `n_items`.
    """

    indptr: np.ndarray
    items: np.ndarray
    n_items: int

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    @property
    def counts(self) -> np.ndarray:
        """[n_users] number of distinct items per user."""
        return np.diff(self.indptr)

    def items_of(self, user: int) -> np.ndarray:
        """Sorted items of one user."""
        return self.items[self.indptr[user] : self.indptr[user + 1]]

    def contains(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Bool array shaped like `users`/`items` (broadcast): whether each user has the item."""
        users, items = np.broadcast_arrays(
            np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        )
        inside = (items >= 0) & (items < self.n_items)
        keys = users * self.n_items + np.where(inside, items, 0)
        position = np.searchsorted(self._keys, keys)
        found = position < len(self._keys)
        found[found] = self._keys[position[found]] == keys[found]
        return found & inside

    @cached_property
    def _keys(self) -> np.ndarray:
        """[n_pairs] `user * n_items + item`, globally sorted because items are sorted within users."""
        return np.repeat(np.arange(self.n_users, dtype=np.int64), self.counts) * self.n_items + self.items


def user_item_sets(log: InteractionLog, positives_only: bool = False) -> UserItemSets:
    """The items each user touched in `log`: all rows, or only positive interactions.

    Impressions that were not clicked are known non-interactions, so negative sampling that means
    "not interacted with" passes `positives_only=True`.
    """
    frame = log.positives() if positives_only else log.frame
    keys = np.unique(frame["user"].to_numpy() * log.n_items + frame["item"].to_numpy())
    users, items = np.divmod(keys, log.n_items)
    indptr = np.zeros(log.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=log.n_users), out=indptr[1:])
    return UserItemSets(indptr=indptr, items=items.astype(np.int64), n_items=log.n_items)


def sample_negatives(
    users: np.ndarray,
    n_per_user: int,
    n_items: int,
    exclude: UserItemSets,
    generator: np.random.Generator,
) -> np.ndarray:
    """[len(users), n_per_user] items drawn uniformly from those each user has not interacted with.

    Items within a row are distinct. Instead of drawing items and rejecting known ones, each row draws
    ranks among the user's free items and maps rank r to the r-th free item, so known items cost
    nothing however many the user has; only repeated ranks within a row are re-drawn. Rows that need
    half or more of their free items are drawn by a random permutation instead, so re-drawing always ends.

    :param users: [B] user indices into `exclude`.
    :param n_items: items are drawn from `range(n_items)`; at least `exclude.n_items`.
    :raises ValueError: if a user has fewer than `n_per_user` items left to draw.
    """
    users = np.asarray(users, dtype=np.int64)
    if n_per_user < 0:
        raise ValueError(f"n_per_user must be non-negative; got {n_per_user}")
    if users.ndim != 1:
        raise ValueError(f"users must be 1-D; got shape {users.shape}")
    if n_items < exclude.n_items:
        raise ValueError(f"n_items={n_items} is below the {exclude.n_items} items of the exclusion sets")
    if len(users) and (users.min() < 0 or users.max() >= exclude.n_users):
        raise ValueError(f"user indices must lie in [0, {exclude.n_users}); got {users.min()}..{users.max()}")
    free = n_items - exclude.counts[users]  # [B]
    short = np.flatnonzero(free < n_per_user)
    if len(short):
        user = users[short[0]]
        raise ValueError(
            f"user {user} has {free[short[0]]} non-interacted items, fewer than n_per_user={n_per_user} "
            f"({len(short)} such rows)"
        )
    ranks = np.empty((len(users), n_per_user), dtype=np.int64)
    dense = 2 * n_per_user >= free
    ranks[~dense] = _distinct_ranks(free[~dense], n_per_user, generator)
    ranks[dense] = _permutation_ranks(free[dense], n_per_user, generator)
    return _rank_to_item(exclude, users, ranks, n_items)


def _distinct_ranks(free: np.ndarray, n: int, generator: np.random.Generator) -> np.ndarray:
    """[len(free), n] distinct ranks below `free` per row, re-drawing only the repeats."""
    ranks = generator.integers(0, free[:, None], size=(len(free), n))
    active = np.arange(len(free))
    while len(active):
        repeated = _repeats(ranks[active])
        has_repeat = repeated.any(axis=1)
        active, repeated = active[has_repeat], repeated[has_repeat]
        rows, cols = np.nonzero(repeated)
        ranks[active[rows], cols] = generator.integers(0, free[active[rows]])
    return ranks


def _repeats(ranks: np.ndarray) -> np.ndarray:
    """Bool mask of entries equal to an earlier entry of the same row."""
    order = np.argsort(ranks, axis=1, kind="stable")
    ordered = np.take_along_axis(ranks, order, axis=1)
    repeated_sorted = np.zeros(ranks.shape, dtype=bool)
    repeated_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    repeated = np.empty_like(repeated_sorted)
    np.put_along_axis(repeated, order, repeated_sorted, axis=1)
    return repeated


def _permutation_ranks(free: np.ndarray, n: int, generator: np.random.Generator) -> np.ndarray:
    """[len(free), n] distinct ranks below `free`: the first n of a random order of each row's ranks."""
    if len(free) == 0:
        return np.empty((0, n), dtype=np.int64)
    keys = generator.random((len(free), int(free.max())))
    keys[np.arange(keys.shape[1]) >= free[:, None]] = np.inf  # ranks the row does not have sort last
    return np.argsort(keys, axis=1)[:, :n]


def _rank_to_item(exclude: UserItemSets, users: np.ndarray, ranks: np.ndarray, n_items: int) -> np.ndarray:
    """The `ranks`-th items each user has not interacted with.

    With the user's known items k_0 < k_1 < ..., free rank r is item r + #{j : k_j - j <= r}. Offsetting
    each user's `k_j - j` by `user * (n_items + 1)` makes one sorted array that a single searchsorted
    answers for all rows.
    """
    span = n_items + 1
    within = np.arange(len(exclude.items)) - np.repeat(exclude.indptr[:-1], exclude.counts)  # j per pair
    owner = np.repeat(np.arange(exclude.n_users, dtype=np.int64), exclude.counts)
    shifted = owner * span + exclude.items - within  # sorted: k_j - j is non-decreasing within a user
    queries = users[:, None] * span + ranks
    skipped = np.searchsorted(shifted, queries, side="right") - exclude.indptr[users][:, None]
    return ranks + skipped
