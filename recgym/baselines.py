"""The supervised and naive baselines every RL agent is compared with, behind one `Policy` interface.

All three recommend only items not yet shown in the session, as a production recommender would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from recgym.policy import Policy, RankingPolicy

if TYPE_CHECKING:
    from recgym.data.interactions import InteractionLog
    from recgym.models.fitted import FittedUserModel


class RandomPolicy(RankingPolicy):
    """Uniformly random among the items not yet shown.

    :param n_items: catalog size.
    """

    def __init__(self, n_items: int):
        self.n_items = n_items

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        batch = observation["user"].shape[0]
        return torch.rand(batch, self.n_items, generator=generator, device=generator.device)


class PopularPolicy(RankingPolicy):
    """The most popular item (most positive interactions in the training logs) not yet shown.

    :param item_counts: [n_items] interaction counts per item.
    """

    def __init__(self, item_counts: np.ndarray | torch.Tensor):
        counts = torch.as_tensor(np.asarray(item_counts), dtype=torch.float32)
        # a tiny index-based tie-break keeps the order deterministic across devices
        self.popularity = counts - 1e-6 * torch.arange(len(counts), dtype=torch.float32) / len(counts)

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        device = observation["user"].device
        return self.popularity.to(device).expand(observation["user"].shape[0], -1)


class GreedyPolicy(RankingPolicy):
    """Top-1 of a fitted recommender's scores among items not yet shown: the supervised baseline.

    :param score_all: maps user ids [B] to scores [B, n_items] (e.g. a fitted model's `score_all`).
    """

    def __init__(self, score_all: Callable[[torch.Tensor], torch.Tensor]):
        self.score_all = score_all

    @torch.no_grad()
    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return self.score_all(observation["user"][:, 0])


def item_popularity(positive_items: np.ndarray, n_items: int) -> np.ndarray:
    """[n_items] count of positive interactions per item."""
    return np.bincount(positive_items, minlength=n_items)


def log_popularity(log: InteractionLog) -> np.ndarray:
    """[n_items] positive interactions per item in the log: what popular ranks by and novelty reads."""
    return item_popularity(log.positives()["item"].to_numpy(), log.n_items)


def baseline_policies(
    log: InteractionLog, fitted: FittedUserModel, device: str | torch.device = "cpu"
) -> dict[str, Policy]:
    """The supervised and naive baselines: greedy top-1 of the fitted model, most popular, random."""
    return {
        "greedy": GreedyPolicy(fitted.scorer(device)),
        "popular": PopularPolicy(log_popularity(log)),
        "random": RandomPolicy(log.n_items),
    }
