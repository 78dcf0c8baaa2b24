"""A user's own module extending recgym without editing it: a data source and an agent, registered.

The test copies this file outside the repository and imports it from there, as a user's module would be
(`python -m experiments.dqn --import toy_extensions agent:epsilon-greedy data:memory`); docs/ARCHITECTURE.md
shows the same two classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import torch

import recgym
from recgym.agents.contract import Embeddings, EnvSpec, TrainOptions
from recgym.agents.training.trainer import env_sizes, load_training_state, train, training_state
from recgym.envs.vector_env import RecVectorEnv
from recgym.policy import RankingPolicy
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class MemoryLogs:
    """A small log held in the config itself: (user, item, rating, time) rows."""

    rows: tuple[tuple[int, int, float, int], ...] = ()

    @property
    def label(self) -> str:
        return "memory"

    def read(self) -> recgym.InteractionLog:
        frame = pd.DataFrame(list(self.rows), columns=["user", "item", "rating", "timestamp"])
        return recgym.InteractionLog.from_frame(frame, feedback="click", name=self.label)


@dataclass
class CountingRun:
    """The run in progress: what the loop and a checkpoint need."""

    total_timesteps: int
    n_iterations: int
    iteration: int = 0

    def state_dict(self) -> dict[str, Any]:
        return {"total_timesteps": self.total_timesteps, "iteration": self.iteration}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.total_timesteps, self.iteration = state["total_timesteps"], state["iteration"]


@dataclass(frozen=True)
class EpsilonGreedyConfig:
    """Recommend the item with the best click rate so far, a random one with probability epsilon."""

    name: ClassVar[str] = "epsilon-greedy"

    epsilon: float = 0.1
    """Chance of a random unshown item."""

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> EpsilonGreedy:
        env = RecVectorEnv(simulator, spec.n_envs or 32, horizon=spec.horizon, history_len=spec.history_len)
        return EpsilonGreedy(env, self, seed)


class EpsilonGreedy:
    """Click counts per item, on the env's device, trained by recgym's on-device loop."""

    def __init__(self, env: RecVectorEnv, config: EpsilonGreedyConfig, seed: int):
        self.env, self.config, self.seed = env, config, seed
        self.clicks = torch.zeros(env.simulator.n_items, device=env.device)
        self.shown = torch.ones(env.simulator.n_items, device=env.device)
        self.generator = torch.Generator(device=env.device).manual_seed(seed)
        self.num_timesteps = 0
        self.run: CountingRun | None = None

    def learn(self, total_timesteps: int, options: TrainOptions | None = None) -> EpsilonGreedy:
        train(self, total_timesteps, options or TrainOptions())
        return self

    def new_run(self, total_timesteps: int) -> CountingRun:
        return CountingRun(total_timesteps, max(1, total_timesteps // self.env.num_envs))

    def iteration(self, observation: dict, log: Any) -> dict:
        mask = self.env.action_masks()
        rates = (self.clicks / self.shown).expand_as(mask)
        noise = torch.rand(mask.shape, generator=self.generator, device=mask.device)
        explore = (
            torch.rand(mask.shape[0], generator=self.generator, device=mask.device) < self.config.epsilon
        )
        scores = torch.where(explore[:, None], noise, rates)
        items = scores.masked_fill(~mask, -1.0).argmax(dim=1)
        step = self.env.step_tensors(items)
        self.clicks.index_add_(0, items, (step.reward > 0).float())
        self.shown.index_add_(0, items, torch.ones_like(step.reward))
        self.num_timesteps += self.env.num_envs
        return step.observation

    def policy(self) -> RankingPolicy:
        return RatePolicy(self.clicks / self.shown)

    def state_dict(self, training: bool = True) -> dict[str, Any]:
        state: dict[str, Any] = {"networks": {"clicks": self.clicks, "shown": self.shown}}
        return state | (training_state(self) if training else {})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.clicks, self.shown = state["networks"]["clicks"], state["networks"]["shown"]
        if "generator" in state:
            load_training_state(self, state)

    def env_sizes(self) -> dict[str, Any]:
        return env_sizes(self.env)


class RatePolicy(RankingPolicy):
    """Serve the best allowed click rates."""

    def __init__(self, rates: torch.Tensor):
        self.rates = rates.clone()

    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return self.rates.expand(observation["user"].shape[0], -1)


recgym.register_source("memory", MemoryLogs)
recgym.register_agent(EpsilonGreedyConfig)
