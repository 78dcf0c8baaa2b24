"""`Sessions`, the one session step, driven by a simulator whose every response is fixed."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import CLICKS
from fakes import FixedSimulator

from recgym.random import RowStreams
from recgym.sessions import PAD, Sessions


def generator(batch: int = 3) -> RowStreams:
    return RowStreams.from_seed(0, batch)


def started(sim, users=(0, 1, 2), history_len: int = 3, horizon: int = 50) -> Sessions:
    sessions = Sessions(sim, batch_size=len(users), history_len=history_len, horizon=horizon)
    sessions.reset(torch.tensor(users), generator(len(users)))
    return sessions


def test_history_shifts_newest_last_and_holds_rewards(fixed_sim) -> None:
    sessions = started(fixed_sim, users=(0, 1), history_len=3)
    g = generator()
    script = [[1, 1], [2, 0], [4, 3], [0, 4]]
    for items in script:
        result = sessions.step(torch.tensor(items), g)
    obs = sessions.observation()
    # the last three steps, as item + 1; the first step has been shifted out
    assert obs["recent_items"].tolist() == [[3, 5, 1], [1, 4, 5]]
    assert obs["recent_responses"].tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    assert obs["user"].tolist() == [[0], [1]]
    assert result.reward.tolist() == [float(CLICKS[0][0]), float(CLICKS[1][4])]


def test_history_starts_empty_and_fills_from_the_right(fixed_sim) -> None:
    sessions = started(fixed_sim, users=(1,), history_len=3)
    assert sessions.observation()["recent_items"].tolist() == [[PAD, PAD, PAD]]
    result = sessions.step(torch.tensor([1]), generator())
    assert sessions.observation()["recent_items"].tolist() == [[PAD, PAD, 2]]
    assert sessions.observation()["recent_responses"].tolist() == [[0.0, 0.0, 1.0]]
    assert result.click.tolist() == [True] and result.reward.dtype == torch.float32


def test_shown_mask_and_length(fixed_sim) -> None:
    sessions = started(fixed_sim, users=(0, 1))
    g = generator()
    sessions.step(torch.tensor([3, 0]), g)
    sessions.step(torch.tensor([1, 0]), g)
    assert sessions.shown.tolist() == [[False, True, False, True, False], [True, False, False, False, False]]
    assert sessions.length.tolist() == [2, 2]


def test_reset_clears_history_shown_and_length(fixed_sim) -> None:
    sessions = started(fixed_sim, users=(0, 1))
    sessions.step(torch.tensor([3, 0]), generator())
    sessions.reset(torch.tensor([2, 2]), generator())
    assert not sessions.shown.any()
    assert sessions.length.tolist() == [0, 0]
    assert (sessions.observation()["recent_items"] == PAD).all()
    assert (sessions.observation()["recent_responses"] == 0).all()
    assert sessions.observation()["user"].tolist() == [[2], [2]]


def test_truncated_exactly_at_the_horizon_when_the_user_stays() -> None:
    sim = FixedSimulator([[1, 0]], leave_after=[100])
    sessions = started(sim, users=(0,), horizon=3)
    g = generator()
    flags = [sessions.step(torch.tensor([0]), g) for _ in range(3)]
    assert [bool(r.truncated) for r in flags] == [False, False, True]
    assert not any(bool(r.terminated) for r in flags)


def test_terminated_not_truncated_when_the_user_leaves_at_the_horizon() -> None:
    sim = FixedSimulator([[1, 0], [1, 0]], leave_after=[3, 2])
    sessions = started(sim, users=(0, 1), horizon=3)
    g = generator()
    results = [sessions.step(torch.tensor([0, 0]), g) for _ in range(3)]
    assert [r.terminated.tolist() for r in results] == [[False, False], [False, True], [True, True]]
    assert [r.truncated.tolist() for r in results] == [[False, False], [False, False], [False, False]]


def test_terminated_when_the_simulator_says_leave(fixed_sim) -> None:
    sessions = started(fixed_sim)  # users 0, 1, 2 leave after 3, never, 1 steps
    g = generator()
    ends = [sessions.step(torch.tensor([0, 0, 0]), g).terminated.tolist() for _ in range(3)]
    assert ends == [[False, False, True], [False, False, True], [True, False, True]]


@pytest.mark.parametrize(
    ("items", "error", "message"),
    [
        (torch.tensor([0, 1]), ValueError, "shape"),
        (torch.tensor([[0, 1], [1, 2], [2, 3]]), ValueError, "shape"),  # a slate of 2 needs a choice model
        (torch.tensor([0.0, 1.0, 2.0]), TypeError, "dtype"),
        (torch.tensor([0, -1, 2]), ValueError, r"\[0, 5\)"),
        (torch.tensor([0, 5, 2]), ValueError, r"\[0, 5\)"),
    ],
)
def test_step_rejects_bad_items_before_touching_the_state(fixed_sim, items, error, message) -> None:
    sessions = started(fixed_sim)
    with pytest.raises(error, match=message):
        sessions.step(items, generator())
    assert sessions.length.tolist() == [0, 0, 0] and not sessions.shown.any()
    assert sessions.state["step"].tolist() == [0, 0, 0]


def test_step_accepts_int32_items(fixed_sim) -> None:
    sessions = started(fixed_sim)
    result = sessions.step(torch.tensor([0, 1, 3], dtype=torch.int32), generator())
    assert result.reward.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        (torch.tensor([0, 1]), "shape"),
        (torch.tensor([[0], [1], [2]]), "shape"),
        (torch.tensor([0, 1, 3]), r"\[0, 3\)"),
        (torch.tensor([-1, 1, 2]), r"\[0, 3\)"),
    ],
)
def test_reset_rejects_bad_users(fixed_sim, users, message) -> None:
    sessions = Sessions(fixed_sim, batch_size=3)
    with pytest.raises(ValueError, match=message):
        sessions.reset(users, generator())


@pytest.mark.parametrize(
    "kwargs", [{"batch_size": 0}, {"batch_size": 1, "history_len": 0}, {"batch_size": 1, "horizon": 0}]
)
def test_constructor_rejects_non_positive_sizes(fixed_sim, kwargs) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        Sessions(fixed_sim, **kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_reward_raises(bad) -> None:
    sim = FixedSimulator([[1, 0]], leave_after=[100], rewards=[[1.0, bad]])
    sessions = started(sim, users=(0,))
    g = generator()
    assert sessions.step(torch.tensor([0]), g).reward.tolist() == [1.0]
    with pytest.raises(FloatingPointError, match="non-finite reward"):
        sessions.step(torch.tensor([1]), g)


def test_passes_the_callers_streams_to_the_simulator() -> None:
    sim = FixedSimulator([[1, 0], [0, 1]], leave_after=[100, 100], record_draws=True)
    sessions = started(sim, users=(0, 1))
    sessions.step(torch.tensor([0, 0]), RowStreams.from_seed(5, 2))
    sessions.step(torch.tensor([0, 0]), RowStreams.from_seed(5, 2))
    assert torch.equal(sim.draws[0], sim.draws[1])
    assert torch.equal(sim.draws[0], RowStreams.from_seed(5, 2).uniform())


@pytest.mark.parametrize("name", ["tiny_world", "fixed_sim"])  # the simulator's shown mask, or Sessions'
def test_restarting_finished_rows_gives_each_the_state_a_fresh_session_would_have(request, name) -> None:
    """`reset_rows` builds fresh states for the finished rows only (on the CPU): each restarted row must
    hold what `initial_state` gives its user from its session stream, the others what they had."""
    simulator = request.getfixturevalue(name)
    sessions = Sessions(simulator, batch_size=4, history_len=3)
    rng = RowStreams.from_seed(0, 4)
    started = torch.arange(4) % simulator.n_users
    sessions.reset(started, rng)
    for items in ([0, 1, 2, 3], [4, 3, 2, 1]):
        sessions.step(torch.tensor(items), rng)
    before = {key: value.clone() for key, value in sessions.state.items()}
    shown_before = sessions.shown.clone()
    done = torch.tensor([True, False, True, False])
    users = torch.tensor([4, 1, 3, 0]) % simulator.n_users
    expected = simulator.initial_state(users, rng.session_streams())
    sessions.reset_rows(done, users, rng)
    for key, value in sessions.state.items():
        assert torch.equal(value[done], expected[key][done]), key
        assert torch.equal(value[~done], before[key][~done]), key
    assert not sessions.shown[done].any() and torch.equal(sessions.shown[~done], shown_before[~done])
    assert shown_before[done].any() and torch.equal(sessions.users, torch.where(done, users, started))
