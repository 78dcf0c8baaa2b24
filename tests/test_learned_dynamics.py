"""Dynamics learned from logs: recovered on a world whose truth is known, better than a wrong rule,
consistent with the simulator, and clear about what the log cannot identify."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_WORLD

from recgym.data import InteractionLog, LogError
from recgym.data.log_sessions import LogSessions
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.random import RowStreams
from recgym.runs.checkpoint import CheckpointError
from recgym.sessions import Sessions
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.dynamics_store import load_dynamics, save_dynamics
from recgym.simulators.learned_dynamics import learn_dynamics
from recgym.simulators.leave_model import leave_features
from recgym.simulators.protocol import Response
from recgym.simulators.replay import replay_sessions, replayed_click_logit
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

SMALL_WORLD = GroundTruthConfig(n_users=300, n_items=60, n_topics=4)


def small_logs(
    dynamics: DynamicsConfig | None = None,
) -> tuple[InteractionLog, GroundTruthWorld, LoggingConfig]:
    world = dataclasses.replace(SMALL_WORLD, dynamics=dynamics or DynamicsConfig())
    config = LoggingConfig(world=world, sessions_per_user=12)
    log, truth = generate_logs(config)
    return log, truth, config


def test_learning_from_the_worlds_own_logs_recovers_its_true_dynamics() -> None:
    log, world, config = small_logs()
    learned = learn_dynamics(world, log, censor_length=config.horizon)
    truth = world.dynamics
    assert learned.dynamics.fatigue_weight == pytest.approx(truth.fatigue_weight, abs=0.15)
    assert learned.dynamics.click_bias == pytest.approx(0.0, abs=0.15)
    leave = learned.leave_model.coefficients()
    assert leave["satisfaction"] == pytest.approx(-truth.leave_unsatisfied, abs=0.6)
    assert leave["fatigue"] == pytest.approx(truth.leave_fatigue, abs=0.3)
    assert learned.leave_model.source == "learned"


def test_the_learned_leave_model_beats_a_wrong_hand_rule_on_held_out_sessions() -> None:
    # the truth: bored users leave, unsatisfied ones do not; the configured rule says the opposite
    truth = DynamicsConfig(leave_base=-3.0, leave_fatigue=1.5, leave_unsatisfied=0.0)
    log, truth_world, config = small_logs(truth)
    world = truth_world.with_dynamics(DynamicsParams(DynamicsConfig()))
    learned = learn_dynamics(world, log, censor_length=config.horizon)
    held_out = learned.report["leave"]["held_out"]
    assert held_out["learned"]["log_loss"] < held_out["rule"]["log_loss"] - 0.005
    assert held_out["learned"]["auc"] > held_out["rule"]["auc"] + 0.05
    assert learned.leave_model.coefficients()["fatigue"] > 1.0


def test_replaying_a_simulated_session_rebuilds_the_states_the_simulator_was_in() -> None:
    world = GroundTruthWorld(SMALL_WORLD)
    sessions = Sessions(world, batch_size=1, horizon=8)
    rng = RowStreams.from_seed(3, 1)
    sessions.reset(torch.tensor([5]), rng)
    items, clicks, features = [], [], []
    for item in [1, 2, 2, 7, 1, 30]:
        result = sessions.step(torch.tensor([item]), rng)
        items.append(item)
        clicks.append(float(result.click[0]))
        features.append(leave_features(sessions.state)[0])
    n = len(items)
    rows = pd.DataFrame({"user": 5, "item": items, "rating": clicks, "session": 0, "position": range(n)})
    table = pd.DataFrame({"session": [0], "user": [5], "length": [n]})
    replayed = replay_sessions(world, LogSessions(rows, table, gap_seconds=60.0), like_threshold=1.0)
    np.testing.assert_allclose(replayed.leave_features, torch.stack(features).numpy(), atol=1e-5)
    assert replayed.ended.tolist() == [False] * 5 + [True]
    assert replayed.repeated.tolist() == [0, 0, 1, 0, 1, 0]


def test_the_simulator_and_the_replay_fit_read_the_same_click_logits() -> None:
    """Logged sessions with repeats, replayed: at every step the simulator's click logit (what it draws
    clicks with) equals the replay's (what the click costs are fitted on), all four terms at work."""
    dynamics = DynamicsConfig(affinity_scale=1.3, click_bias=-0.2, fatigue_weight=0.6, repeat_penalty=2.0)
    world = GroundTruthWorld(dataclasses.replace(SMALL_WORLD, dynamics=dynamics))
    items = torch.tensor([[1, 2, 2, 7, 1, 30], [4, 4, 9, 4, 12, 9], [30, 31, 30, 0, 2, 2]])  # [S, T]
    clicks = torch.tensor([[1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 0, 0], [1, 1, 0, 0, 1, 0]], dtype=torch.bool)
    users = torch.tensor([5, 8, 13])
    n_sessions, length = items.shape
    rows = pd.DataFrame(
        {
            "session": np.repeat(np.arange(n_sessions), length),
            "position": np.tile(np.arange(length), n_sessions),
            "user": np.repeat(users.numpy(), length),
            "item": items.flatten().numpy(),
            "rating": clicks.flatten().float().numpy(),
        }
    )
    table = pd.DataFrame({"session": range(n_sessions), "user": users.numpy(), "length": length})
    steps = replay_sessions(world, LogSessions(rows, table, gap_seconds=60.0), like_threshold=1.0)
    rng = RowStreams.from_seed(0, n_sessions)
    state, logits = world.initial_state(users, rng), []
    for t in range(length):
        logits.append(world.click_logit(state, items[:, t], world.affinity_logit(state, items[:, t])))
        response = Response(click=clicks[:, t], reward=clicks[:, t].float())
        state = world.transition(state, items[:, t], response, rng)
    simulated = torch.stack(logits, dim=1).numpy()[steps.session, steps.position]  # [N]
    assert steps.repeated.sum() == 7 and (steps.fatigue > 0).any()
    np.testing.assert_array_equal(replayed_click_logit(world.dynamics, steps), simulated)


def test_a_log_of_clicks_only_keeps_the_configured_fatigue_and_says_why() -> None:
    log, world, config = small_logs()
    clicks_only = log.with_frame(log.frame[log.frame["rating"] > 0].reset_index(drop=True))
    learned = learn_dynamics(world, clicks_only)
    assert learned.report["click"]["estimated"] is False
    assert "non-clicks" in learned.report["click"]["why"]
    assert learned.dynamics == world.dynamics


def test_the_repeat_penalty_stays_configured_when_no_item_recurs_in_a_session() -> None:
    log, world, config = small_logs()
    learned = learn_dynamics(world, log, censor_length=config.horizon)
    assert learned.report["click"]["repeat_estimated"] is False
    assert learned.dynamics.repeat_penalty == world.dynamics.repeat_penalty


def test_learned_dynamics_drive_a_new_simulator_and_leave_the_old_one_as_it_was() -> None:
    log, truth, config = small_logs()
    learned = learn_dynamics(truth, log, censor_length=config.horizon)
    world = truth.with_dynamics(learned.params)
    assert type(world) is GroundTruthWorld and world.affinity is truth.affinity
    assert world.active_leave_model() is learned.leave_model
    assert world.dynamics is learned.dynamics and world.return_model is learned.return_model
    assert world.config.dynamics == learned.dynamics  # the world's config says what it runs
    assert truth.params == DynamicsParams(SMALL_WORLD.dynamics) and truth.config == SMALL_WORLD
    state = world.initial_state(torch.arange(4), RowStreams.from_seed(0, 4))
    state = world.transition(
        state,
        torch.arange(4),
        world.respond(state, torch.arange(4), RowStreams.from_seed(0, 4)),
        RowStreams.from_seed(0, 4),
    )
    expected = torch.sigmoid(learned.leave_model.fit.logit(leave_features(state)))
    torch.testing.assert_close(world.leave_probability(state), expected)


def test_too_few_sessions_is_a_clear_error() -> None:
    frame = pd.DataFrame(
        {"user": [0, 0, 1], "item": [0, 1, 0], "rating": [1.0, 0.0, 1.0], "timestamp": [0, 60, 0]}
    )
    log = InteractionLog.from_frame(frame, feedback="click")
    world = GroundTruthWorld(SMALL_WORLD)
    with pytest.raises(LogError, match="at least 10 sessions"):
        learn_dynamics(world, log, gap_seconds=30)


def test_holdout_must_be_a_share() -> None:
    log, world, _ = small_logs()
    with pytest.raises(ValueError, match="holdout"):
        learn_dynamics(world, log, holdout=1.0)


def test_a_log_without_usable_timestamps_is_a_clear_error() -> None:
    rows = [(user, item, float(item % 2), 0) for user in range(20) for item in range(5)]
    log = InteractionLog.from_frame(
        pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), feedback="click"
    )
    with pytest.raises(LogError, match="dynamics:hand-set"):
        learn_dynamics(GroundTruthWorld(SMALL_WORLD), log)


def test_saved_dynamics_rebuild_the_simulator_and_refuse_corruption(tmp_path) -> None:
    config = LoggingConfig(world=TINY_WORLD, sessions_per_user=10, horizon=12)
    log, world = generate_logs(config)
    learned = learn_dynamics(world, log, censor_length=config.horizon)
    world = world.with_dynamics(learned.params)
    save_dynamics(tmp_path / "dynamics", world)
    blank = GroundTruthWorld(TINY_WORLD)
    fresh = load_dynamics(tmp_path / "dynamics", blank)
    assert type(fresh) is GroundTruthWorld and blank.params == DynamicsParams(TINY_WORLD.dynamics)
    assert fresh.dynamics == learned.dynamics and fresh.leave_model == learned.leave_model
    assert fresh.return_model == learned.return_model
    state = world.initial_state(torch.arange(5), RowStreams.from_seed(0, 5))
    assert torch.equal(fresh.leave_probability(state), world.leave_probability(state))
    weights = tmp_path / "dynamics" / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-3])
    with pytest.raises(CheckpointError, match="checksum"):
        load_dynamics(tmp_path / "dynamics", GroundTruthWorld(TINY_WORLD))


@pytest.mark.parametrize("gap_seconds", [None, 0.5])
def test_an_untimed_log_is_refused_by_name_with_the_way_out(gap_seconds: float | None) -> None:
    rows = [(user, item, float(item % 2), 10 * user + item) for user in range(20) for item in range(5)]
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    log = InteractionLog.from_frame(frame, feedback="click", name="clicks.csv", timed=False)
    with pytest.raises(LogError, match="clicks.csv: the log has no time column .*dynamics:hand-set"):
        learn_dynamics(GroundTruthWorld(SMALL_WORLD), log, gap_seconds=gap_seconds)
