"""Each user's click profile: what a recommender knows of a user from the logs alone.

A user's profile is the mean of the unit vectors of the items they clicked in a log, made unit length,
as YouTube's candidate generation averages the embeddings of a user's watched videos (Covington et al.,
RecSys 2016). The synthetic world shows it as the user part of its dense observation: its true
interest vectors stay hidden, as real users' do, but their logged clicks are what any recommender has.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recgym.data.interactions import InteractionLog


def click_profiles(log: InteractionLog, item_vectors: torch.Tensor) -> torch.Tensor:
    """[n_users, d] float32 unit rows: each user's mean clicked-item vector (zeros for a user who never
    clicked), from item_vectors [n_items, d] in the log's item index order."""
    if item_vectors.ndim != 2 or len(item_vectors) != log.n_items:
        raise ValueError(
            f"item_vectors must have shape ({log.n_items}, d) for the log's {log.n_items} items, "
            f"got {tuple(item_vectors.shape)}"
        )
    clicked = log.positives()
    users = torch.as_tensor(clicked["user"].to_numpy(copy=True), dtype=torch.long)
    items = torch.as_tensor(clicked["item"].to_numpy(copy=True), dtype=torch.long)
    vectors = F.normalize(item_vectors.detach().float().cpu(), dim=-1)
    sums = torch.zeros(log.n_users, vectors.shape[1]).index_add_(0, users, vectors[items])
    return F.normalize(sums, dim=-1)
