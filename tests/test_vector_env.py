"""The batched env: shapes, same-step autoreset, the Gymnasium vector API and the SB3 adapter."""

from __future__ import annotations

import re
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import TINY_WORLD
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import VecMonitor

import recgym.envs  # noqa: F401  (registers the ids)
import recgym.envs.rec_env
from recgym.envs.rec_env import RecEnv
from recgym.envs.sb3_vec_env import SB3VecEnv
from recgym.envs.vector_env import RecVectorEnv
from recgym.session_shape import HISTORY_LEN
from recgym.simulators.dynamics import DynamicsConfig
from recgym.simulators.world import GroundTruthWorld

B = 32


def test_reset_and_step_stay_in_the_observation_space(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B, horizon=5, history_len=3)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    for _ in range(12):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        assert reward.shape == terminated.shape == truncated.shape == (B,)


def test_finished_sessions_restart_in_the_same_step() -> None:
    staying = DynamicsConfig(leave_base=-50.0, leave_fatigue=0.0, leave_unsatisfied=0.0)  # nobody leaves
    world = GroundTruthWorld(replace(TINY_WORLD, dynamics=staying))
    env = RecVectorEnv(world, num_envs=B, horizon=3, history_len=3)
    env.reset_tensors(seed=1)
    for step in range(3):
        result = env.step_tensors(torch.full((B,), step, dtype=torch.long))
    assert result.truncated.all() and not result.terminated.any()  # everyone reached the horizon
    assert (result.observation["recent_items"] == 0).all()  # fresh sessions: empty history
    final_items = result.final_observation["recent_items"]
    assert (final_items == torch.tensor([1, 2, 3])).all()  # the three items shown, as item + 1


def test_numpy_step_reports_final_observations(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B, horizon=2, history_len=2)
    env.reset(seed=0)
    env.step(np.zeros(B, dtype=np.int64))
    _, _, terminated, truncated, infos = env.step(np.ones(B, dtype=np.int64))
    done = terminated | truncated
    assert (infos["_final_obs"] == done).all()
    row = int(np.flatnonzero(done)[0])
    assert list(infos["final_obs"][row]["recent_items"]) == [1, 2]


def test_reset_with_a_seed_is_reproducible(tiny_world) -> None:
    runs = []
    for _ in range(2):
        env = RecVectorEnv(tiny_world, num_envs=B, horizon=10)
        env.reset_tensors(seed=7)
        rewards = [env.step_tensors(torch.arange(B) % tiny_world.n_items).reward for _ in range(20)]
        runs.append(torch.stack(rewards))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize(
    "actions", [np.zeros(B - 1, dtype=np.int64), np.full(B, -1), np.full(B, 10_000), np.zeros(B)]
)
def test_bad_actions_raise(tiny_world, actions) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(actions)


def test_make_vec_builds_the_batched_env() -> None:
    env = gym.make_vec("recgym/SyntheticWorld-v0", num_envs=16, vectorization_mode="vector_entry_point")
    assert isinstance(env.unwrapped, RecVectorEnv) and env.num_envs == 16
    observation, _ = env.reset(seed=0)
    assert observation["recent_items"].shape == (16, HISTORY_LEN)


@pytest.mark.parametrize("algorithm", ["dqn", "ppo"])
def test_sb3_trains_on_the_batched_env(tiny_world, algorithm) -> None:
    venv = VecMonitor(SB3VecEnv(RecVectorEnv(tiny_world, num_envs=64, horizon=10, history_len=4), seed=0))
    if algorithm == "dqn":
        model = DQN("MultiInputPolicy", venv, learning_starts=100, seed=0)
    else:
        model = PPO("MultiInputPolicy", venv, n_steps=8, batch_size=128, n_epochs=1, seed=0)
    model.learn(1_024)
    assert model.num_timesteps >= 1_024
    assert len(model.ep_info_buffer) > 0  # episodes ended and were reported through the adapter


def test_batched_env_replays_single_envs_with_the_same_seeds(tiny_world) -> None:
    """Row r of a batched env reset with seed s is the single env reset with seed s + r, across
    sessions: same users, observations, rewards and ends (the single env is the batch-of-one case)."""
    n, seed = 6, 10
    batched = RecVectorEnv(tiny_world, num_envs=n, horizon=8, history_len=4)
    singles = [RecEnv(tiny_world, horizon=8, history_len=4) for _ in range(n)]
    batch_obs, _ = batched.reset(seed=seed)
    single_obs = [env.reset(seed=seed + r)[0] for r, env in enumerate(singles)]
    actions = np.random.default_rng(0).integers(tiny_world.n_items, size=(60, n))
    ends = 0
    for step_actions in actions:
        for r in range(n):
            for key in batch_obs:
                assert np.array_equal(batch_obs[key][r], single_obs[r][key])
        batch_obs, rewards, terminated, truncated, _ = batched.step(step_actions)
        for r, env in enumerate(singles):
            obs, reward, single_terminated, single_truncated, _ = env.step(int(step_actions[r]))
            assert (reward, single_terminated, single_truncated) == (rewards[r], terminated[r], truncated[r])
            if single_terminated or single_truncated:
                obs, _ = env.reset()
                ends += 1
            single_obs[r] = obs
    assert ends > n  # several sessions per row, so autoreset was exercised


@pytest.mark.slow
def test_compiled_step_matches_the_eager_step(tiny_world) -> None:
    runs = []
    for compile in (False, True):
        env = RecVectorEnv(tiny_world, num_envs=B, horizon=6, history_len=3, compile=compile)
        env.reset_tensors(seed=3)
        trace = []
        for step in range(12):
            result = env.step_tensors((torch.arange(B) + step) % tiny_world.n_items)
            outcome = torch.stack([result.reward, result.terminated.float(), result.truncated.float()], dim=1)
            trace.append(torch.cat([outcome, result.observation["recent_items"].float()], dim=1))
        runs.append(torch.cat(trace))
    assert torch.equal(runs[0], runs[1])


def observations_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)


def test_sb3_models_built_with_the_same_seed_train_the_same_weights(tiny_world) -> None:
    """The README's usage: SB3 seeds the env only through `VecEnv.seed(seed)`, so two runs must agree."""
    weights = []
    for _ in range(2):
        venv = SB3VecEnv(RecVectorEnv(tiny_world, num_envs=8, horizon=5, history_len=3))
        model = DQN("MultiInputPolicy", venv, learning_starts=64, seed=0, policy_kwargs={"net_arch": [16]})
        model.learn(320)
        weights.append(torch.cat([p.detach().flatten() for p in model.policy.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_sb3_seed_fixes_the_next_reset_and_later_resets_continue_the_streams(tiny_world) -> None:
    venv = SB3VecEnv(RecVectorEnv(tiny_world, num_envs=4, horizon=5, history_len=3))
    reference = RecVectorEnv(tiny_world, num_envs=4, horizon=5, history_len=3)
    assert venv.seed(np.int64(123)) == [123, 124, 125, 126]  # row r gets seed + r, as RecVectorEnv's
    first = venv.reset()
    venv.seed(123)
    assert observations_equal(venv.reset(), first)
    assert observations_equal(first, reference.reset(seed=123)[0])
    assert observations_equal(venv.reset(), reference.reset()[0])  # unseeded: the streams go on
    with pytest.raises(ValueError, match="seed"):
        venv.seed(-1)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.int64, np.uint64])
def test_numpy_integer_sizes_and_seeds_act_as_python_ints(tiny_world, dtype) -> None:
    env = RecVectorEnv(tiny_world, num_envs=dtype(3), horizon=dtype(4), history_len=dtype(2))
    twin = RecVectorEnv(tiny_world, num_envs=3, horizon=4, history_len=2)
    assert type(env.num_envs) is int and env.action_space.shape == (3,)
    assert observations_equal(env.reset(seed=dtype(5))[0], twin.reset(seed=5)[0])
    for step in range(6):
        actions = np.full(3, step % tiny_world.n_items)
        ours, theirs = env.step(actions.astype(dtype)), twin.step(actions)
        assert observations_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])


def test_reset_options_pick_every_rows_user_as_the_single_env_does(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=3, horizon=5, history_len=2)
    assert env.reset(seed=0, options={"user": np.int16(7)})[0]["user"][:, 0].tolist() == [7, 7, 7]
    assert env.reset_tensors(users=torch.tensor([4, 5, 6]))["user"][:, 0].tolist() == [4, 5, 6]
    observation, _ = env.reset(seed=10, options={"user": np.array([1, 2, 3], dtype=np.uint8)})
    singles = [RecEnv(tiny_world, horizon=5, history_len=2) for _ in range(3)]
    for row, single in enumerate(singles):
        single_observation, _ = single.reset(seed=10 + row, options={"user": [1, 2, 3][row]})
        assert np.array_equal(single_observation["user"], observation["user"][row])
    for step in range(4):  # the sessions run on as the single envs' (no one ends within 4 steps)
        rewards = env.step(np.full(3, step))[1]
        assert rewards.tolist() == [single.step(step)[1] for single in singles]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"user": 99999}, r"options\['user'\]"),
        ({"user": -1}, r"options\['user'\]"),
        ({"user": True}, r"options\['user'\]"),
        ({"user": 1.0}, r"options\['user'\]"),
        ({"user": [1, 2]}, r"options\['user'\]"),
        ({"user": [1, True, 2]}, r"options\['user'\]"),
        ({"user": np.zeros(3)}, r"options\['user'\]"),
        ({"users": 1}, "unknown option 'users'"),
        ([1], "options must be a dict"),
    ],
)
def test_bad_reset_options_are_refused_by_name(tiny_world, options, match) -> None:
    env = RecVectorEnv(tiny_world, num_envs=3)
    with pytest.raises(ValueError, match=match):
        env.reset(seed=0, options=options)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_envs": True}, "num_envs"),
        ({"num_envs": np.bool_(True)}, "num_envs"),
        ({"num_envs": 2.0}, "num_envs"),
        ({"num_envs": 2**63}, "num_envs"),
        ({"num_envs": 2**62}, "num_envs"),
        ({"horizon": True}, "horizon"),
        ({"history_len": 2**62}, "history_len"),
        ({"compile": "no"}, "compile"),
        ({"simulator_kwargs": [1]}, "simulator_kwargs"),
    ],
)
def test_bad_sizes_and_options_of_the_batched_env_are_refused_by_name(tiny_world, kwargs, match) -> None:
    simulator = "world" if "simulator_kwargs" in kwargs else tiny_world
    with pytest.raises((ValueError, TypeError), match=match):
        RecVectorEnv(simulator, **({"num_envs": 3} | kwargs))


def test_more_users_than_memory_holds_are_refused_before_allocating(tiny_world, monkeypatch) -> None:
    with pytest.raises(ValueError, match=r"per user.* in all.*num_envs=[\d,]+ is the most that could fit"):
        RecVectorEnv(tiny_world, num_envs=10**12)
    monkeypatch.setattr(recgym.envs.rec_env, "available_bytes", lambda device: 1_000_000)
    with pytest.raises(ValueError, match="per user") as error:
        RecVectorEnv(tiny_world, num_envs=10**9, history_len=3)
    largest = int(
        re.search(r"num_envs=([\d,]+) is the most that could fit", str(error.value)).group(1).replace(",", "")
    )
    assert 100 < largest < 10_000
    assert RecVectorEnv(tiny_world, num_envs=largest, history_len=3).num_envs == largest
    with pytest.raises(ValueError, match="per user"):
        RecVectorEnv(tiny_world, num_envs=largest + 1, history_len=3)


def test_a_list_of_actions_with_a_bool_is_refused(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step([1, True, 2])


def test_the_sb3_adapter_takes_only_a_batched_env_and_rows_it_has(tiny_world) -> None:
    with pytest.raises(TypeError, match="RecVectorEnv"):
        SB3VecEnv(RecEnv(tiny_world))
    venv = SB3VecEnv(RecVectorEnv(tiny_world, num_envs=3))
    assert venv.get_attr("num_envs", np.int64(1)) == [3]
    assert venv.get_attr("num_envs", [0, np.uint8(2), -1]) == [3, 3, 3]  # list indices, as DummyVecEnv's
    for indices in (3, -4, True, [0, 5], "0"):
        with pytest.raises(ValueError, match="indices"):
            venv.get_attr("num_envs", indices)
    with pytest.raises(ValueError, match="every row"):  # one env under all rows: a subset cannot differ
        venv.set_attr("horizon", 3, indices=[0])
    with pytest.raises(ValueError, match="every row"):
        venv.env_method("reset", indices=[1])


def test_sb3_set_options_picks_the_users_of_the_next_reset_only(tiny_world) -> None:
    venv = SB3VecEnv(RecVectorEnv(tiny_world, num_envs=3), seed=0)
    venv.set_options({"user": 2})
    assert venv.reset()["user"][:, 0].tolist() == [2, 2, 2]
    venv.set_options({"user": [3, 1, 2]})  # a dict as RecVectorEnv.reset takes it
    assert venv.reset()["user"][:, 0].tolist() == [3, 1, 2]
    venv.set_options([{"user": 1}, {"user": 0}, {"user": np.int32(4)}])
    assert venv.reset()["user"][:, 0].tolist() == [1, 0, 4]
    assert venv.reset()["user"][:, 0].tolist() != [1, 0, 4]  # used once, as DummyVecEnv's
    for options, match in (
        ([{"user": 1}, {}, {}], "every row"),
        ({"user": 99}, r"options\['user'\]"),
        ([{"user": 1}, {"user": [1]}, {"user": 2}], r"options\['user'\]"),
        ({"seed": 1}, "unknown option 'seed'"),
        ([{"user": 1}], "3 dicts"),
        (1, "3 dicts"),
    ):
        with pytest.raises(ValueError, match=match):
            venv.set_options(options)
