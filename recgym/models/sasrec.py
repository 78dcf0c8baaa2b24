"""SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018).

Item embeddings (scaled by sqrt(d)) plus learned position embeddings go through causal self-attention
blocks; the output at each position scores the next item by a dot product with the item embeddings
(shared input/output embeddings, as in the paper). Blocks are pre-norm (x + Attn(LN(x)), then
x + FFN(LN(x))) with a final layer norm, the form of the common PyTorch ports. Positions count from
the oldest item kept (left-aligned, as RecBole does), which is what makes a key/value cache possible.

Simulation keeps, per layer, the keys and values of the last `max_len` items. Consuming an item
computes only the new position (one query against at most `max_len` cached keys), so a step costs the
same however long the history. While the history fits in `max_len` this is exactly the full forward
pass; once it is longer the cache slides: the oldest item drops out, the new one takes the last
position, and cached items keep the keys they were given when they arrived (sliding-window attention,
as in Longformer or Mistral) instead of being re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from recgym.models.contract import ModelState, rows_per_block
from recgym.models.sequential import SequenceConfig, SequenceModel


@dataclass(frozen=True)
class SASRecConfig(SequenceConfig):
    """Transformer sizes on top of the shared sequence settings (paper: 2 blocks, 1 head)."""

    layers: int = 2
    """Self-attention blocks."""
    heads: int = 1
    """Attention heads per block."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.layers < 1 or self.heads < 1 or self.dim % self.heads:
            raise ValueError("SASRecConfig needs layers, heads >= 1 and dim divisible by heads")


class AttentionBlock(nn.Module):
    """Pre-norm causal self-attention and point-wise feed-forward, split so a cache can reuse them."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.attention_norm, self.ffn_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.ffn = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim))
        self.dropout = nn.Dropout(dropout)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys, values [B, heads, T, d / heads] of inputs x [B, T, d]."""
        batch, steps, dim = x.shape
        qkv = self.qkv(self.attention_norm(x)).view(batch, steps, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        return q, k, v

    def finish(self, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """Residual attention output, then the residual feed-forward; attended [B, heads, T, d / heads]."""
        merged = attended.transpose(1, 2).reshape(x.shape)  # [B, T, d]
        x = x + self.dropout(self.out(merged))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Outputs [B, T, d] of causal attention over x [B, T, d], and its keys and values."""
        q, k, v = self.project(x)
        dropout = self.dropout.p if self.training else 0.0
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        return self.finish(x, attended), k, v


class SASRec(SequenceModel):
    """Causal self-attention over the recent items."""

    config: SASRecConfig

    def __init__(self, config: SASRecConfig, n_users: int, n_items: int):
        super().__init__(config, n_users, n_items)
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            AttentionBlock(config.dim, config.heads, config.dropout) for _ in range(config.layers)
        )
        self.final_norm = nn.LayerNorm(config.dim)

    def _embed(self, items: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Scaled item (stored +1) plus position embeddings, shapes [...] -> [..., d]."""
        scaled = self.item_embedding(items) * self.config.dim**0.5
        return self.embedding_dropout(scaled + self.positions(positions))

    def _forward(
        self, sequences: torch.Tensor
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        positions = torch.arange(sequences.shape[1], device=sequences.device)
        x = self._embed(sequences, positions)  # [B, T, d]
        cache = []
        for block in self.blocks:
            x, k, v = block(x)
            cache.append((k, v))
        return self.final_norm(x), cache

    def encode(self, sequences: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        return self._forward(sequences)[0]

    def encode_bytes_per_user(self) -> int:
        """The shared estimate plus each head's [max_len, max_len] attention scores and weights."""
        attention = 4 * 3 * self.config.heads * self.config.max_len**2
        return super().encode_bytes_per_user() + attention

    def begin(self, users: torch.Tensor) -> ModelState:
        """Encode each context once and keep every layer's keys and values; users are encoded in blocks,
        so beyond the state itself memory stays within `SCORING_BUDGET`."""
        blocks = [
            self._begin_block(block) for block in users.split(rows_per_block(self.encode_bytes_per_user()))
        ]
        return {key: torch.cat([block[key] for block in blocks]) for key in blocks[0]}

    def _begin_block(self, users: torch.Tensor) -> ModelState:
        sequences, lengths = self.histories[users], self.lengths[users]
        hidden, cache = self._forward(sequences)
        rows = torch.arange(len(users), device=sequences.device)
        state = {"consumed": lengths, "hidden": hidden[rows, (lengths - 1).clamp_min(0)]}
        for layer, (k, v) in enumerate(cache):
            state[f"k{layer}"], state[f"v{layer}"] = k, v  # [b, heads, max_len, d / heads]
        return state

    def advance(self, state: ModelState, items: torch.Tensor, mask: torch.Tensor | None = None) -> ModelState:
        """Encode only the new position against the cached keys and values.

        The cache is a ring: item number n (counting from the first one in the context) is stored in
        slot n % max_len, so once full each new item overwrites the oldest in place of shifting the
        cache. Attention does not depend on the order of its keys (positions are inside them). Rows
        where mask is false write back what their slot held, so the cache is copied once per step.
        """
        mask = torch.ones_like(items, dtype=torch.bool) if mask is None else mask
        size = self.config.max_len
        consumed = state["consumed"]  # [B] items so far
        slot = (consumed % size).view(-1, 1, 1, 1)  # where the new item's keys and values go
        visible = torch.arange(size, device=consumed.device)[None, :] <= consumed[:, None]  # [B, max_len]
        x = self._embed(items + 1, consumed.clamp_max(size - 1))[:, None, :]  # [B, 1, d]
        new_state = {"consumed": consumed + mask.long()}
        for layer, block in enumerate(self.blocks):
            assert isinstance(block, AttentionBlock)
            q, k, v = block.project(x)  # [B, heads, 1, d / heads]
            index = slot.expand_as(k)
            keep = ~mask.view(-1, 1, 1, 1)
            old_k, old_v = state[f"k{layer}"], state[f"v{layer}"]
            k = torch.where(keep, old_k.gather(2, index), k)
            v = torch.where(keep, old_v.gather(2, index), v)
            keys = old_k.scatter(2, index, k)  # a new tensor: earlier states stay valid
            values = old_v.scatter(2, index, v)
            attended = _one_query_attention(q, keys, values, visible)
            x = block.finish(x, attended)
            new_state[f"k{layer}"], new_state[f"v{layer}"] = keys, values
        new_state["hidden"] = torch.where(mask[:, None], self.final_norm(x[:, 0]), state["hidden"])
        return new_state


def _one_query_attention(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, visible: torch.Tensor
) -> torch.Tensor:
    """Attention of one query [B, heads, 1, e] over cached keys and values [B, heads, L, e], visible
    [B, L]; two small batched products, cheaper on the CPU than the fused kernel for a single query."""
    scores = (q @ keys.transpose(-1, -2)) * q.shape[-1] ** -0.5  # [B, heads, 1, L]
    weights = scores.masked_fill(~visible[:, None, None, :], float("-inf")).softmax(dim=-1)
    return weights @ values  # [B, heads, 1, e]
