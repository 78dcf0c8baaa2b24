"""Hand-written simulators and policies for tests: every response is fixed in advance.

`FixedSimulator` follows the `UserSimulator` protocol structurally (it inherits nothing from recgym),
so the tests that use it also show that outside simulators plug in without subclassing.
`LikedItemsWorld` is a `DynamicsSimulator` of a `LikedItems` affinity, so it also answers slates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from recgym.random import RowStreams
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.protocol import Response


class FixedSimulator:
    """User u clicks item i iff `clicks[u][i]`; reward = click (or `rewards[u][i]`); leaves after
    `leave_after[u]` steps. The state is the user id and a step counter.

    :param clicks: [n_users][n_items] 0/1 table.
    :param leave_after: [n_users] steps after which each user leaves (a large number: never).
    :param rewards: optional [n_users][n_items] reward table replacing the click as reward.
    :param item_vectors: optional [n_items, d] vectors, exposed as `item_vectors` when given.
    :param record_draws: draw one random number per user in `respond` and keep it in `draws`,
        to check which random streams the caller passes.
    """

    def __init__(
        self,
        clicks: Sequence[Sequence[int]],
        leave_after: Sequence[int],
        rewards: Sequence[Sequence[float]] | None = None,
        item_vectors: torch.Tensor | None = None,
        record_draws: bool = False,
    ):
        self.clicks = torch.tensor(clicks, dtype=torch.bool)  # [n_users, n_items]
        self.n_users, self.n_items = self.clicks.shape
        self.leave_after = torch.tensor(leave_after, dtype=torch.long)  # [n_users]
        if self.leave_after.shape != (self.n_users,):
            raise ValueError("leave_after needs one entry per user")
        self.rewards = None if rewards is None else torch.tensor(rewards, dtype=torch.float32)
        if item_vectors is not None:
            self.item_vectors = item_vectors
        self.device = torch.device("cpu")
        self.record_draws = record_draws
        self.draws: list[torch.Tensor] = []

    def initial_state(self, users: torch.Tensor, rng: RowStreams) -> dict[str, torch.Tensor]:
        return {"user": users.clone(), "step": torch.zeros(users.shape[0], dtype=torch.long)}

    def respond(self, state: dict[str, torch.Tensor], items: torch.Tensor, rng: RowStreams):
        if self.record_draws:
            self.draws.append(rng.uniform())
        click = self.clicks[state["user"], items]  # [B]
        reward = click.float() if self.rewards is None else self.rewards[state["user"], items]
        return Response(click=click, reward=reward)

    def transition(self, state, items, response, rng):
        return {"user": state["user"], "step": state["step"] + 1}

    def leaves(self, state: dict[str, torch.Tensor], rng: RowStreams) -> torch.Tensor:
        return state["step"] >= self.leave_after[state["user"]]


class NotASimulator:
    """Has the sizes and three of the four methods of a simulator, but no `leaves`."""

    n_users = 2
    n_items = 3
    device = torch.device("cpu")

    def initial_state(self, users, rng):
        return {}

    def respond(self, state, items, rng):
        raise AssertionError("never called")

    def transition(self, state, items, response, rng):
        return state


class ScriptedPolicy:
    """Recommends `script[t]` (one item per user) at its t-th call; records what it observed.

    :param script: [T][B] item ids.
    """

    def __init__(self, script: Sequence[Sequence[int]]):
        self.script = [torch.tensor(row, dtype=torch.long) for row in script]
        self.t = 0
        self.observations: list[dict[str, torch.Tensor]] = []
        self.shown: list[torch.Tensor] = []

    def act(self, observation, action_mask, generator, k=1):
        self.observations.append({name: value.clone() for name, value in observation.items()})
        self.shown.append(~action_mask)
        items = self.script[min(self.t, len(self.script) - 1)]
        self.t += 1
        return items[:, None].expand(-1, k)


class OrderPolicy:
    """Recommends items 0, 1, 2, ... in order (the same item to every user at a step)."""

    def __init__(self, n_items: int):
        self.n_items = n_items
        self.t = 0
        self.users: list[torch.Tensor] = []

    def act(self, observation, action_mask, generator, k=1):
        self.users.append(observation["user"][:, 0].clone())
        item = self.t % self.n_items
        self.t += 1
        return torch.full((action_mask.shape[0], k), item, dtype=torch.long)


@dataclass(frozen=True, eq=False)
class LikedItems:
    """Affinity logits [n_users, n_items] looked up per user and item; orthogonal item vectors."""

    logits: torch.Tensor
    device: torch.device = torch.device("cpu")
    rating_scale: tuple[float, float] = (1.0, 1.0)

    @property
    def n_users(self) -> int:
        return self.logits.shape[0]

    @property
    def n_items(self) -> int:
        return self.logits.shape[1]

    @property
    def item_vectors(self) -> torch.Tensor:
        return torch.eye(self.n_items)

    def initial(self, users: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def logit(self, state: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        return self.logits[state["user"], items]

    def rating(self, state: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        return torch.ones(items.shape)

    def consume(self, state: dict[str, torch.Tensor], items: torch.Tensor, click: torch.Tensor):
        return state


class LikedItemsWorld(DynamicsSimulator):
    """User u clicks an item they like with logit +`strength` and any other with -`strength`; an item
    clicked once is not clicked again (repeat penalty), nobody tires or leaves. The best policy
    serves each user their liked items they have not had yet; it answers slates too.

    :param likes: [n_users][n_items] 0/1 table.
    """

    def __init__(self, likes: Sequence[Sequence[int]], strength: float = 5.0):
        logits = strength * (2.0 * torch.tensor(likes, dtype=torch.float32) - 1.0)
        dynamics = DynamicsConfig(
            fatigue_weight=0.0, repeat_penalty=2 * strength + 5, leave_base=-50.0, leave_fatigue=0.0
        )
        super().__init__(LikedItems(logits), DynamicsParams(dynamics))
