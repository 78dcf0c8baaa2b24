"""One training loop for pointwise user models: BCE on positives and negatives, early stopping.

Each epoch pairs every training positive with `negatives` items sampled uniformly among those the
user has no row for; logged impressions that were not clicked join as explicit negatives. After each
epoch the model is ranked on the validation split (sampled protocol) and the best epoch's weights
are kept, so over-training cannot make the result worse.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from recgym.data.interactions import InteractionLog
from recgym.data.sampling import sample_negatives, user_item_sets
from recgym.models.contract import UserModel
from recgym.models.metrics import evaluate_ranking


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by the user models."""

    epochs: int = 30
    """Most epochs to train."""
    batch_size: int = 1024
    """Examples per gradient step."""
    learning_rate: float = 2e-3
    """Adam learning rate."""
    weight_decay: float = 1e-6
    """Adam weight decay (L2 on the embeddings)."""
    negatives: int = 4
    """Sampled negatives per positive (He et al. 2017 use 4)."""
    explicit_negatives: bool = True
    """Also train on logged impressions that were not clicked, when the log has them."""
    patience: int = 3
    """Epochs without a better validation NDCG@10 before stopping."""
    seed: int = 0
    """Seed of initialisation, negative sampling and shuffling."""


@dataclass(frozen=True)
class FitReport:
    """What training did: epochs run, best epoch and the validation curve."""

    epochs: int
    best_epoch: int
    best_valid_ndcg: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def _examples(
    train: InteractionLog, config: TrainConfig, rng: np.random.Generator, exclude
) -> tuple[torch.Tensor, ...]:
    """Users, items and labels of one epoch: positives, sampled negatives, explicit negatives."""
    positives = train.positives()
    users = positives["user"].to_numpy()
    items = positives["item"].to_numpy()
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


def fit(
    model: UserModel,
    train: InteractionLog,
    valid: InteractionLog,
    config: TrainConfig,
    *,
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> FitReport:
    """Train `model` (which has `loss(users, items, labels)`) and load its best epoch's weights.

    Runs under a forked torch RNG seeded from `config.seed` (dropout draws), leaving the caller's
    global RNG state as it was.
    """
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        return _fit(model, train, valid, config, progress, on_epoch)


def _fit(
    model: UserModel,
    train: InteractionLog,
    valid: InteractionLog,
    config: TrainConfig,
    progress: bool,
    on_epoch: Callable[[int, dict[str, float]], None] | None,
) -> FitReport:
    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    shuffle = torch.Generator().manual_seed(config.seed)
    exclude = user_item_sets(train, positives_only=True)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    best_ndcg, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    bar = tqdm(range(1, config.epochs + 1), desc="fit user model", disable=not progress, unit="epoch")
    for epoch in bar:
        model.train()
        users, items, labels = _examples(train, config, rng, exclude)
        order = torch.randperm(len(users), generator=shuffle)
        total = 0.0
        for batch in order.split(config.batch_size):
            loss = model.loss(users[batch], items[batch], labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        metrics = evaluate_ranking(model, train, valid, seed=config.seed)["sampled"]
        row = {
            "loss": total / len(users),
            "valid_hr@10": metrics["hr@10"],
            "valid_ndcg@10": metrics["ndcg@10"],
        }
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row)
        bar.set_postfix(loss=f"{row['loss']:.4f}", ndcg=f"{row['valid_ndcg@10']:.4f}")
        if row["valid_ndcg@10"] > best_ndcg:
            best_ndcg, best_epoch, best_state = row["valid_ndcg@10"], epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return FitReport(
        epochs=len(history),
        best_epoch=best_epoch,
        best_valid_ndcg=best_ndcg,
        seconds=time.perf_counter() - start,
        history=history,
    )
