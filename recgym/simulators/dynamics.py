"""Explicit user dynamics shared by the ground-truth world and the log-fitted simulators.

A click model alone makes every step independent, and then the best policy is greedy. These
dynamics make the future depend on what is recommended (see docs/dynamics.md for the defaults):

- **Fatigue**: each user carries `exposure` [B, d], a decaying sum of the unit vectors of the items
  shown (`exposure <- decay * exposure + v_item`). Showing item i costs `fatigue_weight * max(0,
  <exposure, v_i>)` on the click logit: similar items tire, dissimilar ones do not.
- **Repetition**: an item already shown in this session costs `repeat_penalty` on the logit.
- **Satisfaction**: an exponential average of recent clicks, starting at 1.
- **Leaving**: after each step a user leaves with the probability of the dynamics' leave model, by
  default the hand rule `sigmoid(leave_base + leave_fatigue * fatigue + leave_unsatisfied * (1 -
  satisfaction))`; `recgym.simulators.learned_dynamics` learns one from session logs instead.

The state also counts the session's steps and clicks and remembers the last step (click, repeat, the
user model's click probability before dynamics): the features of a learned leave model and of the
retention reward.

A `DynamicsSimulator` is composed of three frozen parts: an `Affinity` (what differs between
simulators), `DynamicsParams` and a `RewardSignal`. It never changes after it is made: other dynamics
make another simulator (`with_dynamics`).
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

import torch

from recgym.random import RowStreams
from recgym.simulators.affinity import Affinity
from recgym.simulators.choice import ChoiceConfig, SlateResponse, choice_probabilities, sample_choice
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams, click_logit
from recgym.simulators.leave_model import LeaveModel
from recgym.simulators.protocol import Response, SimState
from recgym.simulators.return_model import ReturnModel
from recgym.simulators.rewards import RewardSignal, Step, reward_signal

__all__ = ["DynamicsConfig", "DynamicsParams", "DynamicsSimulator"]

Simulator = TypeVar("Simulator", bound="DynamicsSimulator")


class DynamicsSimulator:
    """A batched `UserSimulator` whose click logit is an affinity minus the shared dynamics' costs.

    Subclasses (`GroundTruthWorld`, `LogFittedSimulator`, ...) build an affinity in their constructor
    and give typed views of it; anything else they keep (the world's `logs`) is an attribute set with
    `object.__setattr__`, so `with_dynamics` can rebuild any of them from its parts.

    :param affinity: how much a fresh user likes an item, and how consumption moves it.
    :param params: fatigue, repetition, leave and return settings (default `DynamicsParams()`).
    :param reward: a name of `recgym.simulators.rewards.REWARDS`.
    """

    n_users: int
    n_items: int
    device: torch.device
    item_vectors: torch.Tensor
    """[n_items, d] unit rows, the affinity's: the similarity fatigue is measured with."""
    affinity: Affinity
    params: DynamicsParams
    reward: str
    reward_signal: RewardSignal

    def __init__(self, affinity: Affinity, params: DynamicsParams | None = None, reward: str = "click"):
        parts: dict[str, Any] = {
            "affinity": affinity,
            "params": params or DynamicsParams(),
            "reward": reward,
            "reward_signal": reward_signal(reward),
            "n_users": affinity.n_users,
            "n_items": affinity.n_items,
            "device": affinity.device,
            "item_vectors": affinity.item_vectors,
        }
        for name, value in parts.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(
            f"{type(self).__name__} is immutable (tried to set {name!r}): with_dynamics(...) gives a "
            "simulator with other dynamics"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable (tried to delete {name!r})")

    def with_dynamics(self: Simulator, params: DynamicsParams) -> Simulator:
        """A new simulator of the same class, affinity, reward and subclass attributes with other
        dynamics (e.g. `LearnedDynamics.params`); this one is unchanged."""
        simulator = type(self).__new__(type(self))
        DynamicsSimulator.__init__(simulator, self.affinity, params, self.reward)
        for name, value in vars(self).items():
            if name not in vars(simulator):
                object.__setattr__(simulator, name, value)
        return simulator

    @property
    def dynamics(self) -> DynamicsConfig:
        """Fatigue, repetition and leave-rule settings."""
        return self.params.config

    @property
    def leave_model(self) -> LeaveModel | None:
        """Learned leave hazard; None uses the hand rule of `dynamics`."""
        return self.params.leave_model

    @property
    def return_model(self) -> ReturnModel | None:
        """Time to the next session, for the retention reward; None when not learned."""
        return self.params.return_model

    @property
    def reward_range(self) -> tuple[float, float]:
        """What one step can pay: the bounds of the observation's `recent_responses`."""
        return self.reward_signal.reward_range(self.affinity.rating_scale)

    def affinity_logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] click logit of items [B] for users in state, before dynamics."""
        return self.affinity.logit(state, items)

    def initial_state(self, users: torch.Tensor, rng: RowStreams) -> SimState:
        batch = users.shape[0]
        zeros = torch.zeros(batch, device=self.device)
        return self.affinity.initial(users) | {
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

    def felt_fatigue(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] fatigue a user feels when shown items [B]: max(0, <exposure, v_item>)."""
        return (state["exposure"] * self.item_vectors[items]).sum(-1).clamp_min(0.0)

    def repeated(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] 1.0 where the item was already shown in this session."""
        return state["shown"].gather(1, items[:, None]).squeeze(1).float()

    def click_logit(self, state: SimState, items: torch.Tensor, affinity: torch.Tensor) -> torch.Tensor:
        """[B] click logit of items [B] with affinity logit [B]: `dynamics_params.click_logit`, the one
        the replay fit uses too."""
        fatigue, repeated = self.felt_fatigue(state, items), self.repeated(state, items)
        return click_logit(self.params.config, affinity, fatigue, repeated)

    def click_probability(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] probability that each user clicks the item shown, given fatigue and repetition."""
        return torch.sigmoid(self.click_logit(state, items, self.affinity.logit(state, items)))

    def respond(self, state: SimState, items: torch.Tensor, rng: RowStreams) -> Response:
        affinity = self.affinity.logit(state, items)
        click = rng.uniform() < torch.sigmoid(self.click_logit(state, items, affinity))
        return Response(click=click, reward=self._reward(state, items, click, affinity))

    def respond_slate(
        self, state: SimState, slate: torch.Tensor, choice: ChoiceConfig, rng: RowStreams
    ) -> SlateResponse:
        """Each user's choice among slate [B, k] under the conditional logit of `choice`: position j's
        click logit is the one a single recommendation of its item would have."""
        affinities = [self.affinity.logit(state, slate[:, j]) for j in range(slate.shape[1])]
        logits = torch.stack(
            [self.click_logit(state, slate[:, j], affinity) for j, affinity in enumerate(affinities)], dim=1
        )
        chosen = sample_choice(choice_probabilities(logits, slate, choice), rng.uniform())
        click = chosen < slate.shape[1]
        position = chosen.clamp_max(slate.shape[1] - 1).where(click, torch.zeros_like(chosen))
        item = slate.gather(1, position[:, None]).squeeze(1)
        affinity = torch.stack(affinities, dim=1).gather(1, position[:, None]).squeeze(1)
        reward = self._reward(state, item, click, affinity)
        return SlateResponse(chosen=chosen, item=item, response=Response(click=click, reward=reward))

    def _reward(
        self, state: SimState, items: torch.Tensor, click: torch.Tensor, affinity: torch.Tensor
    ) -> torch.Tensor:
        """[B] reward of the reward signal for items [B] answered with click, of affinity logit [B]."""
        return self.reward_signal.pay(Step(self.affinity, self.params, state, items, click.float(), affinity))

    def transition(
        self, state: SimState, items: torch.Tensor, response: Response, rng: RowStreams
    ) -> SimState:
        d = self.params.config
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
            "affinity": torch.sigmoid(self.affinity.logit(state, items)),
        }
        return self.affinity.consume(state, items, response.click)

    def leave_probability(self, state: SimState) -> torch.Tensor:
        """[B] probability of ending the session after the last step."""
        return self.params.active_leave_model().probability(state)

    def active_leave_model(self) -> LeaveModel:
        """The learned leave model if there is one, else the hand rule of `dynamics`."""
        return self.params.active_leave_model()

    def leaves(self, state: SimState, rng: RowStreams) -> torch.Tensor:
        probability = self.leave_probability(state)
        return rng.uniform() < probability
