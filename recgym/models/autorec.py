"""I-AutoRec (Sedhain et al., "AutoRec: Autoencoders Meet Collaborative Filtering", WWW 2015).

Each item is encoded from the users who interacted with it: h_i = sigmoid(V^T r_i + mu), with r_i
[n_users] the item's column of the interaction matrix, and decoded back to every user: the logit of
(u, i) is <W_u, h_i> + b_u. The paper reconstructs observed explicit ratings; here r_i is implicit
(1 = interacted) and training is pointwise BCE with sampled negatives like the other id-based models.

Because r_i holds the training positive being predicted, a plain autoencoder could learn to copy it.
The encoder is linear before the sigmoid, so the user's own entry is subtracted from the pre-activation
of a positive training pair: every example is predicted from the *other* users of the item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recgym.data.interactions import InteractionLog
from recgym.data.sampling import user_item_sets
from recgym.models.contract import model_device
from recgym.models.pointwise import PointwiseModel


@dataclass(frozen=True)
class AutoRecConfig:
    """Size of the item code."""

    hidden: int = 500
    """Hidden units k (the paper's best setting is 500)."""

    def __post_init__(self) -> None:
        if self.hidden < 1:
            raise ValueError(f"AutoRecConfig.hidden must be >= 1, got {self.hidden}")


class AutoRec(PointwiseModel):
    """Item-based autoencoder over the implicit interaction matrix."""

    def __init__(self, config: AutoRecConfig, n_users: int, n_items: int):
        super().__init__(n_users, n_items)
        self.config = config
        self.encoder = nn.Embedding(n_users, config.hidden)  # rows of V: [n_users, k]
        self.encoder_bias = nn.Parameter(torch.zeros(config.hidden))  # mu
        self.decoder = nn.Embedding(n_users, config.hidden)  # rows of W: [n_users, k]
        self.decoder_bias = nn.Embedding(n_users, 1)  # b
        for weight in (self.encoder.weight, self.decoder.weight):
            nn.init.normal_(weight, std=0.01)
        nn.init.zeros_(self.decoder_bias.weight)
        # The interaction matrix by item (CSR over items): item i's users are users[offsets[i]:offsets[i+1]].
        self.register_buffer("item_offsets", torch.zeros(n_items, dtype=torch.long), persistent=False)
        self.register_buffer("item_users", torch.zeros(0, dtype=torch.long), persistent=False)

    def set_context(self, log: InteractionLog) -> None:
        """Encode items from the positives of log."""
        by_user = user_item_sets(log, positives_only=True)
        users = np.repeat(np.arange(log.n_users), by_user.counts)
        order = np.lexsort((users, by_user.items))  # group the (user, item) pairs by item
        counts = np.bincount(by_user.items, minlength=self.n_items)
        device = model_device(self)
        self.item_offsets = torch.from_numpy(np.cumsum(counts) - counts).to(device)
        self.item_users = torch.from_numpy(users[order]).to(device)

    def _pre_activation(self) -> torch.Tensor:
        """[n_items, k] V^T r_i for every item, an embedding bag of each item's users."""
        return F.embedding_bag(self.item_users, self.encoder.weight, self.item_offsets, mode="sum")

    def _decode(self, users: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return (self.decoder(users) * codes).sum(-1) + self.decoder_bias(users)[:, 0]

    def codes(self) -> torch.Tensor:
        """[n_items, k] hidden code h_i of every item."""
        return torch.sigmoid(self._pre_activation() + self.encoder_bias)

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self._decode(users, self.codes()[items])

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.decoder(users) @ self.codes().T + self.decoder_bias(users)  # [B, n_items]

    def loss(self, users: torch.Tensor, items: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """BCE with each positive's own entry left out of its item's code (no copying the input).

        During training the context is the training log, so a label of 1 marks exactly the pairs
        present in the interaction matrix.
        """
        pre = self._pre_activation()[items] - labels[:, None] * self.encoder(users)  # [B, k]
        logits = self._decode(users, torch.sigmoid(pre + self.encoder_bias))
        return F.binary_cross_entropy_with_logits(logits, labels)

    def item_vectors(self) -> torch.Tensor:
        return self.codes().detach()
