"""Shared user dynamics (fatigue, repetition, satisfaction, leaving), the ground-truth world and the
synthetic logs it generates."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import TINY_WORLD

from recgym.data.simulated_logs import SECONDS_PER_DAY
from recgym.data.synthetic import LoggingConfig, generate_logs, logging_policy_probabilities
from recgym.random import RowStreams
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.protocol import Response, UserSimulator
from recgym.simulators.world import GroundTruthWorld, WorldConfig


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class HandSet(DynamicsSimulator):
    """Affinity 0 for every item (a fresh click probability of 1/2) and four hand-set item vectors."""

    def __init__(self, dynamics: DynamicsConfig | None = None):
        self.n_users, self.n_items = 3, 4
        self.device = torch.device("cpu")
        self.dynamics = dynamics or DynamicsConfig()
        # 0 and 1 are similar (cosine 0.8), 0 and 2 orthogonal, 0 and 3 opposite
        self.item_vectors = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])

    def affinity_logit(self, state, items):
        return torch.zeros(items.shape)


def fresh(sim, batch: int = 1):
    return sim.initial_state(torch.zeros(batch, dtype=torch.long), RowStreams.from_seed(0, batch))


def show(sim, state, item: int, click: bool, batch: int = 1):
    items = torch.full((batch,), item, dtype=torch.long)
    response = Response(click=torch.full((batch,), click), reward=torch.full((batch,), float(click)))
    return sim.transition(state, items, response, RowStreams.from_seed(0, batch))


def p_click(sim, state, item: int) -> float:
    return float(sim.click_probability(state, torch.tensor([item])))


# --- click probability: fatigue and repetition ---------------------------------------------------


def test_fresh_user_clicks_with_the_affinity_probability() -> None:
    sim = HandSet()
    assert [p_click(sim, fresh(sim), i) for i in range(4)] == pytest.approx([0.5] * 4)


def test_exposure_to_similar_items_lowers_the_click_probability() -> None:
    sim = HandSet()
    state = show(sim, fresh(sim), item=1, click=False)
    w = sim.dynamics.fatigue_weight
    assert p_click(sim, state, 0) == pytest.approx(sigmoid(-w * 0.8))
    assert p_click(sim, state, 2) == pytest.approx(sigmoid(-w * 0.6))
    assert p_click(sim, state, 3) == pytest.approx(0.5)  # dissimilar items do not tire
    assert p_click(sim, state, 0) < 0.5


def test_exposure_decays_between_steps() -> None:
    sim = HandSet()
    state = show(sim, show(sim, fresh(sim), 0, False), 2, False)
    d = sim.dynamics
    assert state["exposure"][0].tolist() == pytest.approx([d.fatigue_decay, 1.0])
    # item 1 = (0.8, 0.6) meets exposure (0.7, 1.0): 0.56 + 0.6
    assert p_click(sim, state, 1) == pytest.approx(sigmoid(-d.fatigue_weight * 1.16))


def test_repeating_an_item_costs_the_repeat_penalty() -> None:
    sim = HandSet()
    d = sim.dynamics
    state = show(sim, fresh(sim), item=0, click=True)
    assert p_click(sim, state, 0) == pytest.approx(sigmoid(-d.fatigue_weight - d.repeat_penalty))
    no_repeat_penalty = HandSet(replace(d, repeat_penalty=0.0))
    state = show(no_repeat_penalty, fresh(no_repeat_penalty), item=0, click=True)
    assert p_click(no_repeat_penalty, state, 0) == pytest.approx(sigmoid(-d.fatigue_weight))


def test_respond_clicks_at_the_click_probability() -> None:
    sim = HandSet()
    batch = 4000
    state = show(sim, fresh(sim, batch), item=1, click=False, batch=batch)
    response = sim.respond(state, torch.zeros(batch, dtype=torch.long), RowStreams.from_seed(0, batch))
    assert response.click.dtype == torch.bool and response.reward.dtype == torch.float32
    assert torch.equal(response.reward, response.click.float())
    assert response.click.float().mean().item() == pytest.approx(sigmoid(-0.8 * 0.8), abs=0.03)


# --- leaving: fatigue and satisfaction -----------------------------------------------------------


def p_leave(sim, state) -> float:
    return float(sim.leave_probability(state))


def test_fresh_satisfied_user_leaves_at_the_base_rate() -> None:
    sim = HandSet()
    assert p_leave(sim, fresh(sim)) == pytest.approx(sigmoid(sim.dynamics.leave_base))


def test_leave_probability_rises_with_fatigue() -> None:
    sim = HandSet()
    d = sim.dynamics
    tired = show(sim, show(sim, fresh(sim), 0, True), 0, True)  # fatigue <v0, v0> = 1
    rested = show(sim, show(sim, fresh(sim), 0, True), 3, True)  # fatigue max(0, <v0, v3>) = 0
    assert float(tired["fatigue"]) == pytest.approx(1.0) and float(rested["fatigue"]) == 0.0
    assert p_leave(sim, tired) == pytest.approx(sigmoid(d.leave_base + d.leave_fatigue))
    assert p_leave(sim, rested) == pytest.approx(sigmoid(d.leave_base))
    assert p_leave(sim, tired) > p_leave(sim, rested)


def test_leave_probability_rises_with_unsatisfying_steps() -> None:
    sim = HandSet()
    d = sim.dynamics
    clicked = show(sim, fresh(sim), 0, True)
    ignored = show(sim, fresh(sim), 0, False)
    assert float(ignored["satisfaction"]) == pytest.approx(d.satisfaction_decay)
    assert p_leave(sim, clicked) == pytest.approx(sigmoid(d.leave_base))
    assert p_leave(sim, ignored) == pytest.approx(
        sigmoid(d.leave_base + d.leave_unsatisfied * (1 - d.satisfaction_decay))
    )
    # without the fatigue term, each further ignored recommendation makes leaving more likely
    sim = HandSet(replace(d, leave_fatigue=0.0))
    state, probabilities = fresh(sim), []
    for item in [0, 2, 3, 2, 0]:
        state = show(sim, state, item, False)
        probabilities.append(p_leave(sim, state))
    assert all(later > earlier for earlier, later in zip(probabilities, probabilities[1:], strict=False))


def test_leaves_draws_at_the_leave_probability() -> None:
    sim = HandSet(DynamicsConfig(leave_base=0.0))  # 1/2 for a fresh user
    left = sim.leaves(fresh(sim, 4000), RowStreams.from_seed(0, 4000))
    assert left.dtype == torch.bool
    assert left.float().mean().item() == pytest.approx(0.5, abs=0.03)


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fatigue_decay", 1.0),
        ("fatigue_decay", -0.1),
        ("satisfaction_decay", 1.0),
        ("satisfaction_decay", 1.5),
        ("fatigue_weight", -0.1),
        ("repeat_penalty", -1.0),
        ("leave_fatigue", -0.5),
        ("leave_unsatisfied", -2.0),
    ],
)
def test_dynamics_config_rejects_out_of_range_values(field, value) -> None:
    with pytest.raises(ValueError, match=f"DynamicsConfig.{field}"):
        DynamicsConfig(**{field: value})


@pytest.mark.parametrize("field", ["fatigue_weight", "repeat_penalty", "leave_fatigue", "leave_unsatisfied"])
def test_dynamics_config_rejects_nan_weights(field) -> None:
    with pytest.raises(ValueError, match=f"DynamicsConfig.{field}"):
        DynamicsConfig(**{field: math.nan})


def test_dynamics_config_accepts_the_range_edges() -> None:
    config = DynamicsConfig(
        fatigue_decay=0.0, satisfaction_decay=0.999, fatigue_weight=0.0, repeat_penalty=0.0
    )
    assert config.fatigue_decay == 0.0 and config.repeat_penalty == 0.0


@pytest.mark.parametrize("field", ["n_users", "n_items", "n_topics", "dim"])
def test_world_config_rejects_empty_sizes(field) -> None:
    with pytest.raises(ValueError, match=f"WorldConfig.{field}"):
        WorldConfig(**{field: 0})


# --- the ground-truth world --------------------------------------------------------------------


def test_world_follows_the_protocol_with_unit_item_vectors(tiny_world) -> None:
    assert isinstance(tiny_world, UserSimulator)
    assert tiny_world.item_vectors.shape == (15, 4)
    assert torch.allclose(tiny_world.item_vectors.norm(dim=-1), torch.ones(15))
    assert torch.allclose(tiny_world.user_interest.norm(dim=-1), torch.ones(20))


def test_world_is_determined_by_its_seed(tiny_world) -> None:
    again = GroundTruthWorld(TINY_WORLD)
    other = GroundTruthWorld(replace(TINY_WORLD, seed=1))
    for name in ("item_vectors", "item_quality", "item_topics", "user_interest"):
        assert torch.equal(getattr(tiny_world, name), getattr(again, name))
    assert not torch.allclose(tiny_world.item_vectors, other.item_vectors)
    assert not torch.allclose(tiny_world.user_interest, other.user_interest)


def test_world_click_probability_falls_after_a_similar_item_and_on_repeat(tiny_world) -> None:
    state = fresh(tiny_world)
    similarity = tiny_world.item_vectors @ tiny_world.item_vectors.T  # [n_items, n_items]
    similarity.fill_diagonal_(-2.0)
    target = 0
    neighbour = int(similarity[target].argmax())
    assert similarity[target, neighbour] > 0
    before = p_click(tiny_world, state, target)
    after_neighbour = p_click(tiny_world, show(tiny_world, state, neighbour, False), target)
    after_itself = p_click(tiny_world, show(tiny_world, state, target, False), target)
    assert after_neighbour < before
    assert after_itself < after_neighbour  # the same item is both most similar and repeated


def test_interest_moves_towards_a_clicked_item_only(tiny_world) -> None:
    state = fresh(tiny_world)
    item = 3
    vector = tiny_world.item_vectors[item]
    before = float(state["interest"][0] @ vector)
    clicked = show(tiny_world, state, item, True)
    ignored = show(tiny_world, state, item, False)
    assert float(clicked["interest"][0] @ vector) > before
    assert torch.allclose(clicked["interest"].norm(dim=-1), torch.ones(1))
    assert torch.equal(ignored["interest"], state["interest"])


def test_world_sessions_are_deterministic_given_the_streams(tiny_world) -> None:
    def run(seed: int) -> list:
        g = RowStreams.from_seed(seed, 20)
        users = torch.arange(20)
        state = tiny_world.initial_state(users, g)
        trace = []
        for step in range(10):
            items = (users + step) % tiny_world.n_items
            response = tiny_world.respond(state, items, g)
            state = tiny_world.transition(state, items, response, g)
            trace.append((response.click.tolist(), tiny_world.leaves(state, g).tolist()))
        return trace

    assert run(0) == run(0)
    assert run(0) != run(1)


# --- synthetic logs ----------------------------------------------------------------------------


def tiny_logs(seed: int):
    return generate_logs(LoggingConfig(world=TINY_WORLD, sessions_per_user=3, horizon=10, seed=seed))


@pytest.fixture(scope="module")
def logs():
    return tiny_logs(0)


def test_logs_are_deterministic_given_the_seed(logs) -> None:
    log, world = logs
    again, _ = tiny_logs(0)
    other, _ = tiny_logs(1)
    assert log.frame.equals(again.frame)
    assert not (len(log.frame) == len(other.frame) and log.frame.equals(other.frame))
    assert torch.equal(world.item_vectors, GroundTruthWorld(TINY_WORLD).item_vectors)


def test_logs_are_a_click_log_with_explicit_negatives(logs) -> None:
    log, _ = logs
    assert log.feedback == "click"
    assert set(log.frame["rating"].unique()) == {0.0, 1.0}
    assert log.has_explicit_negatives
    assert log.n_users == 20 and log.n_items <= 15
    sessions_per_user = log.frame.groupby("user")["timestamp"].apply(
        lambda t: (t // SECONDS_PER_DAY).nunique()
    )
    assert (sessions_per_user == 3).all()
    assert (log.frame.groupby("user").size() <= 3 * 10).all()


def test_log_timestamps_increase_within_each_user(logs) -> None:
    log, _ = logs
    steps = log.frame.groupby("user")["timestamp"].diff().dropna()
    assert (steps > 0).all()


def test_logging_policy_never_repeats_an_item_within_a_session(logs) -> None:
    log, _ = logs
    day = log.frame["timestamp"] // SECONDS_PER_DAY
    assert not log.frame.assign(day=day).duplicated(subset=["user", "day", "item"]).any()


def test_popular_items_are_shown_more_often(logs) -> None:
    log, world = logs
    config = LoggingConfig(world=TINY_WORLD)
    probabilities = logging_policy_probabilities(world, config)
    assert probabilities.sum().item() == pytest.approx(1.0)
    assert probabilities.min().item() >= config.exploration / world.n_items
    shown = np.bincount(log.raw_items(log.frame["item"].to_numpy()), minlength=world.n_items)
    order = torch.argsort(probabilities, descending=True).numpy()
    popular, unpopular = order[:3], order[-3:]
    assert shown[popular].sum() > 1.5 * shown[unpopular].sum()
    assert shown[order[0]] > shown[order[-1]]
