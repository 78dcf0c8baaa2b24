"""Caser (Tang & Wang, "Personalized Top-N Sequential Recommendation via Convolutional Sequence
Embedding", WSDM 2018).

The last L items form an L x d "image". Horizontal filters of every height h in 1..L slide over it and
are max-pooled over time (union-level patterns: "bought A and B, then C"); vertical filters take
weighted sums of the L rows (point-level patterns). Both go through a fully connected layer, are
joined with a user embedding, and an output layer with its own item weights and biases scores the
next item.

Here the convolutions run over a whole training chunk at once, giving the window representation at
every position (the window is zero-padded before the sequence starts, as in the paper), so training
uses every next-item target of the chunk. The simulation state is the window of the last L items.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from recgym.models.sequential import SequenceConfig, SequenceModel


@dataclass(frozen=True)
class CaserConfig(SequenceConfig):
    """Window and filters on top of the shared sequence settings (paper defaults L=5, d=50)."""

    max_len: int = 5
    """L: the items in the convolution window."""
    dropout: float = 0.5
    horizontal_filters: int = 16
    """n_h: horizontal filters per height."""
    vertical_filters: int = 4
    """n_v: vertical filters."""
    chunk: int = 50
    """Training chunk length: positions trained per sequence (each still sees only L items)."""


class Caser(SequenceModel):
    """Horizontal and vertical convolutions over the recent-item window, plus a user embedding."""

    config: CaserConfig

    def __init__(self, config: CaserConfig, n_users: int, n_items: int):
        super().__init__(config, n_users, n_items)
        length, dim = config.max_len, config.dim
        self.user_embedding = nn.Embedding(n_users, dim)
        nn.init.normal_(self.user_embedding.weight, std=1.0 / dim**0.5)
        self.horizontal = nn.ModuleList(
            nn.Conv1d(dim, config.horizontal_filters, kernel_size=h) for h in range(1, length + 1)
        )
        self.vertical = nn.Conv1d(1, config.vertical_filters, kernel_size=length)
        self.fc = nn.Linear(config.horizontal_filters * length + config.vertical_filters * dim, dim)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Embedding(n_items, 2 * dim)  # W' item weights over [z; user]
        self.output_bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.output.weight, std=1.0 / (2 * dim) ** 0.5)
        nn.init.zeros_(self.output_bias.weight)

    def chunk_length(self) -> int:
        return max(self.config.chunk, self.config.max_len)

    def encode(self, sequences: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        length = self.config.max_len
        batch, steps = sequences.shape
        image = F.pad(self.item_embedding(sequences).transpose(1, 2), (length - 1, 0))  # [B, d, L-1+T]
        pooled = []
        for height, conv in enumerate(self.horizontal, start=1):
            # conv output j covers positions j..j+h-1 of the padded image; window t spans L-h+1 of them
            features = F.relu(conv(image))  # [B, n_h, L-h+T]
            pooled.append(F.max_pool1d(features, kernel_size=length - height + 1, stride=1))  # [B, n_h, T]
        rows = image.reshape(batch * self.config.dim, 1, -1)  # each embedding dimension on its own
        vertical = self.vertical(rows).view(batch, self.config.dim, -1, steps)  # [B, d, n_v, T]
        vertical = vertical.permute(0, 3, 2, 1).reshape(batch, steps, -1)  # [B, T, n_v * d]
        horizontal = torch.cat(pooled, dim=1).transpose(1, 2)  # [B, T, n_h * L]
        z = F.relu(self.fc(self.dropout(torch.cat([vertical, horizontal], dim=-1))))  # [B, T, d]
        user = self.user_embedding(users)[:, None, :].expand(-1, steps, -1)  # [B, T, d]
        return torch.cat([z, user], dim=-1)  # [B, T, 2d]

    def logits(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (hidden * self.output(items)).sum(-1) + self.output_bias(items)[..., 0]

    def logits_all(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.output.weight.T + self.output_bias.weight[:, 0]
