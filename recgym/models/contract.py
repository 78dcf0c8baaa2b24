"""The contract every user model follows, so one trainer, one evaluation and one simulator serve all.

A user model scores items for users *given what it knows about them* (its context): nothing beyond
the user id for NeuMF and MF, the item's column of the interaction matrix for AutoRec, the user's
recent items for the sequence models. `set_context(log)` sets that knowledge, so the same model is
validated on the training history, tested on training plus validation history, and simulated on the
whole log.

For simulation a model also exposes a per-user state that moves with consumption: `begin(users)`
builds it from the context, `advance(state, items)` consumes one item per user at a cost that does not
grow with the history, and `state_score`/`state_score_all` score from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import torch

from recgym.data.interactions import InteractionLog
from recgym.models.train_config import TrainConfig

ModelState = dict[str, torch.Tensor]
"""Per-user model state for simulation; every tensor has leading dimension B."""


class Scorer(Protocol):
    """What ranking needs of a user model."""

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits [B] of users [B] for items [B]."""
        ...

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_items] of users [B] for every item."""
        ...


class UserModel(Scorer, Protocol):
    """A trainable, simulatable scorer (an `nn.Module`)."""

    n_users: int
    n_items: int

    def set_context(self, log: InteractionLog) -> None:
        """Know each user by the positives of log when scoring (a no-op for id-only models)."""
        ...

    def epoch_batches(
        self, train: InteractionLog, config: TrainConfig, rng: np.random.Generator, shuffle: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """One epoch of shuffled training batches, each passed to `loss(*batch)`."""
        ...

    def loss(self, *batch: torch.Tensor) -> torch.Tensor:
        """Scalar training loss of one batch from `epoch_batches`."""
        ...

    def item_vectors(self) -> torch.Tensor:
        """[n_items, d] learned item representations, for item-item similarity."""
        ...

    def begin(self, users: torch.Tensor) -> ModelState:
        """Simulation state of users [B] as the context describes them."""
        ...

    def advance(self, state: ModelState, items: torch.Tensor, mask: torch.Tensor | None = None) -> ModelState:
        """State after each user consumed items [B] (only rows where mask [B] is true, when given);
        cost independent of the history's length. Returns new tensors: state stays valid."""
        ...

    def state_score(self, state: ModelState, items: torch.Tensor) -> torch.Tensor:
        """Logits [B] of items [B] for users in state."""
        ...

    def state_score_all(self, state: ModelState) -> torch.Tensor:
        """Logits [B, n_items] of every item for users in state."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[torch.nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...

    def to(self, *args: Any, **kwargs: Any) -> Any: ...


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model's tensors live (the CPU for a model without any), so batches can be moved there."""
    tensors = [*model.parameters(), *model.buffers()]
    return tensors[0].device if tensors else torch.device("cpu")


SCORING_BUDGET = 64 * 2**20
"""Bytes one block of a scoring pass may take (a [users, n_items] score block and its comparisons, a
sequence encoder's activations, NeuMF's tower activations): what bounds evaluation's memory whatever
the numbers of users and items. Score blocks of 16 MiB stay below glibc's 32 MiB mmap ceiling, so
each block reuses the last one's memory instead of mapping and faulting in fresh pages (at 128 MiB,
full ranking on 100,000 items spent a third of its time in the kernel)."""

BYTES_PER_SCORE = 16
"""Bytes per (user, item) entry of a full-catalog block: the float32 scores, a model's float32
temporaries while it adds them up, and the ranking's comparison mask."""


def rows_per_block(bytes_per_row: int) -> int:
    """How many rows of `bytes_per_row` fit in `SCORING_BUDGET` (at least 1)."""
    return max(1, SCORING_BUDGET // max(bytes_per_row, 1))


def users_per_block(n_items: int) -> int:
    """How many users to score over the whole catalog at once (at least 1), within `SCORING_BUDGET`."""
    return rows_per_block(n_items * BYTES_PER_SCORE)
