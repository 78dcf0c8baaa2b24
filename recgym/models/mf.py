"""Biased matrix factorisation (Koren, Bell & Volinsky, "Matrix Factorization Techniques for
Recommender Systems", IEEE Computer 2009), trained on implicit feedback with BCE and sampled negatives.

The classic baseline every neural recommender must beat: logit(u, i) = <p_u, q_i> + b_u + b_i + mu.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recgym.models.pointwise import PointwiseModel


@dataclass(frozen=True)
class MFConfig:
    """Size of the factors."""

    dim: int = 64
    """Latent factors per user and item."""

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"MFConfig.dim must be >= 1, got {self.dim}")


class MF(PointwiseModel):
    """User and item factors plus biases."""

    def __init__(self, config: MFConfig, n_users: int, n_items: int):
        super().__init__(n_users, n_items)
        self.config = config
        self.user_factors = nn.Embedding(n_users, config.dim)  # p_u
        self.item_factors = nn.Embedding(n_items, config.dim)  # q_i
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.zeros(()))
        for factors in (self.user_factors, self.item_factors):
            nn.init.normal_(factors.weight, std=0.01)
        for bias in (self.user_bias, self.item_bias):
            nn.init.zeros_(bias.weight)

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        dot = (self.user_factors(users) * self.item_factors(items)).sum(-1)  # [B]
        return dot + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0] + self.global_bias

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        dot = self.user_factors(users) @ self.item_factors.weight.T  # [B, n_items]
        return dot + self.user_bias(users) + self.item_bias.weight[:, 0] + self.global_bias

    def dot_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """User [n_users, dim] and item [n_items, dim] factors: their dot product is the logit less biases."""
        return self.user_factors.weight.detach(), self.item_factors.weight.detach()

    def item_vectors(self) -> torch.Tensor:
        return self.item_factors.weight.detach()
