"""Offline ranking metrics for leave-one-out evaluation (HR@k, NDCG@k).

Two protocols rank each user's one held-out positive:
- sampled: against `n_negatives` items the user never interacted with, drawn uniformly (He et al.,
  "Neural Collaborative Filtering", WWW 2017: 99 negatives);
- full: against every item except the user's training items, the protocol Krichene & Rendle ("On
  Sampled Metrics for Item Recommendation", KDD 2020) recommend because sampled metrics can
  order models differently from it.

Ties always count against the model, so a constant scorer gets the worst rank rather than the best.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from recgym.data.interactions import InteractionLog
from recgym.data.sampling import sample_negatives, user_item_sets
from recgym.models.contract import Scorer, users_per_block

KnownItems = Sequence[Sequence[int]] | tuple[np.ndarray, np.ndarray]
"""Known items per user: item lists indexed by user, or a CSR pair (indptr [n_users + 1], items)."""


def hit_rate(ranks: torch.Tensor, k: int) -> float:
    """Share of held-out items ranked in the top k; `ranks` [N] are 0-based."""
    return float((ranks < k).double().mean())


def ndcg(ranks: torch.Tensor, k: int) -> float:
    """Mean NDCG@k with one relevant item per row: 1 / log2(rank + 2) inside the top k, else 0."""
    gains = 1.0 / torch.log2(ranks.double() + 2.0)  # [N]
    return float(torch.where(ranks < k, gains, torch.zeros_like(gains)).mean())


@contextmanager
def _scoring(model: Scorer) -> Iterator[torch.device]:
    """No gradients and, for an `nn.Module`, eval mode (no dropout), restored afterwards.

    Yields the model's device (CPU for a model without tensors), so index tensors can be moved there.
    """
    if not isinstance(model, nn.Module):
        with torch.no_grad():
            yield torch.device("cpu")
        return
    tensors = [*model.parameters(), *model.buffers()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield tensors[0].device if tensors else torch.device("cpu")
    finally:
        model.train(was_training)


def sampled_ranks(
    model: Scorer,
    users: torch.Tensor,
    items: torch.Tensor,
    negatives: torch.Tensor,
    *,
    chunk_size: int = 1024,
) -> torch.Tensor:
    """Rank [N] of each held-out item among itself and its sampled negatives.

    The rank is the number of negatives scoring >= the held-out item: ties count against the model,
    so a constant scorer gets rank n_neg (the worst), not 0.

    :param model: has `score(users [B], items [B]) -> [B]`.
    :param users: [N] user indices.
    :param items: [N] the held-out item of each user.
    :param negatives: [N, n_neg] sampled negative items per user.
    :param chunk_size: users scored at once, bounding memory.
    :return: LongTensor [N] of ranks in 0..n_neg, on the CPU.
    """
    ranks = torch.zeros(len(users), dtype=torch.long)  # filled in place: no pieces left between blocks
    with _scoring(model) as device:
        for start in range(0, len(users), chunk_size):
            stop = start + chunk_size
            candidates = torch.cat([items[start:stop, None], negatives[start:stop]], dim=1).to(device)
            chunk_users = users[start:stop, None].to(device).expand_as(candidates)  # [b, 1 + n_neg]
            scores = model.score(chunk_users.reshape(-1), candidates.reshape(-1)).view(candidates.shape)
            ranks[start:stop] = (scores[:, 1:] >= scores[:, :1]).sum(dim=1).cpu()  # [b]
    return ranks


def full_ranks(
    model: Scorer,
    users: torch.Tensor,
    items: torch.Tensor,
    exclude: KnownItems,
    *,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Rank [N] of each held-out item among all items, the user's known items left out.

    The rank is the number of other, non-excluded items scoring >= the held-out item (ties count
    against the model). The held-out item never competes with itself, even when listed in `exclude`.

    :param model: has `score_all(users [B]) -> [B, n_items]`.
    :param users: [N] user indices.
    :param items: [N] the held-out item of each user.
    :param exclude: known (training) items per user, indexed by user index.
    :param chunk_size: users scored at once; memory grows with chunk_size * n_items (default:
        `users_per_block(n_items)`).
    :return: LongTensor [N] of ranks in 0..n_items - 1, on the CPU.
    """
    indptr, known = (torch.as_tensor(a, dtype=torch.long) for a in _as_csr(exclude))
    ranks = torch.zeros(len(users), dtype=torch.long)  # filled in place: no pieces left between blocks
    with _scoring(model) as device:
        if chunk_size is None:  # a duck-typed scorer may not say its catalog size: one row tells
            n_items = getattr(model, "n_items", None) or model.score_all(users[:1].to(device)).shape[1]
            chunk_size = users_per_block(n_items)
        for start in range(0, len(users), chunk_size):
            chunk_users = users[start : start + chunk_size].cpu()  # [b]
            chunk_items = items[start : start + chunk_size].to(device)  # [b]
            scores = model.score_all(chunk_users.to(device))  # [b, n_items]
            rows = torch.arange(len(chunk_users), device=device)  # [b]
            beats = scores >= scores[rows, chunk_items][:, None]  # [b, n_items]
            row, col = _rows_of(indptr, known, chunk_users)
            beats[row.to(device), col.to(device)] = False
            beats[rows, chunk_items] = False
            ranks[start : start + len(chunk_users)] = beats.sum(dim=1).cpu()  # [b]
    return ranks


def _as_csr(exclude: KnownItems) -> tuple[np.ndarray, np.ndarray]:
    """(indptr [n_users + 1], items [nnz]) from either accepted form of known items."""
    if isinstance(exclude, tuple) and len(exclude) == 2 and isinstance(exclude[0], np.ndarray):
        return exclude[0], exclude[1]
    lengths = np.array([len(row) for row in exclude], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    items = np.concatenate(
        [np.zeros(0, dtype=np.int64), *(np.asarray(row, dtype=np.int64) for row in exclude)]
    )
    return indptr, items


def _rows_of(
    indptr: torch.Tensor, known: torch.Tensor, users: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(row [nnz_b], item [nnz_b]): every known item of the chunk's users [b], with its chunk row."""
    starts, lengths = indptr[users], indptr[users + 1] - indptr[users]  # [b], [b]
    row = torch.repeat_interleave(torch.arange(len(users)), lengths)  # [nnz_b]
    offsets = torch.cumsum(lengths, dim=0) - lengths  # [b]: where each row starts in the output
    position = starts[row] + torch.arange(len(row)) - offsets[row]  # [nnz_b]
    return row, known[position]


def evaluate_ranking(
    model: Scorer,
    train: InteractionLog,
    held_out: InteractionLog,
    *,
    k: int = 10,
    n_negatives: int = 99,
    seed: int = 0,
    full: bool = True,
) -> dict[str, Any]:
    """HR@k and NDCG@k of the held-out positives under the sampled and (with `full`) the full protocol.

    :param model: a user model with `score` and `score_all`.
    :param train: the training log; its positive interactions are excluded in the full protocol
        (impressions that were not clicked stay candidates).
    :param held_out: validation or test log with at most one positive row per user.
    :param k: cut-off of both metrics; the result keys carry it (`hr@10`).
    :param n_negatives: negatives per user for the sampled protocol, drawn uniformly without
        replacement among the items the user has not interacted with in train or held_out; fewer
        (as many as every user has, reported as `n_negatives`) in a catalog too small for them.
    :param seed: seeds the numpy generator that draws the negatives.
    :param full: also rank against the whole catalog (a pass over users x items, the costly part: the
        training loop's validation leaves it out).
    :return: `{"sampled": {"hr@k", "ndcg@k"}, "full": {"hr@k", "ndcg@k"}, "n_users": N}` (no "full"
        without `full`), plus `"n_negatives"` and a warning when fewer than asked could be drawn.
    :raises ValueError: when a user has two held-out positives, no user has one, or a user has no
        unseen item left to rank against.
    """
    positives = held_out.positives()
    users = positives["user"].to_numpy(dtype=np.int64)
    items = positives["item"].to_numpy(dtype=np.int64)
    if len(users) == 0:
        raise ValueError("held_out has no positive rows to rank")
    if len(np.unique(users)) != len(users):
        raise ValueError("held_out must hold at most one positive row per user")
    known = user_item_sets(
        train.with_frame(pd.concat([train.positives(), positives])), positives_only=True
    )  # [user] -> items interacted with in train or held out
    unseen = int((train.n_items - known.counts[users]).min())
    if unseen < 1:
        raise ValueError("a held-out user has interacted with every item: there is nothing to rank against")
    drawn = min(n_negatives, unseen)
    if drawn < n_negatives:
        always = f": with fewer than {k} it is 1 whatever the model" if drawn < k else ""
        warnings.warn(
            f"sampled HR@{k} ranks each held-out item against {drawn} negatives, not {n_negatives}, since "
            f"some user of the {train.n_items}-item catalog has no more unseen items{always}; "
            "read the full-ranking figures",
            stacklevel=2,
        )
    negatives = sample_negatives(users, drawn, train.n_items, known, np.random.default_rng(seed))
    users_t, items_t = torch.tensor(users), torch.tensor(items)
    sampled = sampled_ranks(model, users_t, items_t, torch.from_numpy(negatives))
    metrics: dict[str, Any] = {"sampled": {f"hr@{k}": hit_rate(sampled, k), f"ndcg@{k}": ndcg(sampled, k)}}
    if full:
        train_known = user_item_sets(train, positives_only=True)
        ranks = full_ranks(model, users_t, items_t, (train_known.indptr, train_known.items))
        metrics["full"] = {f"hr@{k}": hit_rate(ranks, k), f"ndcg@{k}": ndcg(ranks, k)}
    return metrics | {"n_users": len(users)} | ({"n_negatives": drawn} if drawn < n_negatives else {})
