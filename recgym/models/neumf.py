"""NeuMF: Neural Matrix Factorization (He et al., "Neural Collaborative Filtering", WWW 2017).

Two towers over separate user and item embeddings: GMF (element-wise product, a generalised matrix
factorisation) and an MLP over the concatenated embeddings. Their last hidden layers are
concatenated and mapped to one logit. Trained pointwise with binary cross-entropy on observed
interactions and sampled negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recgym.models.contract import rows_per_block
from recgym.models.pointwise import PointwiseModel


@dataclass(frozen=True)
class NeuMFConfig:
    """Sizes of the two towers."""

    gmf_dim: int = 16
    """Embedding size of the GMF tower (the paper's predictive factors)."""
    mlp_layers: tuple[int, ...] = (64, 32, 16)
    """MLP widths; the first is the concatenated user+item embedding, so each embedding is half of it."""
    dropout: float = 0.0
    """Dropout between MLP layers."""

    def __post_init__(self) -> None:
        if self.gmf_dim < 1 or len(self.mlp_layers) < 1 or self.mlp_layers[0] % 2:
            raise ValueError("NeuMFConfig needs gmf_dim >= 1 and an even first MLP width")


class NeuMF(PointwiseModel):
    """GMF + MLP fused into one logit per (user, item)."""

    def __init__(self, config: NeuMFConfig, n_users: int, n_items: int):
        super().__init__(n_users, n_items)
        self.config = config
        half = config.mlp_layers[0] // 2
        self.gmf_user = nn.Embedding(n_users, config.gmf_dim)
        self.gmf_item = nn.Embedding(n_items, config.gmf_dim)
        self.mlp_user = nn.Embedding(n_users, half)
        self.mlp_item = nn.Embedding(n_items, half)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(config.mlp_layers[:-1], config.mlp_layers[1:], strict=False):
            layers += [nn.Linear(width_in, width_out), nn.ReLU(), nn.Dropout(config.dropout)]
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(config.gmf_dim + config.mlp_layers[-1], 1)
        for embedding in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(embedding.weight, std=0.01)

    def _fuse(self, gmf: torch.Tensor, user_mlp: torch.Tensor, item_mlp: torch.Tensor) -> torch.Tensor:
        mlp = self.mlp(torch.cat([user_mlp, item_mlp], dim=-1))  # [..., mlp_layers[-1]]
        return self.head(torch.cat([gmf, mlp], dim=-1)).squeeze(-1)  # [...]

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits [B] of users [B] for items [B]."""
        gmf = self.gmf_user(users) * self.gmf_item(items)  # [B, gmf_dim]
        return self._fuse(gmf, self.mlp_user(users), self.mlp_item(items))

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_items] of users [B] for every item.

        Every (user, item) pair runs through the MLP, whose activations take `_bytes_per_pair()` each,
        so pairs are scored in blocks of users x items within `SCORING_BUDGET`: the memory of this
        call is its [B, n_items] result plus one block, on any catalog.
        """
        pairs = rows_per_block(self._bytes_per_pair())
        items_per_block = min(self.n_items, pairs)
        users_per = max(1, pairs // items_per_block)
        weight = self.head.weight
        scores = torch.empty(len(users), self.n_items, dtype=weight.dtype, device=weight.device)
        for start in range(0, len(users), users_per):
            block = users[start : start + users_per]  # [b]
            for first in range(0, self.n_items, items_per_block):
                last = min(first + items_per_block, self.n_items)
                scores[start : start + len(block), first:last] = self._score_block(block, first, last)
        return scores

    def _score_block(self, users: torch.Tensor, first: int, last: int) -> torch.Tensor:
        """Logits [b, last - first] of users [b] for items first..last - 1."""
        n = last - first
        gmf = self.gmf_user(users)[:, None, :] * self.gmf_item.weight[None, first:last]  # [b, n, gmf_dim]
        user_mlp = self.mlp_user(users)[:, None, :].expand(-1, n, -1)  # [b, n, half]
        item_mlp = self.mlp_item.weight[None, first:last].expand(len(users), -1, -1)  # [b, n, half]
        return self._fuse(gmf, user_mlp, item_mlp)

    def _bytes_per_pair(self) -> int:
        """float32 activations one (user, item) pair holds at once in `_fuse`: both towers' inputs, each
        MLP layer's output, and the fused vector."""
        widths = self.config.gmf_dim + 2 * sum(self.config.mlp_layers) + self.config.gmf_dim + 1
        return 4 * widths

    def dot_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """User [n_users, gmf_dim] and item [n_items, gmf_dim] vectors whose dot product is the GMF
        tower's share of the logit: a ready initialisation for agents that score items by a dot product."""
        gmf_weight = self.head.weight[0, : self.config.gmf_dim]  # [gmf_dim]
        return (self.gmf_user.weight * gmf_weight).detach(), self.gmf_item.weight.detach()

    def item_vectors(self) -> torch.Tensor:
        """[n_items, gmf_dim + half]: the item's learned embeddings, for item-item similarity."""
        return torch.cat([self.gmf_item.weight, self.mlp_item.weight], dim=-1).detach()
