"""Whether a user comes back: time to the next session, learned from the gaps between logged sessions.

The log-gap to a user's next session is modelled as normal (log-normal gaps) with a mean linear in
how the session went: log(1 + its length) and its click (like) rate. A simulator turns that into a
retention reward: the probability of returning within `within_seconds` (by default the log's median
gap) given the session so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from recgym.data.interactions import LogError
from recgym.data.log_sessions import LogSessions

RETURN_FEATURES = ("log_length", "click_rate")


@dataclass(frozen=True)
class ReturnModel:
    """log(gap seconds) ~ Normal(bias + weights @ [log(1 + length), click rate], sigma)."""

    weights: tuple[float, float]
    bias: float
    sigma: float
    within_seconds: float
    """The retention window: a user counts as retained when back within it."""
    n_gaps: int

    def probability(self, length: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        """[B] probability of returning within the window after a session of length [B] with clicks [B]."""
        rate = clicks / length.clamp_min(1.0)
        mean = self.bias + self.weights[0] * torch.log1p(length) + self.weights[1] * rate
        z = (math.log(self.within_seconds) - mean) / self.sigma
        return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


def fit_return_model(sessions: LogSessions, within_seconds: float | None = None) -> ReturnModel:
    """Least squares on the log-gaps between each user's consecutive sessions."""
    table = sessions.sessions.sort_values(["user", "start"])
    same_user = table["user"].to_numpy()[1:] == table["user"].to_numpy()[:-1]
    gaps = (table["start"].to_numpy()[1:] - table["end"].to_numpy()[:-1]).astype(np.float64)
    keep = same_user & (gaps > 0)
    if keep.sum() < 10:
        found = int(keep.sum())
        raise LogError(f"a return model needs at least 10 gaps between a user's sessions, got {found}")
    length = table["length"].to_numpy()[:-1][keep].astype(np.float64)
    rate = table["likes"].to_numpy()[:-1][keep] / length
    design = np.column_stack([np.ones_like(length), np.log1p(length), rate])
    log_gap = np.log(gaps[keep])
    coefficients, *_ = np.linalg.lstsq(design, log_gap, rcond=None)
    sigma = float(np.std(log_gap - design @ coefficients)) or 1e-3
    window = float(np.median(gaps[keep])) if within_seconds is None else float(within_seconds)
    if not window > 0:
        raise ValueError(f"the retention window must be positive, got {within_seconds}")
    return ReturnModel(
        weights=(float(coefficients[1]), float(coefficients[2])),
        bias=float(coefficients[0]),
        sigma=sigma,
        within_seconds=window,
        n_gaps=int(keep.sum()),
    )
