"""Any stable-baselines3 or sb3-contrib algorithm as a recgym `Agent`.

`SB3Agent` wraps a built algorithm and its `DummyVecEnv` of single-user `RecEnv`s: `learn` runs SB3's
own loop with a progress bar, the agent's callback and periodic checkpoints in recgym's one format
(`agents.training.checkpoint`; the state itself is `agents.sb3.state`'s), `policy` serves the algorithm's
scores over the catalog (Q-values, actor logits or mean quantiles). `SB3Config` is the base of the SB3
agents' configs: each says how to build its algorithm on the envs, the rest is shared.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.dqn.policies import DQNPolicy
from torch import nn
from tqdm.auto import tqdm

from recgym.agents.contract import Callback, Embeddings, EnvSpec, TrainOptions
from recgym.agents.sb3.state import load_sb3_state, sb3_state
from recgym.agents.training.checkpoint import PeriodicCheckpoints
from recgym.agents.training.networks import embedding_dim, on_device
from recgym.envs.rec_env import RecEnv
from recgym.policy import RankingPolicy
from recgym.simulators.protocol import UserSimulator


class SB3Config:
    """Base of the SB3 agents' configs: `algorithm` builds the model; `build` its envs and the agent."""

    name: str
    embedding_dim: int

    def algorithm(
        self, env: Any, seed: int, device: str, initial_embeddings: Embeddings | None
    ) -> BaseAlgorithm:  # pragma: no cover - every SB3 config defines it
        raise NotImplementedError

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> SB3Agent:
        """The agent on `spec.n_envs` single-user envs (4 by default), stepped by a `DummyVecEnv`."""
        env_kwargs = {"simulator": simulator, "horizon": spec.horizon, "history_len": spec.history_len}
        env = make_vec_env(RecEnv, n_envs=spec.n_envs or 4, seed=seed, env_kwargs=env_kwargs)
        dim = embedding_dim(self.embedding_dim, initial_embeddings)
        config = dataclasses.replace(self, embedding_dim=dim)  # type: ignore[type-var]
        return SB3Agent(config, config.algorithm(env, seed, str(simulator.device), initial_embeddings), seed)


class SB3Agent:
    """A stable-baselines3 algorithm on recgym's single-user envs, as a recgym `Agent`.

    :param config: the config it was built from (its `name` says which agent it is, its `embedding_dim`
        the size its networks were built with).
    :param model: the algorithm, on a `DummyVecEnv` of `RecEnv`s.
    :param seed: the seed it was built with.
    """

    def __init__(self, config: Any, model: BaseAlgorithm, seed: int = 0):
        self.config, self.model, self.seed = config, model, seed

    @property
    def num_timesteps(self) -> int:
        return self.model.num_timesteps

    def learn(self, total_timesteps: int, options: TrainOptions | None = None) -> SB3Agent:
        """Train with SB3's `learn` up to total_timesteps (see `agents.contract.Agent.learn`); the
        callback runs after every env step, checkpoints at the first rollout start past each multiple
        of `checkpoint_every`, where SB3 holds nothing outside the model."""
        options = options or TrainOptions()
        callbacks: list[BaseCallback] = [_Progress(total_timesteps, options.progress)]
        if options.callback is not None:
            callbacks.append(_Each(self, options.callback))
        if options.checkpoint_dir is not None:
            checkpoints = PeriodicCheckpoints(options.checkpoint_dir, options.checkpoint_every)
            callbacks.append(_Checkpoints(self, checkpoints))
        if options.log_dir is not None:
            self.model.set_logger(configure(str(options.log_dir), ["tensorboard"]))
        remaining = total_timesteps - self.model.num_timesteps  # all of it unless resumed
        self.model.learn(remaining, callback=callbacks, reset_num_timesteps=not options.resume)
        return self

    def policy(self) -> SB3Policy:
        return SB3Policy(self.model)

    def state_dict(self, training: bool = True) -> dict[str, Any]:
        return sb3_state(self.model, training)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_sb3_state(self.model, state)

    def env_sizes(self) -> dict[str, Any]:
        space = self.model.observation_space
        env = self.model.get_env().envs[0].unwrapped  # type: ignore[union-attr]
        return {
            "n_items": int(self.model.action_space.n),  # type: ignore[attr-defined]
            "n_users": int(space["user"].high[0]) + 1,  # type: ignore[index]
            "history_len": int(space["recent_items"].shape[0]),  # type: ignore[index]
            "slate_size": None,
            "choice": None,
            "n_envs": self.model.n_envs,
            "horizon": env.horizon,
            "device": self.model.device.type,
        }


class SB3Policy(RankingPolicy):
    """A trained SB3 algorithm as a recgym `Policy`: its best-scored allowed items, by Q-value (DQN),
    actor logit (PPO, A2C) or mean of the return quantiles (QR-DQN)."""

    def __init__(self, model: BaseAlgorithm):
        policy = model.policy
        if isinstance(policy, ActorCriticPolicy):
            self.network: nn.Module = _ActorLogits(policy)
        elif isinstance(policy, DQNPolicy):
            self.network = policy.q_net
        else:
            self.network = _MeanOfQuantiles(policy.quantile_net)  # type: ignore[attr-defined]

    @torch.no_grad()
    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        """[B, n_items] the algorithm's scores of every item."""
        return self.network(on_device(observation, self.network))


class _MeanOfQuantiles(nn.Module):
    """QR-DQN's quantile network read as Q-values: the mean of each action's quantiles."""

    def __init__(self, quantile_net: nn.Module):
        super().__init__()
        self.quantile_net = quantile_net

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.quantile_net(obs).mean(dim=1)  # [B, n_quantiles, n_items] -> [B, n_items]


class _ActorLogits(nn.Module):
    """An actor-critic policy's action logits [B, n_items]."""

    def __init__(self, policy: ActorCriticPolicy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.policy.get_distribution(obs).distribution.logits


class _Progress(BaseCallback):
    """tqdm bar over timesteps with the mean return of the last 100 episodes (it also prints periodic
    lines when stdout is not a terminal, unlike SB3's rich bar)."""

    def __init__(self, total_timesteps: int, enabled: bool):
        super().__init__()
        self.total, self.enabled = total_timesteps, enabled
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        initial = self.model.num_timesteps  # where a resumed run starts
        self.bar = tqdm(
            total=self.total,
            initial=initial,
            desc="train agent",
            unit="step",
            disable=not self.enabled,
            mininterval=2.0,
        )

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.update(self.training_env.num_envs)
        episodes = self.model.ep_info_buffer
        if episodes and self.n_calls % 200 == 0:
            self.bar.set_postfix(ep_return=f"{np.mean([e['r'] for e in episodes]):.2f}", refresh=False)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Each(BaseCallback):
    """The agent's `callback(agent)` after every env step."""

    def __init__(self, agent: SB3Agent, callback: Callback):
        super().__init__()
        self.agent, self.callback = agent, callback

    def _on_step(self) -> bool:
        return self.callback(self.agent)


class _Checkpoints(BaseCallback):
    """The agent saved at the first rollout start past each multiple of the period, and at the end."""

    def __init__(self, agent: SB3Agent, checkpoints: PeriodicCheckpoints):
        super().__init__()
        self.agent, self.checkpoints, self.last = agent, checkpoints, 0

    def _on_training_start(self) -> None:
        self.last = self.model.num_timesteps
        if self.last > 0:  # resumed from a checkpoint of this step
            self.checkpoints.saved_at = self.last

    def _on_rollout_start(self) -> None:
        self.checkpoints.after_step(self.agent, self.last)
        self.last = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self.model.num_timesteps >= self.model._total_timesteps:  # not stopped mid-rollout
            self.checkpoints.save(self.agent)
