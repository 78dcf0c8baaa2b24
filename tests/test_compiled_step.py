"""The single env's compiled step (`compile=True`): the eager step's sessions, its errors, and its limits.

Each compile takes about ten seconds, so these tests are marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CLICKS, LEAVE_AFTER
from fakes import FixedSimulator

from recgym.envs.rec_env import RecEnv
from recgym.envs.slate_env import SlateEnv
from recgym.simulators.choice import ChoiceConfig

pytestmark = pytest.mark.slow


def replay(env: RecEnv, actions: list, seed: int = 3) -> list:
    """Every step's outcome, observation and mask over actions, resetting when a session ends."""
    trace: list = []
    env.reset(seed=seed)
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        parts = obs.values() if isinstance(obs, dict) else [obs]
        observation = [np.asarray(part).tolist() for part in parts]
        trace.append((reward, terminated, truncated, observation, info["action_mask"].tolist()))
        if terminated or truncated:
            env.reset()
    return trace


def test_the_compiled_single_env_replays_the_eager_sessions(tiny_world) -> None:
    rng = np.random.default_rng(0)
    actions = rng.integers(tiny_world.n_items, size=400).tolist()
    for observation in ("dict", "dense"):
        eager, compiled = (
            RecEnv(tiny_world, horizon=8, history_len=3, observation=observation, compile=flag)
            for flag in (False, True)
        )
        trace = replay(compiled, actions)
        assert sum(step[1] or step[2] for step in trace) > 20  # many sessions: resets were exercised
        assert trace == replay(eager, actions)
        for key, value in eager.sessions.state.items():  # the hidden state too, up to float rounding
            torch.testing.assert_close(compiled.sessions.state[key], value, rtol=0, atol=1e-5)


def test_envs_on_one_simulator_share_one_compiled_step(tiny_world) -> None:
    envs = [RecEnv(tiny_world, horizon=8, history_len=3, compile=True) for _ in range(2)]
    for env in envs:
        env.reset(seed=0)
        env.step(1)
    assert envs[0]._compiled is envs[1]._compiled


def test_the_compiled_slate_env_replays_the_eager_sessions(tiny_world) -> None:
    choice = ChoiceConfig(slate_size=3, position_decay=0.5)
    rng = np.random.default_rng(1)
    slates = [rng.choice(tiny_world.n_items, size=3, replace=False).tolist() for _ in range(200)]
    eager, compiled = (
        SlateEnv(tiny_world, horizon=8, history_len=3, choice=choice, compile=flag) for flag in (False, True)
    )
    assert replay(compiled, slates) == replay(eager, slates)


def test_a_simulator_without_a_shown_mask_compiles_with_the_sessions_own() -> None:
    simulator = FixedSimulator(CLICKS, LEAVE_AFTER)
    actions = [0, 1, 2, 1, 4, 3, 0, 0, 2, 1] * 5
    eager, compiled = (RecEnv(simulator, horizon=6, history_len=2, compile=flag) for flag in (False, True))
    assert replay(compiled, actions) == replay(eager, actions)


def test_a_non_finite_reward_is_refused_with_nothing_changed() -> None:
    rewards = [[1.0, float("nan"), 0.0, 0.0, 0.0]] * len(CLICKS)
    env = RecEnv(FixedSimulator(CLICKS, [100] * len(CLICKS), rewards=rewards), horizon=20, compile=True)
    env.reset(seed=0)
    env.step(0)
    before = {key: value.clone() for key, value in env.sessions.state_dict().items() if key != "state"}
    counters = env._rng.counters.clone()
    with pytest.raises(FloatingPointError, match="non-finite reward"):
        env.step(1)
    after = env.sessions.state_dict()
    assert all(torch.equal(after[key], value) for key, value in before.items())
    assert torch.equal(env._rng.counters, counters)
    assert env.step(2)[1] == 0.0  # the session goes on


class ReadsValuesInPython(FixedSimulator):
    """Decides in Python on a tensor's value: an eager step can, a traced one cannot."""

    def leaves(self, state, rng):
        return state["step"] >= 2 if bool(state["step"].sum() > 0) else state["step"] < 0


def test_a_step_that_cannot_be_traced_names_the_simulator_and_the_way_out() -> None:
    env = RecEnv(ReadsValuesInPython(CLICKS, LEAVE_AFTER), compile=True)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="ReadsValuesInPython.*compile=False"):
        env.step(0)


def test_compile_must_be_a_bool(tiny_world) -> None:
    with pytest.raises(TypeError, match="compile must be True or False"):
        RecEnv(tiny_world, compile="yes")  # type: ignore[arg-type]
