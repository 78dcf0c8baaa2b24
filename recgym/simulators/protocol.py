"""The batched user-simulator protocol that every env, agent and experiment speaks.

A simulator is any object with these attributes and methods; it need not inherit from anything in
recgym. All methods are batched (leading dimension B, one row per simulated user) and draw random
numbers only from the `RowStreams` they are given (`rng.uniform()` gives one number per row), so a
seed fixes a run and a user's session is the same whatever batch it runs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from recgym.random import RowStreams

SimState = dict[str, torch.Tensor]
"""Per-user state: every tensor has leading dimension B. Opaque to envs and agents."""


@dataclass(frozen=True)
class Response:
    """What B users did with the items they were shown."""

    click: torch.Tensor  # [B] bool
    reward: torch.Tensor  # [B] float32


@runtime_checkable
class UserSimulator(Protocol):
    """Simulated users: how they start, respond, change and leave.

    One step of a session is: `respond` to the recommended items, `transition` on what was shown
    and done, then `leaves` decides who ends the session.
    """

    n_users: int  # users the simulator can start a session for (ids 0..n_users-1)
    n_items: int  # catalog size (item ids 0..n_items-1)
    device: torch.device

    def initial_state(self, users: torch.Tensor, rng: RowStreams) -> SimState:
        """Fresh session state for users [B] (long)."""
        ...

    def respond(self, state: SimState, items: torch.Tensor, rng: RowStreams) -> Response:
        """Clicks and rewards for items [B] (long) shown in state."""
        ...

    def transition(
        self, state: SimState, items: torch.Tensor, response: Response, rng: RowStreams
    ) -> SimState:
        """State after items [B] were shown and answered with response."""
        ...

    def leaves(self, state: SimState, rng: RowStreams) -> torch.Tensor:
        """[B] bool: which users end their session now."""
        ...
