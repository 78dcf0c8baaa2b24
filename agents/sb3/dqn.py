"""stable-baselines3 DQN for recommendation.

The Q-network scores every item by a dot product: `Q(s, i) = <query(s), e_i> + b_i`, where the query
is the user's embedding plus a learned correction from the recent history, and `e_i` are the item
embeddings the history encoder also reads. Items therefore share statistical strength (an item
similar to a clicked one gets a similar value), which a plain `Linear(features, n_items)` head cannot
do, and the embeddings can start from a fitted recommender's (`NeuMF.dot_embeddings`), so that the
agent's first greedy policy is the supervised ranking and Q-learning corrects it for what happens later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import gymnasium as gym
import torch
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from recgym.agents.sb3.adapter import SB3Config
from recgym.agents.training.networks import HistoryExtractor, extractor_kwargs, on_device, query_head
from recgym.policy import RankingPolicy


class ItemScoringQNetwork(QNetwork):
    """Q(s, i) = <user embedding + MLP(features), e_i> + b_i - r * [i in history].

    Scores run over the extractor's item embeddings. The learned `repeat_cost` r lets the network
    value an item already in the observed history differently from a fresh one. The MLP's last
    layer starts at zero, so the initial Q-values are the embeddings' dot products.
    """

    features_extractor: HistoryExtractor

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.q_net = query_head(self.features_dim, self.features_extractor.embedding_dim, self.net_arch)
        self.item_bias = nn.Parameter(torch.zeros(int(self.action_space.n)))
        self.repeat_cost = nn.Parameter(torch.zeros(()))

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        features = self.extract_features(obs, self.features_extractor)  # [B, F]
        dim = self.features_extractor.embedding_dim
        query = features[:, :dim] + self.q_net(features)  # [B, d]; features start with the user embedding
        q_values = query @ self.features_extractor.item_vectors().T + self.item_bias  # [B, n_items]
        history = obs["recent_items"].long()  # [B, H], item + 1 (0 = empty slot)
        in_history = torch.zeros(q_values.shape[0], q_values.shape[1] + 1, device=q_values.device)
        in_history.scatter_(1, history, 1.0)  # [B, n_items + 1]; column 0 collects empty slots
        return q_values - self.repeat_cost * in_history[:, 1:]


class ItemScoringDQNPolicy(DQNPolicy):
    """DQN policy over dict observations whose Q-network scores items by dot product."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("features_extractor_class", HistoryExtractor)
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return ItemScoringQNetwork(**net_args).to(self.device)


@dataclass(frozen=True)
class DQNConfig(SB3Config):
    """DQN hyper-parameters (stable-baselines3 names) tuned for short CPU runs."""

    name: ClassVar[str] = "sb3-dqn"

    learning_rate: float = 5e-4
    """Adam learning rate."""
    buffer_size: int = 100_000
    """Replay buffer capacity (transitions)."""
    learning_starts: int = 2_000
    """Transitions collected before the first update."""
    batch_size: int = 128
    """Transitions per gradient step."""
    gamma: float = 0.9
    """Discount; a horizon of about 10 steps, the scale on which fatigue builds and fades."""
    train_freq: int = 4
    """Env steps between updates."""
    target_update_interval: int = 2_000
    """Env steps between target-network syncs."""
    exploration_fraction: float = 0.3
    """Share of training over which epsilon decays."""
    exploration_final_eps: float = 0.05
    """Final epsilon."""
    embedding_dim: int = 32
    """User and item embedding size (taken from the initial embeddings when given)."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the query correction MLP."""

    def algorithm(self, env: Any, seed: int, device: str, initial_embeddings: Any) -> DQN:
        return make_dqn(env, self, seed=seed, device=device, initial_embeddings=initial_embeddings)


def make_q_network(
    observation_space: spaces.Dict,
    n_items: int,
    embedding_dim: int,
    net_arch: tuple[int, ...],
    initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> ItemScoringQNetwork:
    """The item-scoring Q-network outside SB3 (the on-device DQN uses the same network)."""
    extractor = HistoryExtractor(observation_space, **extractor_kwargs(embedding_dim, initial_embeddings))
    return ItemScoringQNetwork(
        observation_space,
        spaces.Discrete(n_items),
        features_extractor=extractor,
        features_dim=extractor.features_dim,
        net_arch=list(net_arch),
        normalize_images=False,
    )


def make_dqn(
    env: gym.Env | Any,
    config: DQNConfig,
    seed: int = 0,
    device: str = "cpu",
    initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> DQN:
    """A DQN with the item-scoring Q-network on env (a Gymnasium env or an SB3 VecEnv).

    :param initial_embeddings: optional (user [n_users, d], item [n_items, d]) embeddings to start
        from, e.g. a fitted NeuMF's `dot_embeddings()`.
    """
    params = asdict(config)
    features_kwargs = extractor_kwargs(params.pop("embedding_dim"), initial_embeddings)
    policy_kwargs = {"features_extractor_kwargs": features_kwargs, "net_arch": list(params.pop("net_arch"))}
    return DQN(
        ItemScoringDQNPolicy, env, policy_kwargs=policy_kwargs, seed=seed, device=device, verbose=0, **params
    )


class QPolicy(RankingPolicy):
    """A trained Q-network (SB3's `model.q_net`, or the on-device DQN's) as a recgym `Policy`: the
    allowed items of highest Q-value.

    Reads the Q-network directly on torch tensors, so a whole evaluation batch is one forward pass.
    """

    def __init__(self, q_net: nn.Module):
        self.q_net = q_net

    @torch.no_grad()
    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        """[B, n_items] Q-values."""
        return self.q_net(on_device(observation, self.q_net))
