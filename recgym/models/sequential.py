"""Base of the sequence user models (SASRec, GRU4Rec, Caser): a user is their recent items.

Sequences are left-aligned: slot 0 holds the oldest item kept, item `i` is stored as `i + 1` and 0
pads the tail. Training follows the next-item task of the papers: each user's time-ordered positives
are cut into chunks of `chunk_length()` items, and the representation at every position predicts the
next item, with full softmax cross-entropy ("ce", RecBole's default and the fastest to converge) or
binary cross-entropy against one uniformly sampled negative per position ("bce", Kang & McAuley 2018).

For simulation the default state is the window of the last `max_len` items, re-encoded after each
consumed item (a cost fixed by `max_len`, not by the history); GRU4Rec and SASRec override it with a
carried hidden state and a key/value cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recgym.data.interactions import InteractionLog, time_order
from recgym.models.contract import ModelState, model_device, rows_per_block
from recgym.models.train_config import TrainConfig
from recgym.rows import where_rows

PAD = 0
"""Sequence slots hold item + 1; 0 marks an empty slot."""


@dataclass(frozen=True)
class SequenceConfig:
    """Settings every sequence model shares."""

    dim: int = 64
    """Item embedding and representation size."""
    max_len: int = 50
    """Most recent items the model reads."""
    dropout: float = 0.2
    """Dropout on embeddings and hidden layers."""
    loss: Literal["ce", "bce"] = "ce"
    """Next-item loss: softmax over all items, or BCE against one sampled negative per position."""

    def __post_init__(self) -> None:
        if self.dim < 1 or self.max_len < 1 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"{type(self).__name__} needs dim, max_len >= 1 and dropout in [0, 1)")
        if self.loss not in ("ce", "bce"):
            raise ValueError(f"{type(self).__name__}.loss must be 'ce' or 'bce', got {self.loss!r}")


def user_sequences(log: InteractionLog) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr [n_users + 1], items [P]) of each user's positives, oldest first (ties: row order)."""
    frame = log.positives()
    users = frame["user"].to_numpy()
    order = time_order(frame)
    indptr = np.zeros(log.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=log.n_users), out=indptr[1:])
    return indptr, frame["item"].to_numpy()[order].astype(np.int64)


def last_items(indptr: np.ndarray, items: np.ndarray, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-aligned windows [n_users, length] of each user's last `length` items (+1), and their lengths.

    Each kept item is written into its slot, so the only [n_users, length] array is the result.
    """
    sizes = np.diff(indptr)  # [U]
    counts = np.minimum(sizes, length)  # [U]
    owner = np.repeat(np.arange(len(sizes)), sizes)  # [P]
    slot = np.arange(len(items)) - (indptr[1:] - counts)[owner]  # [P]: negative before the window
    kept = slot >= 0
    window = torch.zeros(len(sizes), length, dtype=torch.long)
    window[torch.from_numpy(owner[kept]), torch.from_numpy(slot[kept])] = torch.from_numpy(items[kept] + 1)
    return window, torch.from_numpy(counts.astype(np.int64))


def next_item_chunks(
    indptr: np.ndarray, items: np.ndarray, length: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Users [N], inputs [N, length] and targets [N, length] (item + 1, 0 = none) covering every
    next-item transition once: chunks are cut backwards from each user's end, `length` targets each."""
    counts = np.diff(indptr)
    n_chunks = np.maximum(counts - 1 + length - 1, 0) // length  # ceil((n - 1) / length) per user
    users = np.repeat(np.arange(len(counts)), n_chunks)
    from_end = np.arange(len(users)) - np.repeat(np.cumsum(n_chunks) - n_chunks, n_chunks)  # chunk 0 = last
    target_end = counts[users] - 1 - from_end * length  # inclusive index within the user's sequence
    target_start = np.maximum(1, target_end - length + 1)
    size = target_end - target_start + 1  # [N]
    slots = np.arange(length)[None, :]
    valid = slots < size[:, None]  # [N, L]
    target_index = np.where(valid, indptr[users][:, None] + target_start[:, None] + slots, 0)
    targets = np.where(valid, items[target_index] + 1, PAD)
    inputs = np.where(valid, items[np.maximum(target_index - 1, 0)] + 1, PAD)
    return torch.from_numpy(users), torch.from_numpy(inputs), torch.from_numpy(targets)


class SequenceModel(nn.Module):
    """Shared plumbing; subclasses define `encode` (and may override the simulation state)."""

    def __init__(self, config: SequenceConfig, n_users: int, n_items: int):
        super().__init__()
        if n_users < 1 or n_items < 1:
            raise ValueError(f"a user model needs n_users and n_items >= 1, got {n_users} x {n_items}")
        self.config, self.n_users, self.n_items = config, n_users, n_items
        self.item_embedding = nn.Embedding(n_items + 1, config.dim, padding_idx=PAD)
        nn.init.normal_(self.item_embedding.weight[1:], std=1.0 / config.dim**0.5)
        self.register_buffer(
            "histories", torch.zeros(n_users, config.max_len, dtype=torch.long), persistent=False
        )
        self.register_buffer("lengths", torch.zeros(n_users, dtype=torch.long), persistent=False)

    def encode(self, sequences: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        """Representations [B, T, d] after each position of left-aligned sequences [B, T] of users [B]."""
        raise NotImplementedError

    def chunk_length(self) -> int:
        """Length of the training chunks (the context the model learns to read)."""
        return self.config.max_len

    def logits(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits [...] of items [...] from representations [..., d]."""
        return (hidden * self.item_embedding(items + 1)).sum(-1)

    def logits_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits [..., n_items] of every item from representations [..., d]."""
        return hidden @ self.item_embedding.weight[1:].T

    def item_vectors(self) -> torch.Tensor:
        return self.item_embedding.weight[1:].detach()

    def set_context(self, log: InteractionLog) -> None:
        """Know each user by the last `max_len` positives of log."""
        window, length = last_items(*user_sequences(log), self.config.max_len)
        device = model_device(self)
        self.histories, self.lengths = window.to(device), length.to(device)

    def last_hidden(
        self, sequences: torch.Tensor, lengths: torch.Tensor, users: torch.Tensor
    ) -> torch.Tensor:
        """[B, d] representation after the last item of each sequence (position 0 if empty)."""
        hidden = self.encode(sequences, users)  # [B, T, d]
        return hidden[torch.arange(len(users), device=hidden.device), (lengths - 1).clamp_min(0)]

    def encode_bytes_per_user(self) -> int:
        """Bytes of activations one user's context takes to encode: about 32 float32 vectors of size
        `dim` per position. Sizes the blocks of users encoded at once."""
        return 4 * 32 * self.config.dim * self.config.max_len

    def user_hidden(self, users: torch.Tensor) -> torch.Tensor:
        """[B, d] representation of users [B] from their context, each distinct user encoded once, in
        blocks whose activations stay within `SCORING_BUDGET` however many users are asked for."""
        distinct, inverse = torch.unique(users, return_inverse=True)
        blocks = distinct.split(rows_per_block(self.encode_bytes_per_user()))
        hidden = [self.last_hidden(self.histories[block], self.lengths[block], block) for block in blocks]
        return torch.cat(hidden)[inverse]

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.logits(self.user_hidden(users), items)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.logits_all(self.user_hidden(users))

    def epoch_batches(
        self, train: InteractionLog, config: TrainConfig, rng: np.random.Generator, shuffle: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        users, inputs, targets = next_item_chunks(*user_sequences(train), self.chunk_length())
        device = model_device(self)
        for batch in torch.randperm(len(users), generator=shuffle).split(config.sequence_batch_size):
            yield users[batch].to(device), inputs[batch].to(device), targets[batch].to(device)

    def loss(self, users: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Next-item loss over every position of inputs [N, T] that has a target [N, T]."""
        hidden = self.encode(inputs, users)  # [N, T, d]
        mask = targets != PAD
        hidden, positive = hidden[mask], targets[mask] - 1  # [M, d], [M]
        if self.config.loss == "ce":
            return F.cross_entropy(self.logits_all(hidden), positive)
        negative = torch.randint(0, self.n_items, positive.shape, device=positive.device)
        scores = torch.stack([self.logits(hidden, positive), self.logits(hidden, negative)], dim=1)
        labels = torch.tensor([1.0, 0.0], device=scores.device).expand_as(scores)
        return F.binary_cross_entropy_with_logits(scores, labels)

    def begin(self, users: torch.Tensor) -> ModelState:
        return self._window_state(users, self.histories[users], self.lengths[users])

    def advance(self, state: ModelState, items: torch.Tensor, mask: torch.Tensor | None = None) -> ModelState:
        after = self.advanced(state, items)
        return after if mask is None else {key: where_rows(mask, after[key], state[key]) for key in state}

    def advanced(self, state: ModelState, items: torch.Tensor) -> ModelState:
        """State after every row consumed items [B] (the default: the window, re-encoded)."""
        window, length = push_item(state["window"], state["length"], items)
        return self._window_state(state["user"], window, length)

    def _window_state(self, users: torch.Tensor, window: torch.Tensor, length: torch.Tensor) -> ModelState:
        hidden = self.last_hidden(window, length, users)
        return {"user": users, "window": window, "length": length, "hidden": hidden}

    def state_score(self, state: ModelState, items: torch.Tensor) -> torch.Tensor:
        return self.logits(state["hidden"], items)

    def state_score_all(self, state: ModelState) -> torch.Tensor:
        return self.logits_all(state["hidden"])


def push_item(
    window: torch.Tensor, length: torch.Tensor, items: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Append items [B] to left-aligned windows [B, L]; a full window drops its oldest item."""
    full = length >= window.shape[1]  # [B]
    shifted = torch.where(full[:, None], window.roll(-1, dims=1), window)
    slot = length.clamp_max(window.shape[1] - 1)  # [B]
    pushed = shifted.scatter(1, slot[:, None], (items + 1)[:, None])
    return pushed, (length + 1).clamp_max(window.shape[1])
