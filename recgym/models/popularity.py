"""Most-popular: every user gets the items with the most training interactions, the floor any
personalised user model must clear."""

from __future__ import annotations

import numpy as np
import torch

from recgym.data.interactions import InteractionLog


class MostPopular:
    """A `Scorer` whose logit of an item is its number of positives in the log, for every user."""

    def __init__(self, log: InteractionLog):
        items = log.positives()["item"].to_numpy()
        self.counts = torch.from_numpy(np.bincount(items, minlength=log.n_items).astype(np.float32))

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.counts[items.cpu()]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.counts.expand(len(users), -1)
