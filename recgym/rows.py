"""Row-wise selection over batched state, shared by sessions and simulators."""

from __future__ import annotations

import torch


def where_rows(rows: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """new where rows [B] is true, else old; broadcasts over trailing dimensions."""
    return torch.where(rows.view(-1, *([1] * (old.dim() - 1))), new, old)
