"""The frozen parameters of the shared user dynamics, apart from any user's state (gymnax's params).

`DynamicsConfig` holds the hand-set numbers (fatigue, repetition, the leave rule, the click logit's
scale and bias); `DynamicsParams` adds the leave and return models that learning from logs gives.
`click_logit` is the one formula a click is drawn with: the simulator applies it to tensors, the
replay fit (`recgym.simulators.replay`) to the arrays of logged steps, so both read the same logit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch

from recgym.simulators.leave_model import LeaveModel
from recgym.simulators.return_model import ReturnModel

Values = TypeVar("Values", torch.Tensor, np.ndarray)


@dataclass(frozen=True)
class DynamicsConfig:
    """Parameters of fatigue, repetition and the leave model (logit scale)."""

    fatigue_decay: float = 0.7
    """Share of exposure kept per step; 0.7 halves it in about two steps."""
    fatigue_weight: float = 0.8
    """Click-logit cost per unit of similarity-weighted exposure."""
    repeat_penalty: float = 3.0
    """Click-logit cost of showing an item again in the same session."""
    satisfaction_decay: float = 0.7
    """Share of satisfaction kept per step (an average over about the last three responses)."""
    leave_base: float = -4.0
    """Leave logit of a fresh, satisfied user: about 2% per step."""
    leave_fatigue: float = 0.5
    """Leave-logit increase per unit of fatigue felt at the last step."""
    leave_unsatisfied: float = 2.0
    """Leave-logit increase of a user whose recent recommendations were all ignored."""
    affinity_scale: float = 1.0
    """Multiplier of the affinity logit; learned dynamics recalibrate it on logged session steps, where
    the affinity meets fatigue and position as it does in simulation."""
    click_bias: float = 0.0
    """Logit added to every click; learned dynamics use it to take back the average fatigue that a
    user model fitted without it has absorbed into its affinities."""

    def __post_init__(self) -> None:
        for name in ("fatigue_decay", "satisfaction_decay"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"DynamicsConfig.{name} must be in [0, 1), got {value}")
        if not self.affinity_scale > 0:
            raise ValueError(f"DynamicsConfig.affinity_scale must be > 0, got {self.affinity_scale}")
        for name in ("fatigue_weight", "repeat_penalty", "leave_fatigue", "leave_unsatisfied"):
            if not getattr(self, name) >= 0:  # also rejects NaN
                raise ValueError(f"DynamicsConfig.{name} must be >= 0, got {getattr(self, name)}")


def click_logit(config: DynamicsConfig, affinity: Values, fatigue: Values, repeated: Values) -> Values:
    """Click logit of steps with affinity logit, felt fatigue and repeat flag (each [B] or [N]): the
    scaled affinity plus the bias, minus the fatigue and repeat costs. Plain arithmetic, so tensors and
    arrays go through the same float operations in the same order."""
    return (
        config.affinity_scale * affinity
        + config.click_bias
        - config.fatigue_weight * fatigue
        - config.repeat_penalty * repeated
    )


@dataclass(frozen=True)
class DynamicsParams:
    """What a dynamics simulator's users do beyond their affinity, fixed for the simulator's life."""

    config: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Fatigue, repetition, the click logit's scale and bias, and the leave rule."""
    leave_model: LeaveModel | None = None
    """Learned leave hazard; None uses the hand rule of `config`."""
    return_model: ReturnModel | None = None
    """Time to the next session, for the retention reward; None when not learned."""

    def active_leave_model(self) -> LeaveModel:
        """The learned leave model if there is one, else the hand rule of `config`."""
        if self.leave_model is not None:
            return self.leave_model
        d = self.config
        return _hand_rule(d.leave_base, d.leave_fatigue, d.leave_unsatisfied)


@lru_cache(maxsize=64)
def _hand_rule(base: float, fatigue: float, unsatisfied: float) -> LeaveModel:
    """`LeaveModel.rule`, built once per setting rather than at every step."""
    return LeaveModel.rule(base, fatigue, unsatisfied)
