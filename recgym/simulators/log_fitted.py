"""A user simulator fitted on logs: a calibrated user model plus the explicit dynamics.

The fitted model's calibrated probability decides a click (its rating map gives the rating); the
shared `DynamicsConfig` adds fatigue, repetition and leaving, with item similarity measured by the
model's own item embeddings. Where users x items fits in memory (`FittedUserModel.score_table`) the
raw logits are precomputed once, so a step is a table lookup. A user's preferences stay those of the
log here; `SequenceSimulator` moves them with what the user consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from recgym.models.fitted import FittedUserModel
from recgym.models.zoo import is_sequential
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.protocol import SimState


@dataclass(frozen=True, eq=False)
class FittedAffinity:
    """A fitted model's calibrated click logit and rating of the log's users, which stay as logged."""

    fitted: FittedUserModel
    device: torch.device
    item_vectors: torch.Tensor  # [n_items, d]: the model's item embeddings, centred, unit rows
    raw_table: torch.Tensor | None  # [n_users, n_items] raw logits; None for sequence models

    @classmethod
    def of(cls, fitted: FittedUserModel, device: torch.device) -> FittedAffinity:
        """The affinity of fitted, its model moved to device (in place) and set to evaluation."""
        model = fitted.model.to(device).eval()
        vectors = model.item_vectors()
        item_vectors = F.normalize(vectors - vectors.mean(0, keepdim=True), dim=-1)
        raw_table = None if is_sequential(model) else fitted.score_table(device)
        return cls(fitted, device, item_vectors, raw_table)

    @property
    def n_users(self) -> int:
        return self.fitted.n_users

    @property
    def n_items(self) -> int:
        return self.fitted.n_items

    @property
    def rating_scale(self) -> tuple[float, float]:
        return self.fitted.calibration.rating_range

    def raw(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        """[B] the model's raw score of items [B] for users in state."""
        if self.raw_table is not None:
            return self.raw_table[state["user"], items]
        with torch.no_grad():
            return self.fitted.model.score(state["user"], items)

    def initial(self, users: torch.Tensor) -> SimState:
        return {}

    def logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return self.fitted.calibration.logit(self.raw(state, items))

    def rating(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return self.fitted.calibration.rating(self.raw(state, items))

    def consume(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        return state


class LogFittedSimulator(DynamicsSimulator):
    """Simulated users whose preferences are those a model learned from logs.

    :param fitted: a fitted, calibrated user model.
    :param dynamics: fatigue, repetition and leave parameters.
    :param reward: one of `recgym.simulators.rewards.REWARDS` ("click" by default; "rating" pays the
        predicted rating of a clicked item).
    :param device: where the simulator's tensors live.
    """

    affinity: FittedAffinity
    affinity_class: ClassVar[type[FittedAffinity]] = FittedAffinity
    """The affinity a subclass builds from the fitted model."""

    def __init__(
        self,
        fitted: FittedUserModel,
        dynamics: DynamicsConfig | None = None,
        reward: str = "click",
        device: str | torch.device = "cpu",
    ):
        affinity = self.affinity_class.of(fitted, torch.device(device))
        super().__init__(affinity, DynamicsParams(dynamics or DynamicsConfig()), reward)

    @property
    def fitted(self) -> FittedUserModel:
        """The fitted user model driving the simulator."""
        return self.affinity.fitted

    @property
    def user_vectors(self) -> torch.Tensor | None:
        """[n_users, d] the fitted model's user vectors where it has dot-product embeddings (NeuMF's GMF
        tower, MF): what a recommender knows of its users, for the dense observation; else None."""
        dot_embeddings = getattr(self.fitted.model, "dot_embeddings", None)
        if dot_embeddings is None or is_sequential(self.fitted.model):
            return None
        with torch.no_grad():
            return dot_embeddings()[0].to(self.device)
