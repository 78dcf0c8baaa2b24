"""A log-fitted simulator whose users' interest moves with what they consume.

The user's state is the fitted sequence model's state (GRU4Rec's hidden state, SASRec's key/value
cache, Caser's window), started from the user's logged history. Each clicked item is consumed: the
model advances by that item, so the next click probabilities are those the model predicts after it.
Items shown but not clicked leave the interest as it was; the shared dynamics (fatigue, repetition,
leaving) apply on top. A step costs the same however long the session grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from recgym.models.contract import ModelState
from recgym.simulators.log_fitted import FittedAffinity, LogFittedSimulator
from recgym.simulators.protocol import SimState

PREFIX = "model."
"""Simulator-state keys holding the sequence model's state."""


def model_state(state: SimState) -> ModelState:
    return {key[len(PREFIX) :]: value for key, value in state.items() if key.startswith(PREFIX)}


@dataclass(frozen=True, eq=False)
class SequenceAffinity(FittedAffinity):
    """A fitted sequence model's calibrated scores, from the model state kept in the simulator state."""

    @torch.no_grad()
    def initial(self, users: torch.Tensor) -> SimState:
        started = self.fitted.model.begin(users.to(self.device))
        return {PREFIX + key: value for key, value in started.items()}

    @torch.no_grad()
    def raw(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return self.fitted.model.state_score(model_state(state), items)

    @torch.no_grad()
    def consume(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        """The model advances by each clicked item."""
        after = self.fitted.model.advance(model_state(state), items, mask=click)
        return state | {PREFIX + key: value for key, value in after.items()}


class SequenceSimulator(LogFittedSimulator):
    """Simulated users driven by a fitted sequence model (or any model with `begin`/`advance`)."""

    affinity: SequenceAffinity
    affinity_class = SequenceAffinity
