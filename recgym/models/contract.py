"""The small contract every user model follows (RecBole-style: loss, score, full scores).

Training, ranking metrics, calibration and the log-fitted simulator depend only on this, so a new
model (a sequence model, say) plugs into all of them by implementing three methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch


class Scorer(Protocol):
    """What ranking needs of a user model."""

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits [B] of users [B] for items [B]."""
        ...

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_items] of users [B] for every item."""
        ...


class UserModel(Scorer, Protocol):
    """A trainable scorer: an `nn.Module` with a pointwise loss."""

    def loss(self, users: torch.Tensor, items: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Scalar training loss of labels [B] in {0, 1} for (users [B], items [B])."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[torch.nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...
