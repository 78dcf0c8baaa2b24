"""The networks every recgym agent reads the observation with: the history extractor, the query head.

The observation is ids (user, recent items) and responses; `HistoryExtractor` embeds the ids, so that
items share statistical strength and the embeddings can start from a fitted recommender's. Every agent
scores items by a dot product of a query with these item embeddings (`query_head` corrects the user's
embedding from the history).
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from torch import nn


class HistoryExtractor(BaseFeaturesExtractor):
    """Features of (user, recent items, responses): [user embedding | pooled history].

    The history is pooled three ways, mirroring what drives a user: items that earned a reward
    (taste), a recency-weighted sum of everything shown (what tires them), and the last item.
    SB3 hands Box observations over as floats; ids are cast back here.

    :param observation_space: `envs.observation_space(...)`.
    :param embedding_dim: size of user and item embeddings (ignored when initial ones are given).
    :param recency_decay: weight ratio between consecutive history slots in the recency pool.
    :param user_init: optional [n_users, d] initial user embeddings.
    :param item_init: optional [n_items, d] initial item embeddings.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        embedding_dim: int = 32,
        recency_decay: float = 0.7,
        user_init: torch.Tensor | None = None,
        item_init: torch.Tensor | None = None,
    ):
        n_users = int(observation_space["user"].high[0]) + 1
        n_items = int(observation_space["recent_items"].high[0])
        history_len = observation_space["recent_items"].shape[0]
        if item_init is not None:
            embedding_dim = item_init.shape[1]
        super().__init__(observation_space, features_dim=4 * embedding_dim + history_len)
        self.embedding_dim = embedding_dim
        self.user_embedding = nn.Embedding(n_users, embedding_dim)
        self.item_embedding = nn.Embedding(n_items + 1, embedding_dim, padding_idx=0)
        nn.init.normal_(self.user_embedding.weight, std=0.1)
        nn.init.normal_(self.item_embedding.weight, std=0.1)
        with torch.no_grad():
            if user_init is not None:
                self._check_init("user_init", user_init, (n_users, embedding_dim))
                self.user_embedding.weight.copy_(user_init)
            if item_init is not None:
                self._check_init("item_init", item_init, (n_items, embedding_dim))
                self.item_embedding.weight[1:].copy_(item_init)
            self.item_embedding.weight[0].zero_()
        recency = recency_decay ** torch.arange(history_len - 1, -1, -1, dtype=torch.float32)
        self.register_buffer("recency", recency)  # [H], newest slot weighs 1

    @staticmethod
    def _check_init(name: str, tensor: torch.Tensor, shape: tuple[int, int]) -> None:
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}")

    def item_vectors(self) -> torch.Tensor:
        """[n_items, d] embeddings of the catalog (row i is item i)."""
        return self.item_embedding.weight[1:]

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        users = observations["user"].long().squeeze(-1)  # [B]
        items = observations["recent_items"].long()  # [B, H]
        responses = observations["recent_responses"].float()  # [B, H]
        embedded = self.item_embedding(items)  # [B, H, d]; padding rows are zero
        rewarded = (embedded * responses[..., None]).sum(1)  # [B, d]
        recent = (embedded * self.recency[None, :, None]).sum(1)  # [B, d]
        return torch.cat([self.user_embedding(users), rewarded, recent, embedded[:, -1], responses], dim=-1)


def query_head(features_dim: int, dim: int, net_arch: tuple[int, ...] | list[int]) -> nn.Sequential:
    """An MLP from the features to a correction of the user embedding. Its last layer starts at zero,
    so the query starts as the user embedding and the scores as the embeddings' dot products."""
    layers = create_mlp(features_dim, dim, list(net_arch), nn.ReLU)
    nn.init.zeros_(layers[-1].weight)
    nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


def extractor_kwargs(
    embedding_dim: int, initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None
) -> dict[str, Any]:
    """`HistoryExtractor` keyword arguments, with initial (user, item) embeddings when given."""
    kwargs: dict[str, Any] = {"embedding_dim": embedding_dim}
    if initial_embeddings is not None:
        kwargs["user_init"], kwargs["item_init"] = initial_embeddings
    return kwargs


def embedding_dim(default: int, initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None) -> int:
    """The embedding size `HistoryExtractor` builds: the initial item embeddings' when given."""
    return default if initial_embeddings is None else int(initial_embeddings[1].shape[1])


def on_device(observation: dict[str, torch.Tensor], module: nn.Module) -> dict[str, torch.Tensor]:
    """observation as float tensors on module's device (what SB3's networks take)."""
    device = next(module.parameters()).device
    return {key: value.to(device).float() for key, value in observation.items()}
