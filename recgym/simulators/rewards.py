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

from typing import TYPE_CHECKING, Literal, get_args

import torch

from recgym.simulators.protocol import SimState

if TYPE_CHECKING:
    from recgym.simulators.dynamics import DynamicsSimulator

RewardName = Literal["click", "rating", "engagement", "session_length", "retention"]
REWARDS: tuple[str, ...] = get_args(RewardName)


def check_reward(reward: str) -> None:
    if reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")


def step_reward(
    simulator: DynamicsSimulator,
    state: SimState,
    items: torch.Tensor,
    click: torch.Tensor,
    affinity_logit: torch.Tensor,
) -> torch.Tensor:
    """[B] reward of showing items [B] in state when users responded with click [B]."""
    clicked = click.float()
    if simulator.reward == "click":
        return clicked
    if simulator.reward == "rating":
        return clicked * simulator.rating(state, items)
    if simulator.reward == "engagement":
        return clicked * torch.sigmoid(affinity_logit)
    if simulator.reward == "session_length":
        return torch.ones_like(clicked)
    return _retention_gain(simulator, state, clicked)


def _retention_gain(simulator: DynamicsSimulator, state: SimState, clicked: torch.Tensor) -> torch.Tensor:
    model = simulator.return_model
    if model is None:
        raise ValueError(
            "reward 'retention' needs a return model: learn the dynamics from timestamped logs "
            "(recgym.simulators.learned_dynamics.learn_dynamics)"
        )
    position, clicks = state["position"], state["clicks"]
    before = torch.where(position > 0, model.probability(position, clicks), 0.0)
    return model.probability(position + 1, clicks + clicked) - before
