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
from recgym.simulators.affinity import Affinity
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.protocol import Response, UserSimulator
from recgym.simulators.registry import make_simulator
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class FourItems:
    """Affinity 0 for every item (a fresh click probability of 1/2) and four hand-set item vectors."""

    n_users, n_items = 3, 4
    device = torch.device("cpu")
    rating_scale = (1.0, 1.0)
    # 0 and 1 are similar (cosine 0.8), 0 and 2 orthogonal, 0 and 3 opposite
    item_vectors = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])

    def initial(self, users: torch.Tensor) -> dict:
        return {}

    def logit(self, state, items: torch.Tensor) -> torch.Tensor:
        return torch.zeros(items.shape)

    def rating(self, state, items: torch.Tensor) -> torch.Tensor:
        return torch.ones(items.shape)

    def consume(self, state, items, click):
        return state


def hand_set(dynamics: DynamicsConfig | None = None) -> DynamicsSimulator:
    return DynamicsSimulator(FourItems(), DynamicsParams(dynamics or DynamicsConfig()))


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
    sim = hand_set()
    assert [p_click(sim, fresh(sim), i) for i in range(4)] == pytest.approx([0.5] * 4)


def test_exposure_to_similar_items_lowers_the_click_probability() -> None:
    sim = hand_set()
    state = show(sim, fresh(sim), item=1, click=False)
    w = sim.dynamics.fatigue_weight
    assert p_click(sim, state, 0) == pytest.approx(sigmoid(-w * 0.8))
    assert p_click(sim, state, 2) == pytest.approx(sigmoid(-w * 0.6))
    assert p_click(sim, state, 3) == pytest.approx(0.5)  # dissimilar items do not tire
    assert p_click(sim, state, 0) < 0.5


def test_exposure_decays_between_steps() -> None:
    sim = hand_set()
    state = show(sim, show(sim, fresh(sim), 0, False), 2, False)
    d = sim.dynamics
    assert state["exposure"][0].tolist() == pytest.approx([d.fatigue_decay, 1.0])
    # item 1 = (0.8, 0.6) meets exposure (0.7, 1.0): 0.56 + 0.6
    assert p_click(sim, state, 1) == pytest.approx(sigmoid(-d.fatigue_weight * 1.16))


def test_repeating_an_item_costs_the_repeat_penalty() -> None:
    sim = hand_set()
    d = sim.dynamics
    state = show(sim, fresh(sim), item=0, click=True)
    assert p_click(sim, state, 0) == pytest.approx(sigmoid(-d.fatigue_weight - d.repeat_penalty))
    no_repeat_penalty = hand_set(replace(d, repeat_penalty=0.0))
    state = show(no_repeat_penalty, fresh(no_repeat_penalty), item=0, click=True)
    assert p_click(no_repeat_penalty, state, 0) == pytest.approx(sigmoid(-d.fatigue_weight))


def test_respond_clicks_at_the_click_probability() -> None:
    sim = hand_set()
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
    sim = hand_set()
    assert p_leave(sim, fresh(sim)) == pytest.approx(sigmoid(sim.dynamics.leave_base))


def test_leave_probability_rises_with_fatigue() -> None:
    sim = hand_set()
    d = sim.dynamics
    tired = show(sim, show(sim, fresh(sim), 0, True), 0, True)  # fatigue <v0, v0> = 1
    rested = show(sim, show(sim, fresh(sim), 0, True), 3, True)  # fatigue max(0, <v0, v3>) = 0
    assert float(tired["fatigue"]) == pytest.approx(1.0) and float(rested["fatigue"]) == 0.0
    assert p_leave(sim, tired) == pytest.approx(sigmoid(d.leave_base + d.leave_fatigue))
    assert p_leave(sim, rested) == pytest.approx(sigmoid(d.leave_base))
    assert p_leave(sim, tired) > p_leave(sim, rested)


def test_leave_probability_rises_with_unsatisfying_steps() -> None:
    sim = hand_set()
    d = sim.dynamics
    clicked = show(sim, fresh(sim), 0, True)
    ignored = show(sim, fresh(sim), 0, False)
    assert float(ignored["satisfaction"]) == pytest.approx(d.satisfaction_decay)
    assert p_leave(sim, clicked) == pytest.approx(sigmoid(d.leave_base))
    assert p_leave(sim, ignored) == pytest.approx(
        sigmoid(d.leave_base + d.leave_unsatisfied * (1 - d.satisfaction_decay))
    )
    # without the fatigue term, each further ignored recommendation makes leaving more likely
    sim = hand_set(replace(d, leave_fatigue=0.0))
    state, probabilities = fresh(sim), []
    for item in [0, 2, 3, 2, 0]:
        state = show(sim, state, item, False)
        probabilities.append(p_leave(sim, state))
    assert all(later > earlier for earlier, later in zip(probabilities, probabilities[1:], strict=False))


def test_leaves_draws_at_the_leave_probability() -> None:
    sim = hand_set(DynamicsConfig(leave_base=0.0))  # 1/2 for a fresh user
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
    with pytest.raises(ValueError, match=f"GroundTruthConfig.{field}"):
        GroundTruthConfig(**{field: 0})


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


RECORDED_CLICKS = [57, 52, 136, 237, 0, 17, 96, 105, 0, 128, 5, 40, 130, 80, 0]
RECORDED_CLICKS += [76, 64, 32, 0, 0, 0, 2, 0, 0, 0, 64, 0, 34, 0, 0]
RECORDED_LEAVES = [0, 0, 2, 0, 64, 0, 0, 12, 9, 0, 0, 0, 1, 36, 212]
RECORDED_LEAVES += [0, 65, 0, 80, 16, 64, 144, 66, 160, 64, 16, 0, 16, 0, 64]
RECORDED_RETURNS = [3.3975046, 2.2165875, 2.6106720, 3.7465708, 2.2257428, 5.3751554, 3.9544523, 2.8088326]


def test_world_sessions_give_the_numbers_recorded_before_simulators_were_composed() -> None:
    """30 steps of 8 users, single items and slates in turn, engagement reward: each step's clicks and
    leaves (bit u for user u) and the returns the inherited simulators gave."""
    world = GroundTruthWorld(TINY_WORLD, reward="engagement")
    users, rng, g = torch.arange(8), RowStreams.from_seed(7, 8), torch.Generator().manual_seed(3)
    state, clicks, leaves, total = world.initial_state(users, rng), [], [], torch.zeros(8)
    for t in range(30):
        if t % 2:
            slate = torch.randint(world.n_items, (8, 3), generator=g)
            answer = world.respond_slate(state, slate, ChoiceConfig(slate_size=3), rng)
            items, response = answer.item, answer.response
        else:
            items = torch.randint(world.n_items, (8,), generator=g)
            response = world.respond(state, items, rng)
        state = world.transition(state, items, response, rng)
        clicks.append(int((response.click.long() << users).sum()))
        leaves.append(int((world.leaves(state, rng).long() << users).sum()))
        total += response.reward
    assert clicks == RECORDED_CLICKS and leaves == RECORDED_LEAVES
    assert total.tolist() == pytest.approx(RECORDED_RETURNS, rel=1e-6)


# --- composition: frozen parts, never mutated ---------------------------------------------------


def test_a_dynamics_simulator_is_its_parts() -> None:
    affinity, params = FourItems(), DynamicsParams(DynamicsConfig(fatigue_weight=0.1))
    sim = DynamicsSimulator(affinity, params, reward="session_length")
    assert isinstance(affinity, Affinity) and isinstance(sim, UserSimulator)
    assert sim.affinity is affinity and sim.params is params and sim.dynamics is params.config
    assert (sim.n_users, sim.n_items, sim.item_vectors) == (3, 4, affinity.item_vectors)
    assert sim.leave_model is None and sim.active_leave_model().source == "rule"


def test_a_simulator_cannot_be_changed_after_it_is_made(tiny_world) -> None:
    for name, value in [("reward", "rating"), ("dynamics", DynamicsConfig()), ("return_model", None)]:
        with pytest.raises(AttributeError, match="immutable.*with_dynamics"):
            setattr(tiny_world, name, value)
    with pytest.raises(AttributeError, match="immutable"):
        del tiny_world.affinity
    assert tiny_world.reward == "click" and tiny_world.dynamics == TINY_WORLD.dynamics


def test_other_dynamics_give_a_new_world_and_leave_the_old_one_as_it_was(tiny_world) -> None:
    calm = DynamicsConfig(leave_base=-9.0, fatigue_weight=0.0)
    other = tiny_world.with_dynamics(DynamicsParams(calm))
    assert type(other) is GroundTruthWorld and other is not tiny_world
    assert other.affinity is tiny_world.affinity  # nothing redrawn
    assert other.dynamics == calm and other.config == replace(TINY_WORLD, dynamics=calm)
    assert tiny_world.dynamics == TINY_WORLD.dynamics and tiny_world.config == TINY_WORLD
    state = fresh(tiny_world)
    assert float(other.leave_probability(state)) == pytest.approx(sigmoid(-9.0))
    assert float(tiny_world.leave_probability(state)) == pytest.approx(
        sigmoid(TINY_WORLD.dynamics.leave_base)
    )


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


def test_with_dynamics_keeps_what_a_subclass_was_given() -> None:
    world = make_simulator("world", config=TINY_WORLD)
    moved = world.with_dynamics(DynamicsParams(replace(TINY_WORLD.dynamics, fatigue_weight=0.0)))
    assert type(moved) is type(world) and moved.logs is world.logs and moved.affinity is world.affinity
    assert moved.params.config.fatigue_weight == 0.0 and world.params.config.fatigue_weight != 0.0
