"""How much a user likes an item before any dynamics: the one part that differs between simulators.

A `DynamicsSimulator` is an affinity composed with the shared dynamics and a reward (RecSim keeps the
user model, the choice model and the documents apart in the same way). The ground truth's affinity is
its users' interest vectors (`recgym.simulators.world`), a log-fitted simulator's the fitted model's
calibrated scores (`log_fitted`), a sequence simulator's the sequence model's state (`sequence`). An
affinity is frozen: its per-user part lives in the simulator state it starts (`initial`) and moves
(`consume`), never in the affinity itself.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from recgym.simulators.protocol import SimState


@runtime_checkable
class Affinity(Protocol):
    """A fresh user's click logit and rating of an item, and how consumption moves them."""

    @property
    def n_users(self) -> int:
        """Users it can start a session for (ids 0..n_users-1)."""
        ...

    @property
    def n_items(self) -> int:
        """Catalog size."""
        ...

    @property
    def device(self) -> torch.device:
        """Where its tensors and the states it makes live."""
        ...

    @property
    def item_vectors(self) -> torch.Tensor:
        """[n_items, d] unit rows: the item similarity that fatigue is measured with."""
        ...

    @property
    def rating_scale(self) -> tuple[float, float]:
        """Lowest and highest rating `rating` gives (a click log rates every click 1)."""
        ...

    def initial(self, users: torch.Tensor) -> SimState:
        """This affinity's state of a fresh session for users [B] (e.g. the interest vector), or {}."""
        ...

    def logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] click logit of items [B] for users in state, before fatigue and repetition."""
        ...

    def rating(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] rating a user in state gives an item [B] they clicked."""
        ...

    def consume(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        """state after items [B] were shown and clicked where click [B] (bool); unchanged if fixed."""
        ...
