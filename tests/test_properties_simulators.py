"""Properties of the envs over outside simulators (docs/ROBUSTNESS.md): a non-finite reward raises an
error naming it with the step undone, on every face; an empty population or catalog, a slate larger
than the catalog, or a non-positive size fails at construction with a `ValueError` naming it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from env_faces import FACES, same, valid_actions
from hypothesis import given, settings
from hypothesis import strategies as st

import recgym.envs.vector_env
from recgym.envs import RecEnv, RecVectorEnv, SlateEnv, SlateVectorEnv
from recgym.random import RowStreams
from recgym.simulators.choice import ChoiceConfig, SlateResponse
from recgym.simulators.protocol import Response, UserSimulator

POISON = {3: math.nan, 4: math.inf}  # item: what it adds to the reward


class PoisonSimulator:
    """A `UserSimulator` written from scratch: users click with probability 1/2 and leave with 1/10
    per step, both drawn from the streams; showing a poisoned item adds a non-finite reward. A slate
    is answered with its first item."""

    def __init__(self, n_users: int = 4, n_items: int = 5):
        self.n_users, self.n_items = n_users, n_items
        self.device = torch.device("cpu")
        self.extra = torch.zeros(max(n_items, 0))
        for item, value in POISON.items():
            if item < n_items:
                self.extra[item] = value

    def initial_state(self, users: torch.Tensor, rng: RowStreams) -> dict[str, torch.Tensor]:
        return {"clicks": torch.zeros(users.shape[0])}

    def respond(self, state: dict[str, torch.Tensor], items: torch.Tensor, rng: RowStreams) -> Response:
        click = rng.uniform() < 0.5
        return Response(click=click, reward=click.float() + self.extra[items])

    def respond_slate(
        self, state, slate: torch.Tensor, choice: ChoiceConfig, rng: RowStreams
    ) -> SlateResponse:
        click = rng.uniform() < 0.5
        reward = click.float() + self.extra[slate].sum(1)  # a poisoned item anywhere spoils the slate
        chosen = torch.where(click, 0, slate.shape[1])
        return SlateResponse(chosen=chosen, item=slate[:, 0], response=Response(click=click, reward=reward))

    def transition(self, state, items, response: Response, rng: RowStreams) -> dict[str, torch.Tensor]:
        return {"clicks": state["clicks"] + response.click.float()}

    def leaves(self, state: dict[str, torch.Tensor], rng: RowStreams) -> torch.Tensor:
        return rng.uniform() < 0.1


def test_the_poison_simulator_follows_the_protocol() -> None:
    assert isinstance(PoisonSimulator(), UserSimulator)


def poisoned(action) -> bool:
    return bool(np.isin(np.asarray(action), list(POISON)).any())


@settings(max_examples=200)
@given(face=st.sampled_from(FACES), seed=st.integers(0, 2**32), data=st.data())
@pytest.mark.slow
def test_a_non_finite_reward_raises_and_the_step_is_undone(face, seed, data) -> None:
    simulator = PoisonSimulator()
    env, twin = face.make(simulator), face.make(simulator)
    env.reset(seed), twin.reset(seed)
    for action in data.draw(st.lists(valid_actions(face, simulator.n_items), min_size=1, max_size=8)):
        if poisoned(action):  # the twin never sees it
            with pytest.raises(FloatingPointError, match="non-finite reward"):
                env.step(action)
        else:
            assert same(env.step(action), twin.step(action))


@pytest.mark.parametrize("env_class", [RecVectorEnv, SlateVectorEnv])
def test_unchecked_steps_raise_at_the_next_read_of_the_flag(env_class, monkeypatch) -> None:
    """On a GPU `step_tensors` does not check rewards: a flag on the device is read every CHECK_EVERY
    steps and at reset. Forced here on the CPU with check=False."""
    monkeypatch.setattr(recgym.envs.vector_env, "CHECK_EVERY", 3)
    kwargs = {"choice": ChoiceConfig(slate_size=2)} if env_class is SlateVectorEnv else {}
    env = env_class(PoisonSimulator(), num_envs=2, **kwargs)
    env.reset_tensors(seed=0)
    shape = tuple(env.action_space.shape)
    clean, spoiled = torch.zeros(shape, dtype=torch.long), torch.full(shape, 3)
    env.step_tensors(spoiled, check=False)
    with pytest.raises(FloatingPointError, match="non-finite reward"):
        env.reset_tensors()
    env.reset_tensors()  # the flag was cleared by the read
    env.step_tensors(clean, check=False), env.step_tensors(spoiled, check=False)
    with pytest.raises(FloatingPointError, match="last 3 unchecked steps"):
        env.step_tensors(clean, check=False)


ENVS = {
    "RecEnv": lambda sim, **kw: RecEnv(sim, **kw),
    "SlateEnv": lambda sim, k=1, **kw: SlateEnv(sim, choice=ChoiceConfig(slate_size=k), **kw),
    "RecVectorEnv": lambda sim, num_envs=2, **kw: RecVectorEnv(sim, num_envs, **kw),
    "SlateVectorEnv": lambda sim, num_envs=2, k=1, **kw: SlateVectorEnv(
        sim, num_envs, choice=ChoiceConfig(slate_size=k), **kw
    ),
}


@settings(max_examples=200)
@given(name=st.sampled_from(sorted(ENVS)), n_users=st.integers(-3, 3), n_items=st.integers(-3, 3))
def test_an_empty_population_or_catalog_fails_at_construction(name, n_users, n_items) -> None:
    if n_users >= 1 and n_items >= 1:
        ENVS[name](PoisonSimulator(n_users, n_items))
        return
    with pytest.raises(ValueError, match="n_users" if n_users < 1 else "n_items"):
        ENVS[name](PoisonSimulator(n_users, n_items))


@settings(max_examples=100)
@given(
    name=st.sampled_from(["SlateEnv", "SlateVectorEnv"]), n_items=st.integers(1, 6), extra=st.integers(1, 4)
)
def test_a_slate_larger_than_the_catalog_fails_at_construction(name, n_items, extra) -> None:
    with pytest.raises(ValueError, match="slate_size"):
        ENVS[name](PoisonSimulator(3, n_items), k=n_items + extra)


SIZE = st.one_of(st.integers(-3, 0), st.floats(0.5, 3.5).filter(lambda v: not v.is_integer()))


@settings(max_examples=150)
@given(
    name=st.sampled_from(sorted(ENVS)),
    parameter=st.sampled_from(["horizon", "history_len", "num_envs"]),
    value=SIZE,
)
def test_a_non_positive_or_fractional_size_fails_at_construction(name, parameter, value) -> None:
    if parameter == "num_envs" and "Vector" not in name:
        parameter = "horizon"
    with pytest.raises(ValueError, match=parameter):
        ENVS[name](PoisonSimulator(), **{parameter: value})
