"""Optimisation settings of the user models, apart from the loop, so the model contract can name them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by the user models."""

    epochs: int = 100
    """Most epochs to train (early stopping usually ends training well before)."""
    batch_size: int = 1024
    """(user, item) examples per gradient step of the pointwise models."""
    sequence_batch_size: int = 32
    """Sequences per gradient step of the sequence models."""
    learning_rate: float = 2e-3
    """Adam learning rate."""
    weight_decay: float = 1e-6
    """Adam weight decay (L2 on the embeddings)."""
    negatives: int = 4
    """Sampled negatives per positive for the pointwise models (He et al. 2017 use 4)."""
    explicit_negatives: bool = True
    """Also train pointwise models on logged impressions that were not clicked, when the log has them."""
    patience: int = 5
    """Epochs without a better validation NDCG@10 before stopping."""
    seed: int = 0
    """Seed of initialisation, negative sampling and shuffling."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "sequence_batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.learning_rate > 0 or self.negatives < 0:
            raise ValueError("TrainConfig needs learning_rate > 0 and negatives >= 0")
