"""The supervised and naive baselines every RL agent is compared with, behind one `Policy` interface.

All three recommend only items not yet shown in the session, as a production recommender would.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

NEG_INF = float("-inf")


def best_unshown(scores: torch.Tensor, shown: torch.Tensor) -> torch.Tensor:
    """Argmax [B] of scores [B, n_items] over items not yet shown (any item once all were shown)."""
    masked = scores.masked_fill(shown, NEG_INF)
    exhausted = shown.all(dim=1, keepdim=True)
    return torch.where(exhausted, scores, masked).argmax(dim=1)


class RandomPolicy:
    """Uniformly random among the items not yet shown."""

    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        noise = torch.rand(shown.shape, generator=generator, device=shown.device)
        return best_unshown(noise, shown)


class PopularPolicy:
    """The most popular item (most positive interactions in the training logs) not yet shown.

    :param item_counts: [n_items] interaction counts per item.
    """

    def __init__(self, item_counts: np.ndarray | torch.Tensor):
        counts = torch.as_tensor(np.asarray(item_counts), dtype=torch.float32)
        # a tiny index-based tie-break keeps the order deterministic across devices
        self.scores = counts - 1e-6 * torch.arange(len(counts), dtype=torch.float32) / len(counts)

    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        scores = self.scores.to(shown.device).expand(shown.shape[0], -1)
        return best_unshown(scores, shown)


class GreedyPolicy:
    """Top-1 of a fitted recommender's scores among items not yet shown: the supervised baseline.

    :param score_all: maps user ids [B] to scores [B, n_items] (e.g. a fitted model's `score_all`).
    """

    def __init__(self, score_all: Callable[[torch.Tensor], torch.Tensor]):
        self.score_all = score_all

    @torch.no_grad()
    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        users = observation["user"][:, 0]
        return best_unshown(self.score_all(users).to(shown.device), shown)


def item_popularity(positive_items: np.ndarray, n_items: int) -> np.ndarray:
    """[n_items] count of positive interactions per item."""
    return np.bincount(positive_items, minlength=n_items)
