"""GRU4Rec (Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks", ICLR 2016).

A GRU reads the user's items in order; its output, projected to the item space, scores the next item
by a dot product with the item embeddings (the RecBole formulation). Trained on every position with
the shared next-item loss instead of the paper's session-parallel TOP1/BPR mini-batches.

The recurrent state makes simulation exact and cheap: consuming an item is one GRU step from the
carried hidden state, whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recgym.models.contract import ModelState
from recgym.models.sequential import SequenceConfig, SequenceModel


@dataclass(frozen=True)
class GRU4RecConfig(SequenceConfig):
    """GRU sizes on top of the shared sequence settings."""

    hidden: int = 128
    """GRU hidden units."""
    layers: int = 1
    """Stacked GRU layers."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hidden < 1 or self.layers < 1:
            raise ValueError("GRU4RecConfig needs hidden >= 1 and layers >= 1")


class GRU4Rec(SequenceModel):
    """Embedding -> dropout -> GRU -> linear to the item space."""

    def __init__(self, config: GRU4RecConfig, n_users: int, n_items: int):
        super().__init__(config, n_users, n_items)
        self.dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(config.dim, config.hidden, num_layers=config.layers, batch_first=True)
        self.project = nn.Linear(config.hidden, config.dim)

    def encode(self, sequences: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.gru(self.dropout(self.item_embedding(sequences)))  # [B, T, hidden]
        return self.project(outputs)  # [B, T, d]

    def begin(self, users: torch.Tensor) -> ModelState:
        """Run the GRU over each context once; keep every layer's hidden state after its last item."""
        sequences, lengths = self.histories[users], self.lengths[users].clamp_min(1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(self.item_embedding(sequences)),
            lengths.cpu(),
            batch_first=True,
            enforce_sorted=False,
        )
        outputs, hidden = self.gru(packed)  # hidden: [layers, B, hidden]
        last, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True)
        rows = torch.arange(len(users), device=sequences.device)
        return {"rnn": hidden.transpose(0, 1).contiguous(), "hidden": self.project(last[rows, lengths - 1])}

    def advanced(self, state: ModelState, items: torch.Tensor) -> ModelState:
        """One GRU step from the carried state."""
        output, hidden = self.gru(
            self.item_embedding(items + 1)[:, None], state["rnn"].transpose(0, 1).contiguous()
        )
        return {"rnn": hidden.transpose(0, 1).contiguous(), "hidden": self.project(output[:, 0])}
