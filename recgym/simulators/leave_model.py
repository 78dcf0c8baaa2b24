"""When a user ends the session: a logistic hazard on features every dynamics simulator tracks.

After each step a user leaves with probability `sigmoid(bias + features @ weights)`. The features are
computed from the simulator's state, and the same state is rebuilt from logged sessions by replaying
them (`recgym.simulators.replay`), so a model learned on the logs applies unchanged in simulation.
The spine's hand-set rule is the special case with weights only on fatigue and satisfaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from recgym.models.logistic import LogisticFit
from recgym.simulators.protocol import SimState

_FEATURES: dict[str, Callable[[SimState], torch.Tensor]] = {
    "log_position": lambda state: torch.log1p(state["position"]),
    "inverse_position": lambda state: 1.0 / state["position"].clamp_min(1.0),
    "satisfaction": lambda state: state["satisfaction"],
    "last_click": lambda state: state["last_click"],
    "fatigue": lambda state: state["fatigue"],
    "repeated": lambda state: state["repeated"],
    "affinity": lambda state: state["affinity"],
}
LEAVE_FEATURES = tuple(_FEATURES)
"""Hazard features after a step: log(1 + steps so far), 1 / steps so far, the click average, whether the
last item was clicked, the fatigue it caused, whether it was a repeat, and the user model's click
probability for it before dynamics (its satisfaction estimate)."""


def leave_feature_list(state: SimState) -> list[torch.Tensor]:
    """The hazard features of a dynamics simulator's state after a step, one [B] tensor each."""
    return [feature(state) for feature in _FEATURES.values()]


def leave_features(state: SimState) -> torch.Tensor:
    """[B, len(LEAVE_FEATURES)] hazard features of a dynamics simulator's state after a step."""
    return torch.stack(leave_feature_list(state), dim=-1)


@dataclass(frozen=True)
class LeaveModel:
    """A logistic leave hazard; `source` says whether it was learned from logs or set by hand."""

    fit: LogisticFit
    source: str

    def probability(self, state: SimState) -> torch.Tensor:
        """[B] probability of ending the session after the last step.

        A weighted sum with Python-float weights, so no weight tensor is copied to the device per step;
        features with weight 0 (most of the hand rule's) are neither computed nor summed.
        """
        logit = torch.full_like(state["position"], self.fit.bias)
        for weight, feature in zip(self.fit.weights, _FEATURES.values(), strict=True):
            if weight != 0.0:
                logit = logit + weight * feature(state)
        return torch.sigmoid(logit)

    def coefficients(self) -> dict[str, float]:
        """Bias and weight of every feature, for reports."""
        return {"bias": self.fit.bias} | dict(zip(LEAVE_FEATURES, self.fit.weights, strict=True))

    @classmethod
    def rule(cls, base: float, fatigue: float, unsatisfied: float) -> LeaveModel:
        """The hand rule `sigmoid(base + fatigue * f + unsatisfied * (1 - satisfaction))`."""
        weights = dict.fromkeys(LEAVE_FEATURES, 0.0) | {"fatigue": fatigue, "satisfaction": -unsatisfied}
        return cls(LogisticFit(tuple(weights.values()), base + unsatisfied), source="rule")
