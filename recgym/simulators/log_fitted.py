"""A user simulator fitted on logs: a calibrated user model plus the explicit dynamics.

The fitted model's calibrated probability decides a click (its rating map gives the rating); the
shared `DynamicsConfig` adds fatigue, repetition and leaving, with item similarity measured by the
model's own item embeddings. Where users x items fits in memory (`FittedUserModel.score_table`) the
raw logits are precomputed once, so a step is a table lookup. A user's preferences stay those of the
log here; `SequenceSimulator` moves them with what the user consumes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recgym.models.fitted import FittedUserModel
from recgym.models.zoo import is_sequential
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.protocol import SimState
from recgym.simulators.rewards import check_reward


class LogFittedSimulator(DynamicsSimulator):
    """Simulated users whose preferences are those a model learned from logs.

    :param fitted: a fitted, calibrated user model.
    :param dynamics: fatigue, repetition and leave parameters.
    :param reward: one of `recgym.simulators.rewards.REWARDS` ("click" by default; "rating" pays the
        predicted rating of a clicked item).
    :param device: where the simulator's tensors live.
    """

    def __init__(
        self,
        fitted: FittedUserModel,
        dynamics: DynamicsConfig | None = None,
        reward: str = "click",
        device: str | torch.device = "cpu",
    ):
        check_reward(reward)
        self.fitted, self.reward = fitted, reward
        self.rating_scale = fitted.calibration.rating_range
        self.dynamics = dynamics or DynamicsConfig()
        self.n_users, self.n_items = fitted.n_users, fitted.n_items
        self.device = torch.device(device)
        model = fitted.model.to(self.device).eval()
        vectors = model.item_vectors()
        self.item_vectors = F.normalize(vectors - vectors.mean(0, keepdim=True), dim=-1)
        self.raw_table = None if is_sequential(model) else fitted.score_table(self.device)  # [U, I]

    def _raw(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        if self.raw_table is not None:
            return self.raw_table[state["user"], items]
        with torch.no_grad():
            return self.fitted.model.score(state["user"], items)

    def affinity_logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return self.fitted.calibration.logit(self._raw(state, items))

    def rating(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return self.fitted.calibration.rating(self._raw(state, items))
