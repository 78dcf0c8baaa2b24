"""What a step is worth: the reward signals a dynamics simulator can pay out, chosen by name.

- `click`: 1 per click (the default).
- `rating`: the rating of a clicked item (the world's or the fitted rating map's).
- `engagement`: a watch-time-like share in [0, 1] of a clicked item: the user model's click
  probability before fatigue, so well-matched items are consumed longer.
- `session_length`: 1 per step the user stays, so the return is the session length.
- `retention`: the probability that the user comes back within the return model's window, paid as
  its change each step; the return of a session is that probability when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

import torch

from recgym.simulators.affinity import Affinity
from recgym.simulators.dynamics_params import DynamicsParams
from recgym.simulators.protocol import SimState
from recgym.simulators.return_model import ReturnModel

RewardName = Literal["click", "rating", "engagement", "session_length", "retention"]
REWARDS: tuple[str, ...] = get_args(RewardName)


class Step(NamedTuple):
    """What a reward may read about one step of B users."""

    affinity: Affinity
    dynamics: DynamicsParams
    state: SimState  # before the step
    items: torch.Tensor  # [B] long: the item each user answered
    clicked: torch.Tensor  # [B] float 0/1
    logit: torch.Tensor  # [B] affinity logit of items


@dataclass(frozen=True)
class RewardSignal:
    """One reward: what a step pays, and the bounds of what it can pay."""

    pay: Callable[[Step], torch.Tensor]
    """[B] reward of a step."""
    bounds: tuple[float, float] | None
    """Lowest and highest pay of a step; None: 0 (a non-click) and the affinity's rating scale."""

    def reward_range(self, rating_scale: tuple[float, float]) -> tuple[float, float]:
        """What one step can pay, given the affinity's rating scale."""
        if self.bounds is None:
            return (min(0.0, rating_scale[0]), max(0.0, rating_scale[1]))
        return self.bounds


def retention_gain(model: ReturnModel | None, state: SimState, clicked: torch.Tensor) -> torch.Tensor:
    """[B] change in the probability of returning when a step with clicks [B] (0/1) is added."""
    if model is None:
        raise ValueError(
            "reward 'retention' needs a return model: learn the dynamics from timestamped logs "
            "(recgym.simulators.learned_dynamics.learn_dynamics)"
        )
    position, clicks = state["position"], state["clicks"]
    before = torch.where(position > 0, model.probability(position, clicks), 0.0)
    return model.probability(position + 1, clicks + clicked) - before


REWARD_SIGNALS: dict[str, RewardSignal] = {
    "click": RewardSignal(lambda step: step.clicked, (0.0, 1.0)),
    "rating": RewardSignal(lambda step: step.clicked * step.affinity.rating(step.state, step.items), None),
    "engagement": RewardSignal(lambda step: step.clicked * torch.sigmoid(step.logit), (0.0, 1.0)),
    "session_length": RewardSignal(lambda step: torch.ones_like(step.clicked), (1.0, 1.0)),
    "retention": RewardSignal(
        lambda step: retention_gain(step.dynamics.return_model, step.state, step.clicked), (-1.0, 1.0)
    ),
}
"""The reward signal of every name in `REWARDS`."""


def reward_signal(name: str) -> RewardSignal:
    """The reward signal called `name`; ValueError naming the choices for any other."""
    if name not in REWARD_SIGNALS:
        raise ValueError(f"reward must be one of {REWARDS}, got {name!r}")
    return REWARD_SIGNALS[name]
