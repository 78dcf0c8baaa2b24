"""What the evaluation needs of a recommendation policy, agent or baseline alike.

A policy sees what an agent may observe (`Sessions.observation()`: user [B, 1], recent items [B, H],
responses [B, H]) and the Gymnasium-style `action_mask` [B, n_items] (True where an item may still be
recommended: not yet shown in the session), and returns a slate [B, k], best first; a single
recommendation is a slate of one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

NEG_INF = float("-inf")


@runtime_checkable
class Policy(Protocol):
    """Chooses k items per user from what an agent may observe."""

    def act(
        self,
        observation: dict[str, torch.Tensor],
        action_mask: torch.Tensor,
        generator: torch.Generator,
        k: int = 1,
    ) -> torch.Tensor:
        """[B, k] item ids, best first, among those `action_mask` [B, n_items] allows (others fill the
        slate only when too few are allowed)."""
        ...


def top_allowed(scores: torch.Tensor, action_mask: torch.Tensor, k: int = 1) -> torch.Tensor:
    """[B, k] the k best-scored items that action_mask [B, n_items] allows, best first; disallowed
    items fill the slate when too few are allowed (any item once none is)."""
    if k == 1:  # an argmax: ties go to the lowest id, as they always have
        exhausted = ~action_mask.any(dim=1, keepdim=True)
        masked = scores.masked_fill(~action_mask, NEG_INF)
        return torch.where(exhausted, scores, masked).argmax(dim=1, keepdim=True)
    spread = scores.amax(dim=1, keepdim=True) - scores.amin(dim=1, keepdim=True) + 1.0
    return (scores - (~action_mask).float() * spread).topk(k, dim=1).indices


class RankingPolicy:
    """Base of the scoring policies: `act` serves the best allowed items of `scores`."""

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def act(
        self,
        observation: dict[str, torch.Tensor],
        action_mask: torch.Tensor,
        generator: torch.Generator,
        k: int = 1,
    ) -> torch.Tensor:
        return top_allowed(self.scores(observation, generator).to(action_mask.device), action_mask, k)
