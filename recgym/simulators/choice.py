"""How a user picks at most one item from a slate: a conditional logit with a no-click option.

Each slate position j holds an item with click logit `z_j` (the user model's calibrated score after
fatigue and repetition, exactly what a single recommendation would be clicked with). The user
examines position j with weight `position_decay ** j` and chooses item j with probability
proportional to `exp(z_j) * position_decay ** j`, or no item with probability proportional to
`no_click_weight`. With one position and the default weight 1, the click probability is
`sigmoid(z_0)`: a slate of one is the single-item env. This is the multinomial-logit choice model
SlateQ (Ie et al., 2019) assumes, with the position bias of a cascade-like examination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from recgym.random import RowStreams
from recgym.simulators.protocol import Response, SimState, UserSimulator


@dataclass(frozen=True)
class ChoiceConfig:
    """Slate size and the choice model's position bias and outside option."""

    slate_size: int = 5
    """Items recommended per step."""
    position_decay: float = 0.8
    """Examination weight ratio between consecutive positions (1: no position bias)."""
    no_click_weight: float = 1.0
    """Weight of choosing nothing; 1 keeps a one-item slate's click probability the user model's."""

    def __post_init__(self) -> None:
        if not isinstance(self.slate_size, int | np.integer) or isinstance(self.slate_size, bool | np.bool_):
            raise ValueError(f"ChoiceConfig.slate_size must be an integer, got {self.slate_size!r}")
        if self.slate_size < 1:
            raise ValueError(f"ChoiceConfig.slate_size must be >= 1, got {self.slate_size}")
        if not 0.0 < self.position_decay <= 1.0:
            raise ValueError(f"ChoiceConfig.position_decay must be in (0, 1], got {self.position_decay}")
        if not self.no_click_weight > 0.0:
            raise ValueError(f"ChoiceConfig.no_click_weight must be > 0, got {self.no_click_weight}")

    def position_log_weights(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """[k] log examination weight of each position."""
        return torch.arange(self.slate_size, device=device, dtype=torch.float32) * math.log(
            self.position_decay
        )


@dataclass(frozen=True)
class SlateResponse:
    """What B users did with their slates."""

    chosen: torch.Tensor  # [B] long: slate position chosen, slate_size where nothing was
    item: torch.Tensor  # [B] long: the chosen item, or the first position's where nothing was chosen
    response: Response  # click and reward of that item


@runtime_checkable
class SlateSimulator(UserSimulator, Protocol):
    """A `UserSimulator` that can also answer slates (every `DynamicsSimulator` can)."""

    def respond_slate(
        self, state: SimState, slate: torch.Tensor, choice: ChoiceConfig, rng: RowStreams
    ) -> SlateResponse:
        """The choice of each user among slate [B, k] (long) and its reward."""
        ...


def first_occurrence(slate: torch.Tensor) -> torch.Tensor:
    """[B, k] bool: true where a position's item does not appear at an earlier position."""
    earlier = slate[:, :, None] == slate[:, None, :]  # [B, k, k]: position j equals position l
    return ~torch.tril(earlier, diagonal=-1).any(dim=2)


def choice_probabilities(
    click_logits: torch.Tensor, slate: torch.Tensor, choice: ChoiceConfig
) -> torch.Tensor:
    """[B, k + 1] probability of choosing each position (a repeated item only counts once) and, last,
    of choosing nothing."""
    if click_logits.shape[1] != choice.slate_size:
        raise ValueError(f"expected slates of {choice.slate_size} items, got {click_logits.shape[1]}")
    scores = click_logits + choice.position_log_weights(click_logits.device)
    scores = scores.masked_fill(~first_occurrence(slate), float("-inf"))
    outside = torch.full_like(scores[:, :1], math.log(choice.no_click_weight))
    return torch.softmax(torch.cat([scores, outside], dim=1), dim=1)


def sample_choice(probabilities: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """[B] index drawn from each row of probabilities [B, n] with one uniform [B] per row."""
    cumulative = probabilities.cumsum(dim=1)
    index = (cumulative < uniform[:, None] * cumulative[:, -1:]).sum(dim=1)
    return index.clamp_max(probabilities.shape[1] - 1)
