"""Turn a ranking model's logits into a click probability and a rating the simulator can use.

A model trained with sampled negatives ranks well but its sigmoid is not P(click | shown): the
negative ratio sets its base rate. Platt scaling (a slope and an intercept on the logit) fitted on
held-out rows fixes that. For rating logs a linear map from logit to stars, fitted on the same rows,
gives the rating a user would give an item they consume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Calibration:
    """`p = sigmoid(slope * logit + intercept)`; `rating = rating_intercept + rating_slope * logit`."""

    slope: float = 1.0
    intercept: float = 0.0
    rating_slope: float = 0.0
    rating_intercept: float = 1.0
    rating_range: tuple[float, float] = (0.0, 1.0)

    def logit(self, raw: torch.Tensor) -> torch.Tensor:
        """Calibrated click logit of raw model logits."""
        return self.slope * raw + self.intercept

    def rating(self, raw: torch.Tensor) -> torch.Tensor:
        """Predicted rating of raw model logits, clipped to the log's range."""
        low, high = self.rating_range
        return (self.rating_intercept + self.rating_slope * raw).clamp(low, high)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_platt(raw: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> tuple[float, float]:
    """Slope and intercept minimising the log-loss of sigmoid(slope * raw + intercept) against labels."""
    if raw.numel() == 0:
        raise ValueError("calibration needs at least one held-out row")
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    optimizer = torch.optim.LBFGS([params], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(params[0] * raw + params[1], labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    slope, intercept = params.detach().tolist()
    return slope, intercept


def fit_rating_map(raw: torch.Tensor, ratings: torch.Tensor) -> tuple[float, float]:
    """Least-squares slope and intercept of ratings on raw logits (slope 0 if logits do not vary)."""
    if raw.numel() < 2 or float(raw.var()) == 0.0:
        return 0.0, float(ratings.mean()) if ratings.numel() else 1.0
    centred = raw - raw.mean()
    slope = float((centred * (ratings - ratings.mean())).sum() / (centred**2).sum())
    return slope, float(ratings.mean() - slope * raw.mean())
