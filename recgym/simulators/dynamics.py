"""Explicit user dynamics shared by the ground-truth world and the log-fitted simulators.

A click model alone makes every step independent, and then the best policy is greedy. These
dynamics make the future depend on what is recommended (see docs/dynamics.md for the defaults):

- **Fatigue**: each user carries `exposure` [B, d], a decaying sum of the unit vectors of the items
  shown (`exposure <- decay * exposure + v_item`). Showing item i costs `fatigue_weight * max(0,
  <exposure, v_i>)` on the click logit: similar items tire, dissimilar ones do not.
- **Repetition**: an item already shown in this session costs `repeat_penalty` on the logit.
- **Satisfaction**: an exponential average of recent clicks, starting at 1.
- **Leaving**: after each step a user leaves with the probability of the simulator's `leave_model`, by
  default the hand rule `sigmoid(leave_base + leave_fatigue * fatigue + leave_unsatisfied * (1 -
  satisfaction))`; `recgym.simulators.learned_dynamics` learns one from session logs instead.

The state also counts the session's steps and clicks and remembers the last step (click, repeat, the
user model's click probability before dynamics): the features of a learned leave model and of the
retention reward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from recgym.random import RowStreams
from recgym.simulators.choice import ChoiceConfig, SlateResponse, choice_probabilities, sample_choice
from recgym.simulators.leave_model import LeaveModel
from recgym.simulators.protocol import Response, SimState
from recgym.simulators.return_model import ReturnModel
from recgym.simulators.rewards import retention_gain, reward_range


@dataclass(frozen=True)
class DynamicsConfig:
    """Parameters of fatigue, repetition and the leave model (logit scale)."""

    fatigue_decay: float = 0.7
    """Share of exposure kept per step; 0.7 halves it in about two steps."""
    fatigue_weight: float = 0.8
    """Click-logit cost per unit of similarity-weighted exposure."""
    repeat_penalty: float = 3.0
    """Click-logit cost of showing an item again in the same session."""
    satisfaction_decay: float = 0.7
    """Share of satisfaction kept per step (an average over about the last three responses)."""
    leave_base: float = -4.0
    """Leave logit of a fresh, satisfied user: about 2% per step."""
    leave_fatigue: float = 0.5
    """Leave-logit increase per unit of fatigue felt at the last step."""
    leave_unsatisfied: float = 2.0
    """Leave-logit increase of a user whose recent recommendations were all ignored."""
    affinity_scale: float = 1.0
    """Multiplier of the affinity logit; learned dynamics recalibrate it on logged session steps, where
    the affinity meets fatigue and position as it does in simulation."""
    click_bias: float = 0.0
    """Logit added to every click; learned dynamics use it to take back the average fatigue that a
    user model fitted without it has absorbed into its affinities."""

    def __post_init__(self) -> None:
        for name in ("fatigue_decay", "satisfaction_decay"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"DynamicsConfig.{name} must be in [0, 1), got {value}")
        if not self.affinity_scale > 0:
            raise ValueError(f"DynamicsConfig.affinity_scale must be > 0, got {self.affinity_scale}")
        for name in ("fatigue_weight", "repeat_penalty", "leave_fatigue", "leave_unsatisfied"):
            if not getattr(self, name) >= 0:  # also rejects NaN
                raise ValueError(f"DynamicsConfig.{name} must be >= 0, got {getattr(self, name)}")


class DynamicsSimulator:
    """Base for simulators whose click logit is an affinity minus the shared dynamics' costs.

    Subclasses provide `affinity_logit(state, items)` and `item_vectors` [n_items, d] (unit rows);
    they may override `update_interest` to move user interest with consumption.
    """

    n_users: int
    n_items: int
    device: torch.device
    item_vectors: torch.Tensor
    dynamics: DynamicsConfig
    reward: str = "click"
    leave_model: LeaveModel | None = None
    """Learned leave hazard; None uses the hand rule of `dynamics`."""
    return_model: ReturnModel | None = None
    """Time to the next session, for the retention reward; None when not learned."""

    def affinity_logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] click logit of items [B] for a fresh user in state, before dynamics."""
        raise NotImplementedError

    rating_scale: tuple[float, float] = (1.0, 1.0)
    """Lowest and highest rating `rating` gives (a click log rates every click 1)."""

    @property
    def reward_range(self) -> tuple[float, float]:
        """What one step can pay: the bounds of the observation's `recent_responses`."""
        return reward_range(self.reward, self.rating_scale)

    def rating(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] rating a user gives an item they clicked; click logs rate a click 1."""
        return torch.ones(items.shape, device=self.device)

    def update_interest(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        """Interest after consumption; the default keeps it fixed."""
        return state

    def initial_state(self, users: torch.Tensor, rng: RowStreams) -> SimState:
        batch = users.shape[0]
        zeros = torch.zeros(batch, device=self.device)
        return self.extra_state(users) | {
            "user": users.to(self.device),
            "exposure": torch.zeros(batch, self.item_vectors.shape[1], device=self.device),
            "fatigue": zeros,
            "satisfaction": torch.ones(batch, device=self.device),
            "shown": torch.zeros(batch, self.n_items, dtype=torch.bool, device=self.device),
            "position": zeros,
            "clicks": zeros,
            "last_click": zeros,
            "repeated": zeros,
            "affinity": zeros,
        }

    def extra_state(self, users: torch.Tensor) -> SimState:
        """Subclass state for a fresh session (e.g. the interest vector)."""
        return {}

    def felt_fatigue(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] fatigue a user feels when shown items [B]: max(0, <exposure, v_item>)."""
        return (state["exposure"] * self.item_vectors[items]).sum(-1).clamp_min(0.0)

    def repeated(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] 1.0 where the item was already shown in this session."""
        return state["shown"].gather(1, items[:, None]).squeeze(1).float()

    def click_logit(self, state: SimState, items: torch.Tensor, affinity: torch.Tensor) -> torch.Tensor:
        """[B] click logit: the scaled affinity logit [B] plus the bias, minus fatigue and repeat costs."""
        d = self.dynamics
        return (
            d.affinity_scale * affinity
            + d.click_bias
            - d.fatigue_weight * self.felt_fatigue(state, items)
            - d.repeat_penalty * self.repeated(state, items)
        )

    def click_probability(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] probability that each user clicks the item shown, given fatigue and repetition."""
        return torch.sigmoid(self.click_logit(state, items, self.affinity_logit(state, items)))

    def respond(self, state: SimState, items: torch.Tensor, rng: RowStreams) -> Response:
        affinity = self.affinity_logit(state, items)
        click = rng.uniform() < torch.sigmoid(self.click_logit(state, items, affinity))
        return Response(click=click, reward=self.step_reward(state, items, click, affinity))

    def respond_slate(
        self, state: SimState, slate: torch.Tensor, choice: ChoiceConfig, rng: RowStreams
    ) -> SlateResponse:
        """Each user's choice among slate [B, k] under the conditional logit of `choice`: position j's
        click logit is the one a single recommendation of its item would have."""
        affinities = [self.affinity_logit(state, slate[:, j]) for j in range(slate.shape[1])]
        logits = torch.stack(
            [self.click_logit(state, slate[:, j], affinity) for j, affinity in enumerate(affinities)], dim=1
        )
        chosen = sample_choice(choice_probabilities(logits, slate, choice), rng.uniform())
        click = chosen < slate.shape[1]
        position = chosen.clamp_max(slate.shape[1] - 1).where(click, torch.zeros_like(chosen))
        item = slate.gather(1, position[:, None]).squeeze(1)
        affinity = torch.stack(affinities, dim=1).gather(1, position[:, None]).squeeze(1)
        reward = self.step_reward(state, item, click, affinity)
        return SlateResponse(chosen=chosen, item=item, response=Response(click=click, reward=reward))

    def step_reward(
        self, state: SimState, items: torch.Tensor, click: torch.Tensor, affinity: torch.Tensor
    ) -> torch.Tensor:
        """[B] reward of `self.reward` (see `recgym.simulators.rewards`) for items [B] answered with click."""
        clicked = click.float()
        if self.reward == "rating":
            return clicked * self.rating(state, items)
        if self.reward == "engagement":
            return clicked * torch.sigmoid(affinity)
        if self.reward == "session_length":
            return torch.ones_like(clicked)
        if self.reward == "retention":
            return retention_gain(self.return_model, state, clicked)
        return clicked

    def transition(
        self, state: SimState, items: torch.Tensor, response: Response, rng: RowStreams
    ) -> SimState:
        d = self.dynamics
        clicked = response.click.float()
        shown = state["shown"].clone()  # a new tensor: callers may keep the previous state
        shown.scatter_(1, items[:, None], True)
        state = state | {
            "exposure": d.fatigue_decay * state["exposure"] + self.item_vectors[items],
            "fatigue": self.felt_fatigue(state, items),
            "satisfaction": d.satisfaction_decay * state["satisfaction"]
            + (1.0 - d.satisfaction_decay) * clicked,
            "shown": shown,
            "position": state["position"] + 1.0,
            "clicks": state["clicks"] + clicked,
            "last_click": clicked,
            "repeated": self.repeated(state, items),
            "affinity": torch.sigmoid(self.affinity_logit(state, items)),
        }
        return self.update_interest(state, items, response.click)

    def leave_probability(self, state: SimState) -> torch.Tensor:
        """[B] probability of ending the session after the last step."""
        return self.active_leave_model().probability(state)

    def active_leave_model(self) -> LeaveModel:
        """The learned leave model if there is one, else the hand rule of `dynamics`."""
        if self.leave_model is not None:
            return self.leave_model
        d = self.dynamics
        return LeaveModel.rule(d.leave_base, d.leave_fatigue, d.leave_unsatisfied)

    def leaves(self, state: SimState, rng: RowStreams) -> torch.Tensor:
        probability = self.leave_probability(state)
        return rng.uniform() < probability
