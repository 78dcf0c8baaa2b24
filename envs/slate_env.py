"""Slate recommendation: k items per step, of which the user picks at most one.

`SlateEnv` is the one-user Gymnasium env and `SlateVectorEnv` the batched one (a stable-baselines3
`VecEnv` through `envs.sb3_vec_env.SB3VecEnv`, like `RecVectorEnv`). The action is k item ids
(`MultiDiscrete([n_items] * k)`, position 0 first); the observation, reward, termination and
autoreset are those of the single-item envs, the history recording the item the user chose (or the
first position's item when nothing was chosen). The choice model is `recgym.simulators.choice`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from recgym.envs.dense import ObservationKind
from recgym.envs.rec_env import RecEnv, as_int
from recgym.envs.vector_env import RecVectorEnv, check_actions
from recgym.random import RowStreams
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.sessions import StepResult
from recgym.simulators.choice import ChoiceConfig, SlateSimulator
from recgym.simulators.protocol import UserSimulator


def slate_space(n_items: int, slate_size: int) -> spaces.MultiDiscrete:
    return spaces.MultiDiscrete(np.full(slate_size, n_items))


def check_choice(choice: Any) -> ChoiceConfig:
    """choice (None: the default) with a plain-int slate size; TypeError or ValueError naming the problem
    (`ChoiceConfig` itself takes True or 2.5 as a size)."""
    if choice is None:
        return ChoiceConfig()
    if not isinstance(choice, ChoiceConfig):
        raise TypeError(f"choice must be a ChoiceConfig, got {type(choice).__name__}")
    return replace(choice, slate_size=as_int(choice.slate_size, "choice.slate_size"))


def _check_slates(simulator: UserSimulator, choice: ChoiceConfig) -> None:
    """TypeError unless simulator can answer choice's slates: with `respond_slate`, or with `respond`
    alone for slates of one whose outside option keeps its click probability (`Sessions.step`)."""
    single = choice.slate_size == 1 and choice.no_click_weight == 1.0
    if not (isinstance(simulator, SlateSimulator) or single):
        raise TypeError(
            f"{type(simulator).__name__} cannot answer slates of {choice.slate_size}: it needs respond_slate "
            "(every DynamicsSimulator has it, see recgym.simulators.choice)"
        )
    if choice.slate_size > simulator.n_items:  # top-k policies could not fill the slate
        raise ValueError(
            f"slate_size {choice.slate_size} is larger than the catalog of {simulator.n_items} items"
        )


class SlateEnv(RecEnv):
    """Recommend a slate of k items per step to one simulated user until they leave.

    :param choice: slate size, position bias and outside option of the user's choice.
    Other parameters (`observation="dense"` and `compile` included) as `RecEnv`. `info["chosen"]` is the
    chosen position (k: none). The ansi line's history holds the item the user chose, or the first position's
    where nothing was chosen; the "rgb_array" picture has a cell per position, the chosen one green
    (`envs.render`).
    """

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        horizon: int = HORIZON,
        history_len: int = HISTORY_LEN,
        simulator_kwargs: dict[str, Any] | None = None,
        choice: ChoiceConfig | None = None,
        render_mode: str | None = None,
        observation: ObservationKind = "dict",
        compile: bool = False,
    ):
        self.choice = check_choice(choice)
        super().__init__(simulator, horizon, history_len, simulator_kwargs, render_mode, observation, compile)
        _check_slates(self.simulator, self.choice)
        self.action_space = slate_space(self.simulator.n_items, self.choice.slate_size)

    def _action_size(self) -> int:
        return self.choice.slate_size

    def step(self, action):
        self._require_session()
        slate = check_actions(action, (self.choice.slate_size,), self.simulator.n_items)
        slate = torch.as_tensor(slate, device=self.simulator.device).long()[None, :]
        result, dense = self._session_step(slate, self.choice)
        return self._outcome(result, {"click": result.click.item(), "chosen": result.chosen.item()}, dense)


class SlateVectorEnv(RecVectorEnv):
    """B slate sessions stepped together on the simulator's device; actions are [B, k] item ids.

    :param choice: slate size, position bias and outside option of the users' choice.
    Other parameters as `RecVectorEnv`.
    """

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        num_envs: int = 1024,
        horizon: int = HORIZON,
        history_len: int = HISTORY_LEN,
        simulator_kwargs: dict[str, Any] | None = None,
        compile: bool = False,
        choice: ChoiceConfig | None = None,
        observation: ObservationKind = "dict",
    ):
        self.choice = check_choice(choice)
        super().__init__(simulator, num_envs, horizon, history_len, simulator_kwargs, compile, observation)
        _check_slates(self.simulator, self.choice)
        self.single_action_space = slate_space(self.simulator.n_items, self.choice.slate_size)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def _action_size(self) -> int:
        return self.choice.slate_size

    def _step_sessions(self, actions: torch.Tensor, rng: RowStreams, check: bool) -> StepResult:
        return self.sessions.step(actions, rng, self.choice, check=check)
