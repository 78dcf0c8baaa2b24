"""stable-baselines3 PPO and A2C and sb3-contrib's QR-DQN on recgym's envs and observation.

All three read the observation through DQN's `HistoryExtractor` (user embedding, pooled history,
last item, responses), optionally started from a fitted recommender's embeddings, and act over the
whole catalog. As recgym `Policy`s they recommend the best item not yet shown: the actor's most
likely item for PPO and A2C, the highest mean of the return quantiles for QR-DQN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
from sb3_contrib import QRDQN
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from recgym.agents.sb3.adapter import SB3Config
from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.training.networks import HistoryExtractor, extractor_kwargs

SB3AgentName = Literal["sb3-ppo", "sb3-a2c", "sb3-qrdqn"]


class _ByName(SB3Config):
    """An SB3 config whose algorithm `make_sb3_agent` builds by the config's name."""

    def algorithm(self, env: Any, seed: int, device: str, initial_embeddings: Any) -> BaseAlgorithm:
        return make_sb3_agent(self.name, env, self, seed, device, initial_embeddings)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PPOConfig(_ByName):
    """PPO hyper-parameters (stable-baselines3 names)."""

    name: ClassVar[str] = "sb3-ppo"

    learning_rate: float = 3e-4
    """Adam learning rate."""
    n_steps: int = 512
    """Env steps per env between updates."""
    batch_size: int = 256
    """Transitions per gradient step."""
    n_epochs: int = 10
    """Passes over each rollout."""
    gamma: float = 0.9
    """Discount; the same horizon of about 10 steps as DQN's."""
    ent_coef: float = 0.01
    """Entropy bonus: keeps the policy exploring a large catalog."""
    embedding_dim: int = 32
    """User and item embedding size (taken from the initial embeddings when given)."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the actor and the critic."""


@dataclass(frozen=True)
class A2CConfig(_ByName):
    """A2C hyper-parameters (stable-baselines3 names)."""

    name: ClassVar[str] = "sb3-a2c"

    learning_rate: float = 7e-4
    """RMSprop learning rate (SB3's default optimiser for A2C)."""
    n_steps: int = 16
    """Env steps per env between updates."""
    gamma: float = 0.9
    """Discount; the same horizon as DQN's."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    embedding_dim: int = 32
    """User and item embedding size (taken from the initial embeddings when given)."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the actor and the critic."""


@dataclass(frozen=True)
class QRDQNConfig(_ByName, DQNConfig):
    """QR-DQN hyper-parameters (sb3-contrib names): DQN's, plus the number of quantiles."""

    name: ClassVar[str] = "sb3-qrdqn"

    n_quantiles: int = 25
    """Quantiles of the return distribution per item."""


SB3AgentConfig = PPOConfig | A2CConfig | QRDQNConfig

_ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"sb3-ppo": PPO, "sb3-a2c": A2C, "sb3-qrdqn": QRDQN}


def make_sb3_agent(
    name: SB3AgentName,
    env: Any,
    config: SB3AgentConfig,
    seed: int = 0,
    device: str = "cpu",
    initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> BaseAlgorithm:
    """The named algorithm on env (a Gymnasium env or an SB3 VecEnv) with the history extractor."""
    if name not in _ALGORITHMS:
        raise ValueError(f"unknown agent {name!r}; choose one of {sorted(_ALGORITHMS)}")
    params = asdict(config)
    n_quantiles = params.pop("n_quantiles", None)
    policy_kwargs: dict[str, Any] = {
        "features_extractor_class": HistoryExtractor,
        "features_extractor_kwargs": extractor_kwargs(params.pop("embedding_dim"), initial_embeddings),
        "net_arch": list(params.pop("net_arch")),
    }
    if n_quantiles is not None:
        policy_kwargs["n_quantiles"] = n_quantiles
    algorithm = _ALGORITHMS[name]
    return algorithm("MultiInputPolicy", env, policy_kwargs=policy_kwargs, seed=seed, device=device, **params)
