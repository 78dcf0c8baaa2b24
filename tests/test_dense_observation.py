"""The dense observation: a float32 Box that passes the checkers, says what the Dict says, and is what
the registered Dense ids and `observation="dense"` give on every env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import TINY_WORLD
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from recgym.data.synthetic import DefaultLogs, LoggingConfig, generate_logs
from recgym.envs import RecEnv, RecVectorEnv, SlateEnv, SlateVectorEnv
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.models.training import TrainConfig
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.registry import fitted_simulator
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

HISTORY, HORIZON = 4, 6


@pytest.fixture(scope="module")
def fitted_neumf_simulator():
    """NeuMF fitted for two epochs on a tiny world's logs: a simulator with user vectors."""
    logs = LoggingConfig(
        world=GroundTruthConfig(n_users=30, n_items=40, n_topics=3, dim=4), sessions_per_user=4
    )
    config = UserModelConfig(train=TrainConfig(epochs=2))
    return fitted_simulator(fit_user_model(generate_logs(logs)[0], config))


def world() -> GroundTruthWorld:
    return GroundTruthWorld(TINY_WORLD, logs=DefaultLogs())


def test_the_dense_env_passes_gymnasiums_and_sb3s_checkers() -> None:
    env = RecEnv(world(), horizon=HORIZON, history_len=HISTORY, observation="dense")
    assert isinstance(env.observation_space, gym.spaces.Box) and env.observation_space.dtype == np.float32
    check_env(env, skip_render_check=True)
    sb3_check_env(RecEnv(world(), horizon=HORIZON, history_len=HISTORY, observation="dense"))
    slates = SlateEnv(world(), HORIZON, HISTORY, choice=ChoiceConfig(slate_size=3), observation="dense")
    check_env(slates, skip_render_check=True)


def test_the_vector_says_what_the_dict_says() -> None:
    simulator = world()
    dense = RecEnv(simulator, horizon=HORIZON, history_len=HISTORY, observation="dense")
    ids = RecEnv(simulator, horizon=HORIZON, history_len=HISTORY)
    d = simulator.item_vectors.shape[1]
    observation, info = dense.reset(seed=3)
    ids.reset(seed=3)
    n_items = simulator.n_items
    assert observation.shape == (d + d + HISTORY * d + HISTORY + 1 + n_items,)
    known = torch.nn.functional.normalize(simulator.user_vectors[info["user"]], dim=-1).numpy()
    np.testing.assert_allclose(observation[:d], known, atol=1e-6)  # the user's logged click profile
    observation = observation[d:]
    assert not observation.any()  # nothing recommended yet: no profile, empty slots, step 0, none shown
    for item in (5, 9):
        observation, reward, *_ = dense.step(item)
        ids.step(item)
    observation = observation[d:]
    vectors = simulator.item_vectors.numpy()
    recent = observation[d : d + HISTORY * d].reshape(HISTORY, d)
    responses = observation[d + HISTORY * d : d + HISTORY * d + HISTORY]
    np.testing.assert_allclose(recent[-2:], vectors[[5, 9]], atol=1e-6)  # oldest first, like the Dict
    np.testing.assert_array_equal(responses, ids._dict_observation()["recent_responses"])
    assert observation[-n_items - 1] == pytest.approx(2 / HORIZON)
    np.testing.assert_array_equal(observation[-n_items:], 1 - ids.action_masks())  # 1 where shown
    assert set(np.flatnonzero(observation[-n_items:])) == {5, 9}
    clicked = responses[-2:] > 0
    if clicked.any():  # the profile is the reward-weighted mean of what was recommended
        expected = (responses[-2:, None] * vectors[[5, 9]]).sum(0) / responses[-2:].sum()
        np.testing.assert_allclose(observation[:d], expected, atol=1e-5)


def test_each_row_of_the_dense_vector_env_replays_a_dense_single_env() -> None:
    simulator = world()
    vector = RecVectorEnv(simulator, num_envs=3, horizon=HORIZON, history_len=HISTORY, observation="dense")
    singles = [RecEnv(simulator, horizon=HORIZON, history_len=HISTORY, observation="dense") for _ in range(3)]
    batch, _ = vector.reset(seed=7)
    assert vector.single_observation_space.contains(batch[0])
    for row, env in enumerate(singles):
        np.testing.assert_array_equal(batch[row], env.reset(seed=7 + row)[0])
    for step in range(HORIZON):
        actions = np.array([step, step + 1, step + 2])
        batch, rewards, terminated, truncated, infos = vector.step(actions)
        for row, env in enumerate(singles):
            if env._ended:
                continue
            observation, reward, *_ = env.step(int(actions[row]))
            assert reward == rewards[row]
            expected = infos["final_obs"][row] if terminated[row] or truncated[row] else batch[row]
            np.testing.assert_array_equal(expected, observation)


def test_the_dense_ids_work_from_a_script_that_imports_only_gymnasium() -> None:
    env = gym.make("recgym.envs:recgym/SyntheticWorld-Dense-v0", horizon=HORIZON)
    observation, info = env.reset(seed=0)
    assert observation.dtype == np.float32 and env.observation_space.contains(observation)
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].all()
    vector = gym.make_vec(
        "recgym/SyntheticWorld-Dense-v0", num_envs=4, vectorization_mode="vector_entry_point"
    )
    assert vector.reset(seed=0)[0].shape == (4, *env.observation_space.shape)
    slates = SlateVectorEnv(world(), num_envs=2, horizon=HORIZON, history_len=HISTORY, observation="dense")
    assert slates.reset(seed=0)[0].dtype == np.float32


def test_a_fitted_simulator_shows_its_models_user_vector(fitted_neumf_simulator) -> None:
    env = RecEnv(fitted_neumf_simulator, horizon=HORIZON, history_len=HISTORY, observation="dense")
    observation, info = env.reset(seed=0)
    users = fitted_neumf_simulator.user_vectors
    width = users.shape[1]
    expected = torch.nn.functional.normalize(users[info["user"]], dim=-1).numpy()
    np.testing.assert_allclose(observation[:width], expected, atol=1e-6)


def test_a_simulator_without_item_vectors_or_a_bad_choice_is_a_clear_error(fixed_sim) -> None:
    with pytest.raises(ValueError, match="item_vectors"):
        RecEnv(fixed_sim, observation="dense")
    with pytest.raises(ValueError, match="observation must be one of"):
        RecEnv(world(), observation="flat")


def test_each_row_of_the_dense_slate_vector_env_replays_a_dense_slate_env() -> None:
    """Its final observations too: only the item each session moved on with counts as shown."""
    simulator, choice = world(), ChoiceConfig(slate_size=3)
    vector = SlateVectorEnv(simulator, 2, HORIZON, HISTORY, choice=choice, observation="dense")
    singles = [SlateEnv(simulator, HORIZON, HISTORY, choice=choice, observation="dense") for _ in range(2)]
    vector.reset(seed=11)
    for row, env in enumerate(singles):
        env.reset(seed=11 + row)
    ended = 0
    for step in range(HORIZON):
        slates = np.array([[step, step + 5, step + 10], [step + 1, step + 6, step + 11]]) % simulator.n_items
        batch, rewards, terminated, truncated, infos = vector.step(slates)
        for row, env in enumerate(singles):
            if env._ended:
                continue
            observation, reward, *_ = env.step(slates[row])
            assert reward == rewards[row]
            done = terminated[row] or truncated[row]
            ended += done
            np.testing.assert_array_equal(infos["final_obs"][row] if done else batch[row], observation)
    assert ended == 2
