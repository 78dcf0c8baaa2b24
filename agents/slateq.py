"""SlateQ (Ie et al., 2019): long-term value of slates from item-wise Q-values and a choice model.

With a user who picks at most one item of a slate A, the slate's value decomposes as
`Q(s, A) = sum_{i in A} P(i | s, A) Qbar(s, i) + P(none | s, A) Qbar(s, none)`: only the item-wise
values `Qbar` need learning, each from the transitions in which its item was the one chosen
(`Qbar(s, i) <- r + gamma * Q(s', A')`, with A' the slate the target network would serve next).
The agent learns the choice model too, by maximum likelihood on the observed choices: a click logit
per item (a second dot-product head), a log-weight per position and the no-click option at 0, the
conditional logit of `recgym.simulators.choice`. Slates are built with the paper's top-k rule:
the k items with the largest `v(s, i) * Qbar(s, i)`, `v` the item's choice weight.

Everything runs on the env's device on a `SlateVectorEnv`, with the training loop of `DeviceDQN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from recgym.agents.contract import Embeddings, EnvSpec
from recgym.agents.device_dqn import DeviceDQN, DeviceDQNConfig, as_float
from recgym.agents.training.networks import HistoryExtractor, extractor_kwargs, on_device, query_head
from recgym.agents.training.replay import TensorReplay
from recgym.agents.training.trainer import batched_slate_env
from recgym.envs.slate_env import SlateVectorEnv
from recgym.envs.vector_env import TensorStep
from recgym.policy import RankingPolicy, top_allowed
from recgym.simulators.choice import first_occurrence
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class SlateQConfig(DeviceDQNConfig):
    """SlateQ hyper-parameters: the on-device DQN's, plus the weight of the choice model's loss."""

    name: ClassVar[str] = "slateq"

    choice_loss_weight: float = 1.0
    """Weight of the choice model's negative log-likelihood beside the TD loss."""

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> SlateQ:
        """The agent on `batched_slate_env(simulator, spec)`."""
        env = batched_slate_env(simulator, spec)
        return SlateQ(env, self, seed, initial_embeddings)


class SlateQNetwork(nn.Module):
    """Item-wise long-term values Qbar(s, i), Qbar(s, none) and the learned choice model.

    Both heads score items by a dot product with the shared item embeddings, from the user
    embedding plus a correction, so both start as the user model's ranking when its embeddings
    are given.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        slate_size: int,
        embedding_dim: int,
        net_arch: tuple[int, ...],
        initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
    ):
        super().__init__()
        self.extractor = HistoryExtractor(
            observation_space, **extractor_kwargs(embedding_dim, initial_embeddings)
        )
        dim, features = self.extractor.embedding_dim, self.extractor.features_dim
        n_items = int(observation_space["recent_items"].high[0])
        self.value_query = query_head(features, dim, net_arch)
        self.choice_query = query_head(features, dim, net_arch)
        self.value_bias = nn.Parameter(torch.zeros(n_items))
        self.choice_bias = nn.Parameter(torch.zeros(n_items))
        self.none_value = nn.Linear(features, 1)
        self.position_log_weights = nn.Parameter(torch.zeros(slate_size))

    def forward(
        self, observation: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(Qbar [B, n_items], choice logits [B, n_items], Qbar of choosing nothing [B])."""
        features = self.extractor(observation)
        user = features[:, : self.extractor.embedding_dim]  # the features start with the user embedding
        items = self.extractor.item_vectors()
        values = (user + self.value_query(features)) @ items.T + self.value_bias
        logits = (user + self.choice_query(features)) @ items.T + self.choice_bias
        return values, logits, self.none_value(features).squeeze(1)

    def slate_logits(self, logits: torch.Tensor, slate: torch.Tensor) -> torch.Tensor:
        """[B, k + 1] choice logits of the slate's positions (a repeat counts once) and of nothing."""
        at_positions = logits.gather(1, slate) + self.position_log_weights
        at_positions = at_positions.masked_fill(~first_occurrence(slate), float("-inf"))
        return torch.cat([at_positions, torch.zeros_like(at_positions[:, :1])], dim=1)

    def slate_value(
        self, values: torch.Tensor, logits: torch.Tensor, none: torch.Tensor, slate: torch.Tensor
    ):
        """[B] Q(s, A): the choice-weighted item values of slate A [B, k]."""
        probabilities = torch.softmax(self.slate_logits(logits, slate), dim=1)
        item_values = torch.cat([values.gather(1, slate), none[:, None]], dim=1)
        return (probabilities * item_values).sum(1)


def slate_scores(values: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """[B, n_items] SlateQ's top-k ranking key v(s, i) * Qbar(s, i), v = exp(choice logit)."""
    return torch.exp(logits.clamp(max=30.0)) * values


class SlateQ(DeviceDQN):
    """SlateQ on a `SlateVectorEnv`, on the env's device.

    :param env: the batched slate env.
    :param config: hyper-parameters.
    :param seed: seed of the networks, exploration, replay sampling and the env.
    :param initial_embeddings: optional (user, item) embeddings, e.g. a fitted NeuMF's.
    """

    def __init__(self, env: SlateVectorEnv, config: SlateQConfig, seed: int = 0, initial_embeddings=None):
        self.slate_size = env.choice.slate_size
        super().__init__(env, config, seed, initial_embeddings)

    def _make_network(self, initial_embeddings) -> nn.Module:
        c = self.config
        observation_space = self.env.single_observation_space
        return SlateQNetwork(
            observation_space, self.slate_size, c.embedding_dim, c.net_arch, initial_embeddings
        )

    def _actions(self, observation: dict[str, torch.Tensor], epsilon: float) -> torch.Tensor:
        """Top-k slates of unshown items; each position is a random item with probability epsilon."""
        with torch.no_grad():
            values, logits, _ = self.q_net(as_float(observation))
            slates = top_allowed(slate_scores(values, logits), self.env.action_masks(), self.slate_size)
        explore = torch.rand(slates.shape, generator=self.generator, device=self.device) < epsilon
        random = torch.randint(
            self.env.simulator.n_items, slates.shape, generator=self.generator, device=self.device
        )
        return torch.where(explore, random, slates)

    def _store(
        self,
        buffer: TensorReplay,
        observation: dict[str, torch.Tensor],
        actions: torch.Tensor,
        step: TensorStep,
    ) -> None:
        assert step.chosen is not None, "SlateQ needs the slate env's choices"
        buffer.add(
            obs=observation,
            slate=actions,
            chosen=step.chosen,
            reward=step.reward,
            next_obs=step.final_observation,
            terminated=step.terminated.float(),
        )

    def _loss(self, batch: dict) -> torch.Tensor:
        c, slate, chosen = self.config, batch["slate"], batch["chosen"]
        with torch.no_grad():
            next_values, next_logits, next_none = self.q_net_target(as_float(batch["next_obs"]))
            next_slate = slate_scores(next_values, next_logits).topk(self.slate_size, dim=1).indices
            next_value = self.q_net_target.slate_value(next_values, next_logits, next_none, next_slate)
            target = batch["reward"] + c.gamma * (1.0 - batch["terminated"]) * next_value
        values, logits, none = self.q_net(as_float(batch["obs"]))
        clicked = chosen < self.slate_size
        chosen_item = slate.gather(1, chosen.clamp_max(self.slate_size - 1)[:, None]).squeeze(1)
        q = torch.where(clicked, values.gather(1, chosen_item[:, None]).squeeze(1), none)
        choice_loss = F.cross_entropy(self.q_net.slate_logits(logits, slate), chosen)
        return F.smooth_l1_loss(q, target) + c.choice_loss_weight * choice_loss

    def policy(self) -> SlateQPolicy:
        return SlateQPolicy(self.q_net)


class SlateQPolicy(RankingPolicy):
    """A trained SlateQ network as a recgym `Policy`: its top-k slate of allowed items (`slate_scores`)."""

    def __init__(self, network: SlateQNetwork):
        self.network = network

    @torch.no_grad()
    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        values, logits, _ = self.network(on_device(observation, self.network))
        return slate_scores(values, logits)
