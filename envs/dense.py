"""A dense float32 observation that any MLP can learn from: for RL libraries that have no id embeddings.

recgym's own agents embed the `Dict` observation's ids (user, recent items) with their own extractor.
An outside library (CleanRL, Tianshou, RLlib) flattens the observation instead and feeds raw ids to an
MLP as numbers, which it cannot learn from. `observation="dense"` (on `RecEnv`, `SlateEnv` and the
batched envs' Gymnasium face), or the `recgym/...-Dense-v0` ids, give instead one float32 vector
built from the simulator's item representations (`item_vectors`, unit rows):

| part | size | what |
| --- | --- | --- |
| user | d' (if the simulator has `user_vectors`) | what the recommender knows of the user, unit length |
| profile | d | the mean vector of the recent items, weighted by the reward each earned (zeros before any) |
| recent items | H x d | each recent item's vector, oldest first, zeros for empty slots |
| recent responses | H | the reward each recent item earned |
| position | 1 | steps taken / horizon, in [0, 1] |
| shown | n_items | 1 for each item already recommended in the session, else 0 (1 - the action mask) |

The last part lines up with the action space, so a Q-network's output for an item can learn from the
input of the same item that showing it again costs; without it, CleanRL's DQN repeated its best item
and fell below random (docs/clients.md). Candidate actions (`envs/candidates.py`) leave this part out:
their actions are unshown items, and the observation keeps one width whatever the catalog.

A log-fitted simulator shows its model's user vectors where the model has dot-product embeddings
(NeuMF's GMF tower, MF). The ground-truth world keeps its users' true interest vectors to itself and
shows instead each user's click profile in its logs (`recgym.data.user_profiles`): what a recommender
that has the logs knows. Its first dense env in a process draws those logs (about 4 s for the default
world; every worker process pays it once).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces

from recgym.simulators.protocol import UserSimulator

ObservationKind = Literal["dict", "dense"]
OBSERVATIONS: tuple[ObservationKind, ...] = ("dict", "dense")


def check_observation(kind: object) -> ObservationKind:
    """kind, if it names an observation; ValueError naming the choices otherwise."""
    if kind not in OBSERVATIONS:
        raise ValueError(f"observation must be one of {OBSERVATIONS}, got {kind!r}")
    return kind  # type: ignore[return-value]


class DenseObservation:
    """Turns the `Dict` observation's tensors into the dense vector described above, on the
    simulator's device. `space` is its `Box`."""

    def __init__(self, simulator: UserSimulator, history_len: int, horizon: int):
        vectors = getattr(simulator, "item_vectors", None)
        if not isinstance(vectors, torch.Tensor) or vectors.ndim != 2 or len(vectors) != simulator.n_items:
            raise ValueError(
                f"observation='dense' needs the simulator's item_vectors [n_items, d]; "
                f"{type(simulator).__name__} has none (docs/custom_simulator.md)"
            )
        vectors = F.normalize(vectors.float(), dim=-1)
        self.item_vectors = torch.cat([torch.zeros_like(vectors[:1]), vectors]).to(simulator.device)
        users = getattr(simulator, "user_vectors", None)
        self.user_vectors = None if users is None else F.normalize(users.float(), dim=-1).to(simulator.device)
        self.horizon = horizon
        d, h = vectors.shape[1], history_len
        low_reward, high_reward = getattr(simulator, "reward_range", (-np.inf, np.inf))
        parts = [] if self.user_vectors is None else [(-1.0, 1.0, self.user_vectors.shape[1])]
        parts += [(-1.0, 1.0, d), (-1.0, 1.0, h * d), (low_reward, high_reward, h), (0.0, 1.0, 1)]
        parts += [(0.0, 1.0, simulator.n_items)]
        low = np.concatenate([np.full(size, lo, dtype=np.float32) for lo, _, size in parts])
        high = np.concatenate([np.full(size, hi, dtype=np.float32) for _, hi, size in parts])
        self.space = spaces.Box(low, high, dtype=np.float32)

    def __call__(
        self, observation: dict[str, torch.Tensor], steps: torch.Tensor, shown: torch.Tensor
    ) -> torch.Tensor:
        """[B, D] float32 of the observation's tensors (user [B, 1], recent_items [B, H] as item + 1,
        recent_responses [B, H]), the steps taken [B] and the items shown so far [B, n_items] (bool)."""
        recent = self.item_vectors[observation["recent_items"]]  # [B, H, d], zeros for empty slots
        responses = observation["recent_responses"].float()  # [B, H]
        weights = responses.clamp_min(0.0)
        profile = (weights[..., None] * recent).sum(1) / weights.sum(1, keepdim=True).clamp_min(1e-6)
        parts = [profile.clamp(-1.0, 1.0), recent.flatten(1), responses]
        if self.user_vectors is not None:
            parts.insert(0, self.user_vectors[observation["user"][:, 0]])
        position = (steps.float() / self.horizon).clamp(0.0, 1.0)[:, None]
        return torch.cat([*parts, position, shown.float()], dim=1)
