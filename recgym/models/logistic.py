"""Logistic regression with an offset, fitted in torch.

The learned dynamics need it twice: the leave hazard (no offset) and the click model's fatigue and
repetition costs, which sit on top of the user model's calibrated logit (the offset). scikit-learn's
`LogisticRegression` has no offset, and the fits are small, so full-batch L-BFGS is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LogisticFit:
    """`sigmoid(offset + bias + features @ weights)`, in the features' original units."""

    weights: tuple[float, ...]
    bias: float

    def logit(self, features: torch.Tensor) -> torch.Tensor:
        """[N] logit (without offset) of features [N, F]."""
        weights = torch.as_tensor(self.weights, dtype=features.dtype, device=features.device)
        return features @ weights + self.bias


def fit_logistic(
    features: torch.Tensor,
    labels: torch.Tensor,
    offset: torch.Tensor | None = None,
    l2: float = 1e-4,
    max_iter: int = 200,
) -> LogisticFit:
    """Maximum-likelihood weights for labels [N] (0/1) from features [N, F], with a small ridge.

    Features are standardised for the optimiser and the result is mapped back, so the ridge is
    scale-free and the weights read in the features' own units. Constant columns get weight 0.
    """
    if features.ndim != 2 or labels.shape != features.shape[:1]:
        shapes = f"{tuple(features.shape)} and {tuple(labels.shape)}"
        raise ValueError(f"fit_logistic expects features [N, F] and labels [N], got {shapes}")
    if len(labels) == 0:
        raise ValueError("fit_logistic needs at least one row")
    x = features.double()
    y = labels.double()
    mean, std = x.mean(0), x.std(0, unbiased=False)
    varies = std > 1e-12
    z = torch.where(varies, (x - mean) / torch.where(varies, std, 1.0), 0.0)
    base = torch.zeros_like(y) if offset is None else offset.double()
    params = torch.zeros(x.shape[1] + 1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([params], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logit = base + params[0] + z @ params[1:]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y) + l2 * (params[1:] ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    scaled = params.detach()[1:]
    weights = torch.where(varies, scaled / torch.where(varies, std, 1.0), 0.0)
    bias = float(params.detach()[0] - (weights * mean).sum())
    return LogisticFit(weights=tuple(float(w) for w in weights), bias=bias)
