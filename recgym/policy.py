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
