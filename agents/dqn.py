"""stable-baselines3 DQN for recommendation: a feature extractor over item histories, and an adapter
that lets a trained SB3 model act in recgym's batched evaluation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import torch
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.baselines import best_unshown


class HistoryExtractor(BaseFeaturesExtractor):
    """Features of (user, recent items, responses): learned user and item embeddings pooled three ways.

    The pools mirror what drives the user: items that earned a reward (taste), a recency-weighted sum
    of everything shown (what tires them), and the last item. Observation arrays arrive as floats
    (SB3 casts Box observations) and are cast back to ids here.

    :param observation_space: `envs.observation_space(...)`.
    :param embedding_dim: size of user and item embeddings.
    :param features_dim: size of the output features.
    :param recency_decay: weight ratio between consecutive history slots in the recency pool.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        embedding_dim: int = 32,
        features_dim: int = 128,
        recency_decay: float = 0.7,
    ):
        super().__init__(observation_space, features_dim)
        n_users = int(observation_space["user"].high[0]) + 1
        n_items = int(observation_space["items"].high[0])
        history_len = observation_space["items"].shape[0]
        self.user_embedding = nn.Embedding(n_users, embedding_dim)
        self.item_embedding = nn.Embedding(n_items + 1, embedding_dim, padding_idx=0)
        recency = recency_decay ** torch.arange(history_len - 1, -1, -1, dtype=torch.float32)
        self.register_buffer("recency", recency)  # [H], newest slot weighs 1
        self.mlp = nn.Sequential(nn.Linear(4 * embedding_dim + history_len, features_dim), nn.ReLU())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        users = observations["user"].long().squeeze(-1)  # [B]
        items = observations["items"].long()  # [B, H]
        responses = observations["responses"].float()  # [B, H]
        embedded = self.item_embedding(items)  # [B, H, d]; padding rows are zero
        rewarded = (embedded * responses[..., None]).sum(1)  # [B, d]
        recent = (embedded * self.recency[None, :, None]).sum(1)  # [B, d]
        features = torch.cat(
            [self.user_embedding(users), rewarded, recent, embedded[:, -1], responses], dim=-1
        )
        return self.mlp(features)


@dataclass(frozen=True)
class DQNConfig:
    """DQN hyper-parameters (stable-baselines3 names) tuned for short CPU runs."""

    learning_rate: float = 5e-4
    """Adam learning rate."""
    buffer_size: int = 100_000
    """Replay buffer capacity (transitions)."""
    learning_starts: int = 2_000
    """Transitions collected before the first update."""
    batch_size: int = 128
    """Transitions per gradient step."""
    gamma: float = 0.95
    """Discount; sessions last tens of steps, so 0.95 sees about 20 ahead."""
    train_freq: int = 4
    """Env steps between updates."""
    target_update_interval: int = 2_000
    """Env steps between target-network syncs."""
    exploration_fraction: float = 0.3
    """Share of training over which epsilon decays."""
    exploration_final_eps: float = 0.05
    """Final epsilon."""
    embedding_dim: int = 32
    """User and item embedding size of the feature extractor."""
    features_dim: int = 128
    """Feature size fed to the Q head."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the Q head."""


def make_dqn(
    env: gym.Env | Any,
    config: DQNConfig,
    seed: int = 0,
    device: str = "cpu",
    tensorboard_log: str | None = None,
) -> DQN:
    """A DQN with the history feature extractor on env (a Gymnasium env or an SB3 VecEnv)."""
    params = asdict(config)
    policy_kwargs = {
        "features_extractor_class": HistoryExtractor,
        "features_extractor_kwargs": {
            "embedding_dim": params.pop("embedding_dim"),
            "features_dim": params.pop("features_dim"),
        },
        "net_arch": list(params.pop("net_arch")),
    }
    return DQN(
        "MultiInputPolicy",
        env,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=0,
        **params,
    )


class SB3Policy:
    """A trained SB3 value-based model as a recgym `Policy`: argmax Q over items not yet shown.

    Reads the Q-network directly on torch tensors, so a whole evaluation batch is one forward pass.
    """

    def __init__(self, model: DQN, mask_shown: bool = True):
        self.model, self.mask_shown = model, mask_shown

    @torch.no_grad()
    def act(
        self, observation: dict[str, torch.Tensor], shown: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        device = self.model.device
        obs = {key: value.to(device).float() for key, value in observation.items()}
        q_values = self.model.q_net(obs).to(shown.device)  # [B, n_items]
        if not self.mask_shown:
            return q_values.argmax(dim=1)
        return best_unshown(q_values, shown)
