"""What a step is worth: the reward signals a dynamics simulator can pay out.

- `click`: 1 per click (the default).
- `rating`: the rating of a clicked item (the world's or the fitted rating map's).
- `engagement`: a watch-time-like share in [0, 1] of a clicked item: the user model's click
  probability before fatigue, so well-matched items are consumed longer.
- `session_length`: 1 per step the user stays, so the return is the session length.
- `retention`: the probability that the user comes back within the return model's window, paid as
  its change each step; the return of a session is that probability when it ends.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from recgym.simulators.protocol import SimState
from recgym.simulators.return_model import ReturnModel

RewardName = Literal["click", "rating", "engagement", "session_length", "retention"]
REWARDS: tuple[str, ...] = get_args(RewardName)


REWARD_RANGES: dict[str, tuple[float, float]] = {
    "click": (0.0, 1.0),
    "engagement": (0.0, 1.0),
    "session_length": (1.0, 1.0),
    "retention": (-1.0, 1.0),
}
"""What one step can pay under each reward ("rating" depends on the rating scale: `reward_range`)."""


def reward_range(reward: str, rating_scale: tuple[float, float]) -> tuple[float, float]:
    """The rewards one step can pay under `reward`, given the simulator's rating scale."""
    if reward == "rating":
        return (min(0.0, rating_scale[0]), max(0.0, rating_scale[1]))  # a non-click pays 0
    return REWARD_RANGES[reward]


def check_reward(reward: str) -> None:
    if reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")


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
