"""Base of the id-based user models (NeuMF, MF, AutoRec): pointwise training, a static user state.

These models score a (user, item) pair and are trained like He et al. (2017): every training positive
is paired with `negatives` items sampled among those the user has no row for, logged impressions that
were not clicked join as explicit negatives, and the loss is binary cross-entropy. Their simulation
state is the user id alone: interest does not move with consumption (the dynamics add fatigue).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recgym.data.interactions import InteractionLog
from recgym.data.sampling import sample_negatives, user_item_sets
from recgym.models.contract import ModelState, model_device
from recgym.models.train_config import TrainConfig


def pointwise_examples(
    train: InteractionLog, config: TrainConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Users [N], items [N] and labels [N] of one epoch: positives, sampled and explicit negatives."""
    positives = train.positives()
    users = positives["user"].to_numpy()
    items = positives["item"].to_numpy()
    exclude = user_item_sets(train, positives_only=True)
    sampled = sample_negatives(users, config.negatives, train.n_items, exclude, rng)  # [P, negatives]
    all_users = [users, np.repeat(users, config.negatives)]
    all_items = [items, sampled.reshape(-1)]
    labels = [np.ones(len(users)), np.zeros(sampled.size)]
    if config.explicit_negatives and train.has_explicit_negatives:
        shown = train.frame[train.frame["rating"] < train.like_threshold]
        all_users.append(shown["user"].to_numpy())
        all_items.append(shown["item"].to_numpy())
        labels.append(np.zeros(len(shown)))
    return (
        torch.from_numpy(np.concatenate(all_users)),
        torch.from_numpy(np.concatenate(all_items)),
        torch.from_numpy(np.concatenate(labels)).float(),
    )


class PointwiseModel(nn.Module):
    """Shared training and simulation plumbing; subclasses define `score` and `score_all`."""

    def __init__(self, n_users: int, n_items: int):
        super().__init__()
        if n_users < 1 or n_items < 1:
            raise ValueError(f"a user model needs n_users and n_items >= 1, got {n_users} x {n_items}")
        self.n_users, self.n_items = n_users, n_items

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def item_vectors(self) -> torch.Tensor:
        raise NotImplementedError

    def set_context(self, log: InteractionLog) -> None:
        """Id-only models know users by their id alone."""

    def epoch_batches(
        self, train: InteractionLog, config: TrainConfig, rng: np.random.Generator, shuffle: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        users, items, labels = pointwise_examples(train, config, rng)
        device = model_device(self)
        for batch in torch.randperm(len(users), generator=shuffle).split(config.batch_size):
            yield users[batch].to(device), items[batch].to(device), labels[batch].to(device)

    def loss(self, users: torch.Tensor, items: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of the logits of (users [B], items [B]) against labels [B] in {0, 1}."""
        return F.binary_cross_entropy_with_logits(self.score(users, items), labels)

    def begin(self, users: torch.Tensor) -> ModelState:
        return {"user": users}

    def advance(self, state: ModelState, items: torch.Tensor, mask: torch.Tensor | None = None) -> ModelState:
        return state

    def state_score(self, state: ModelState, items: torch.Tensor) -> torch.Tensor:
        return self.score(state["user"], items)

    def state_score_all(self, state: ModelState) -> torch.Tensor:
        return self.score_all(state["user"])
