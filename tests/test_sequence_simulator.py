"""The sequence simulator: interest that moves with consumption, driven by any fitted model of the zoo,
usable by every env, cached like NeuMF, with a gymnasium id per model."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from gymnasium.utils import env_checker
from stable_baselines3.common import env_checker as sb3_checker
from test_model_zoo import TINY, cyclic_log

import recgym.envs  # noqa: F401  (registers the recgym/ ids)
from recgym.envs.rec_env import RecEnv
from recgym.envs.vector_env import RecVectorEnv
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.models.training import TrainConfig
from recgym.models.zoo import MODEL_NAMES
from recgym.random import RowStreams
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.log_fitted import LogFittedSimulator
from recgym.simulators.protocol import Response
from recgym.simulators.registry import fitted_simulator
from recgym.simulators.sequence import SequenceSimulator

FAST_TRAIN = TrainConfig(epochs=25, patience=25, learning_rate=1e-2, sequence_batch_size=16)


@pytest.fixture(scope="module")
def fitted_sasrec():
    config = UserModelConfig(TINY["sasrec"], train=FAST_TRAIN)
    return fit_user_model(cyclic_log(), config, progress=False)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_drives_a_simulator_that_passes_the_env_checkers(name: str, tmp_path) -> None:
    config = UserModelConfig(TINY[name], train=TrainConfig(epochs=1))
    fitted = fit_user_model(cyclic_log(n_users=40), config, cache_dir=tmp_path, progress=False)
    simulator = fitted_simulator(fitted)
    sequential = name in ("gru4rec", "caser", "sasrec")
    assert isinstance(simulator, SequenceSimulator) == sequential
    assert isinstance(simulator, LogFittedSimulator)
    env_checker.check_env(RecEnv(simulator).unwrapped)
    sb3_checker.check_env(RecEnv(simulator))
    again = fit_user_model(cyclic_log(n_users=40), config, cache_dir=tmp_path, progress=False)  # from cache
    users = torch.arange(5)
    assert torch.allclose(again.model.score_all(users), fitted.model.score_all(users))


@pytest.mark.slow
def test_a_click_moves_interest_as_the_model_predicts(fitted_sasrec) -> None:
    """Trained on 'item s is followed by s+1', a user who consumes item 60 wants 61 next."""
    simulator = SequenceSimulator(fitted_sasrec)
    rng = RowStreams.from_seed(0, 1)
    state = simulator.initial_state(torch.tensor([0]), rng)
    items = torch.tensor([60])
    before = simulator.affinity_logit(state, torch.tensor([61]))
    clicked = Response(click=torch.tensor([True]), reward=torch.ones(1))
    after_click = simulator.transition(state, items, clicked, rng)
    ignored = Response(click=torch.tensor([False]), reward=torch.zeros(1))
    after_ignore = simulator.transition(state, items, ignored, rng)
    assert simulator.affinity_logit(after_click, torch.tensor([61])) > before + 1.0
    assert torch.equal(simulator.affinity_logit(after_ignore, torch.tensor([61])), before)


def test_other_dynamics_give_a_new_sequence_simulator_on_the_same_model(fitted_sasrec) -> None:
    simulator = SequenceSimulator(fitted_sasrec)
    calm = DynamicsConfig(fatigue_weight=0.0)
    other = simulator.with_dynamics(DynamicsParams(calm))
    assert type(other) is SequenceSimulator and other.affinity is simulator.affinity
    assert other.fitted is fitted_sasrec and other.dynamics is calm
    assert simulator.dynamics == DynamicsConfig()


def test_batched_sessions_are_deterministic_given_the_seed(fitted_sasrec) -> None:
    simulator = SequenceSimulator(fitted_sasrec)
    runs = []
    for _ in range(2):
        env = RecVectorEnv(simulator, num_envs=8, horizon=20)
        env.reset_tensors(seed=3)
        rewards = []
        generator = torch.Generator().manual_seed(0)
        for _ in range(20):
            actions = torch.randint(0, simulator.n_items, (8,), generator=generator)
            rewards.append(env.step_tensors(actions).reward)
        runs.append(torch.stack(rewards))
    assert torch.equal(runs[0], runs[1])


def test_a_gymnasium_id_exists_for_every_model() -> None:
    for display in ("NeuMF", "MF", "AutoRec", "GRU4Rec", "Caser", "SASRec"):
        spec = gym.spec(f"recgym/{display}-Synthetic-v0")
        assert spec.kwargs["simulator"] == f"{display.lower()}-synthetic"
        assert spec.vector_entry_point == "recgym.envs.vector_env:RecVectorEnv"
