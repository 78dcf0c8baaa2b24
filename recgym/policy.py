"""What the evaluation needs of a recommendation policy, agent or baseline alike."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Policy(Protocol):
    """Chooses one item per user from what an agent may observe.

    `observation` is `Sessions.observation()` (user [B, 1], recent items [B, H], responses [B, H]);
    `shown` [B, n_items] marks the items already recommended in each session. Returns item ids [B].
    """

    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor: ...


@runtime_checkable
class ScoringPolicy(Policy, Protocol):
    """A policy that ranks the whole catalog: its `act` is the best unshown item of `scores`."""

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        """[B, n_items] preference of each user for each item (higher is recommended first)."""
        ...


def top_unshown(scores: torch.Tensor, shown: torch.Tensor, k: int) -> torch.Tensor:
    """[B, k] the k best-scored items, unshown first (shown ones fill the slate when too few are left)."""
    spread = scores.amax(dim=1, keepdim=True) - scores.amin(dim=1, keepdim=True) + 1.0
    return (scores - shown.float() * spread).topk(k, dim=1).indices


class TopK:
    """The slate of a scoring policy: its k best unshown items, best first.

    :param policy: any `ScoringPolicy` (the baselines, the trained DQN, PPO, A2C, QR-DQN).
    :param k: slate size.
    """

    def __init__(self, policy: ScoringPolicy, k: int):
        if not isinstance(policy, ScoringPolicy):
            raise TypeError(f"{type(policy).__name__} has no scores(observation, generator) to rank items by")
        self.policy, self.k = policy, k

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return self.policy.scores(observation, generator)

    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        return top_unshown(self.scores(observation, generator).to(shown.device), shown, self.k)
