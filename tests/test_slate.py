"""Slates: the choice model, the slate step, and the one-user and batched slate envs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from fakes import OrderPolicy
from gymnasium.utils.env_checker import check_env

from recgym.baselines import PopularPolicy, RandomPolicy
from recgym.envs.rec_env import RecEnv
from recgym.envs.slate_env import SlateEnv, SlateVectorEnv
from recgym.evaluation import EvalConfig, evaluate, self_information
from recgym.policy import top_allowed
from recgym.random import RowStreams
from recgym.simulators.choice import ChoiceConfig, choice_probabilities, first_occurrence, sample_choice


def test_a_later_position_is_chosen_less_by_the_decay_and_nothing_by_its_weight() -> None:
    choice = ChoiceConfig(slate_size=3, position_decay=0.5, no_click_weight=2.0)
    logits = torch.zeros(1, 3)
    probabilities = choice_probabilities(logits, torch.tensor([[4, 5, 6]]), choice)[0]
    assert probabilities.sum().item() == pytest.approx(1.0)
    assert (probabilities[1] / probabilities[0]).item() == pytest.approx(0.5)
    assert (probabilities[2] / probabilities[0]).item() == pytest.approx(0.25)
    assert (probabilities[3] / probabilities[0]).item() == pytest.approx(2.0)


def test_an_item_repeated_in_a_slate_counts_once() -> None:
    slate = torch.tensor([[3, 3, 1, 3]])
    assert first_occurrence(slate).tolist() == [[True, False, True, False]]
    probabilities = choice_probabilities(torch.zeros(1, 4), slate, ChoiceConfig(slate_size=4))
    assert probabilities[0, 1].item() == probabilities[0, 3].item() == 0.0


def test_a_slate_of_one_is_clicked_with_the_single_item_probability() -> None:
    logits = torch.tensor([[-2.0], [0.0], [1.5]])
    probabilities = choice_probabilities(
        logits, torch.zeros(3, 1, dtype=torch.long), ChoiceConfig(slate_size=1)
    )
    assert torch.allclose(probabilities[:, 0], torch.sigmoid(logits[:, 0]))


def test_sampled_choices_follow_the_probabilities() -> None:
    probabilities = torch.tensor([[0.5, 0.2, 0.3]]).expand(20_000, 3)
    uniform = RowStreams.from_seed(0, 20_000).uniform()
    counts = torch.bincount(sample_choice(probabilities, uniform), minlength=3).float() / 20_000
    assert torch.allclose(counts, torch.tensor([0.5, 0.2, 0.3]), atol=0.015)


def test_bad_choice_configs_are_refused() -> None:
    for kwargs in (
        {"slate_size": 0},
        {"position_decay": 0.0},
        {"position_decay": 1.5},
        {"no_click_weight": 0.0},
    ):
        with pytest.raises(ValueError, match="ChoiceConfig"):
            ChoiceConfig(**kwargs)


def test_the_slate_env_passes_the_gymnasium_checker(tiny_world) -> None:
    check_env(
        SlateEnv(tiny_world, horizon=5, history_len=3, choice=ChoiceConfig(slate_size=3)),
        skip_render_check=True,
    )


def test_a_slate_of_one_replays_the_single_item_env(tiny_world) -> None:
    single = RecEnv(tiny_world, horizon=30, history_len=3)
    slate = SlateEnv(tiny_world, horizon=30, history_len=3, choice=ChoiceConfig(slate_size=1))
    for env in (single, slate):
        env.reset(seed=7)
    actions = np.random.default_rng(0).integers(0, tiny_world.n_items, size=200)
    for action in actions:
        a = single.step(int(action))
        b = slate.step(np.array([action]))
        assert a[1:4] == b[1:4]
        assert all((a[0][key] == b[0][key]).all() for key in a[0])
        if a[2] or a[3]:
            single.reset()
            slate.reset()


def test_the_session_moves_on_with_the_chosen_item_and_marks_only_it_shown(tiny_world) -> None:
    env = SlateEnv(tiny_world, horizon=50, history_len=2, choice=ChoiceConfig(slate_size=3))
    env.reset(seed=0)
    for _ in range(40):
        slate = env.np_random.choice(tiny_world.n_items, size=3, replace=False)
        observation, reward, terminated, truncated, info = env.step(slate)
        expected = slate[info["chosen"]] if info["click"] else slate[0]
        assert observation["recent_items"][-1] == expected + 1
        assert info["click"] == (info["chosen"] < 3) == (reward > 0)
        assert env.sessions.shown[0, expected]
        assert env.sessions.shown[0].sum() <= env.sessions.length[0]
        if terminated or truncated:
            env.reset()


def test_a_wrongly_shaped_or_out_of_range_slate_is_refused(tiny_world) -> None:
    env = SlateEnv(tiny_world, choice=ChoiceConfig(slate_size=3))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.array([1, 2]))
    with pytest.raises(ValueError, match="item ids"):
        env.step(np.array([1, 2, tiny_world.n_items]))


def test_a_simulator_that_cannot_answer_slates_is_refused(fixed_sim) -> None:
    with pytest.raises(TypeError, match="respond_slate"):
        SlateEnv(fixed_sim)


def test_each_row_of_the_batched_slate_env_replays_a_one_user_env(tiny_world) -> None:
    choice = ChoiceConfig(slate_size=4)
    batched = SlateVectorEnv(tiny_world, num_envs=3, horizon=6, history_len=3, choice=choice)
    singles = [SlateEnv(tiny_world, horizon=6, history_len=3, choice=choice) for _ in range(3)]
    batched.reset(seed=10)
    for row, env in enumerate(singles):
        env.reset(seed=10 + row)
    rng = np.random.default_rng(1)
    for _ in range(20):
        slates = rng.integers(0, tiny_world.n_items, size=(3, 4))
        _, rewards, terminated, truncated, _ = batched.step(slates)
        for row, env in enumerate(singles):
            _, reward, term, trunc, _ = env.step(slates[row])
            assert (reward, term, trunc) == (rewards[row], terminated[row], truncated[row])
            if term or trunc:
                env.reset()


def test_position_bias_shows_in_simulated_choices(tiny_world) -> None:
    choice = ChoiceConfig(slate_size=2, position_decay=0.5)
    env = SlateVectorEnv(tiny_world, num_envs=4000, horizon=1, history_len=1, choice=choice)
    env.reset_tensors(seed=0)
    first = second = 0
    for order in ([3, 8], [8, 3]):  # each item at each position, so item appeal cancels
        step = env.sessions.step(torch.tensor(order).expand(4000, 2), env._rng, choice)
        first += int((step.chosen == 0).sum())
        second += int((step.chosen == 1).sum())
        env.reset_tensors(seed=1)
    assert second / first == pytest.approx(0.5, rel=0.15)


def test_top_k_ranks_allowed_items_first_and_fills_with_the_others() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.7], [0.1, 0.9, 0.5, 0.7]])
    shown = torch.tensor([[False, True, False, False], [True, True, True, False]])
    assert top_allowed(scores, ~shown, 2).tolist() == [[3, 2], [3, 1]]


def test_a_simulator_with_only_respond_serves_slates_of_one(fixed_sim) -> None:
    """A single item is a slate of one: a plug-in without respond_slate works in the slate envs and
    the slate evaluation at k = 1, with the click probability of `respond`."""
    one = ChoiceConfig(slate_size=1)
    env = SlateEnv(fixed_sim, horizon=3, choice=one)
    env.reset(seed=0, options={"user": 2})
    _, reward, *_ = env.step([0])
    assert reward == 1.0  # user 2 clicks everything
    vector = SlateVectorEnv(fixed_sim, num_envs=2, horizon=3, choice=one)
    vector.reset(seed=0)
    assert vector.step(np.zeros((2, 1), dtype=np.int64))[1].shape == (2,)
    results = evaluate(fixed_sim, {"order": OrderPolicy(5)}, EvalConfig(n_users=3, horizon=3, choice=one))
    assert results["policies"]["order"]["n_users"] == 3
    with pytest.raises(TypeError, match="respond_slate"):
        SlateEnv(fixed_sim, choice=ChoiceConfig(slate_size=1, no_click_weight=2.0))


def test_slates_are_evaluated_with_the_choice_model_and_novelty(tiny_world) -> None:
    popularity = np.arange(tiny_world.n_items)  # item 0 least logged: most novel
    config = EvalConfig(n_users=300, horizon=10, history_len=3, seed=0)
    slate_config = replace(config, choice=ChoiceConfig(slate_size=3))
    random, popular = RandomPolicy(tiny_world.n_items), PopularPolicy(popularity)
    single = evaluate(tiny_world, {"random": random}, config, popularity)["policies"]["random"]
    slates = evaluate(tiny_world, {"random": random, "popular": popular}, slate_config, popularity)[
        "policies"
    ]
    assert slates["random"]["ctr"] > single["ctr"]  # three chances to click instead of one
    assert slates["popular"]["novelty"] < slates["random"]["novelty"]
    information = self_information(popularity)
    top_three = information[np.argsort(-popularity)[:3]].mean()
    assert slates["popular"]["coverage"] >= 3 / tiny_world.n_items
    assert slates["popular"]["novelty"] >= top_three - 1e-6


def test_a_policy_that_serves_the_wrong_slate_size_is_refused(tiny_world) -> None:
    class OneItem:
        def act(self, observation, action_mask, generator, k=1):
            return torch.zeros(action_mask.shape[0], 1, dtype=torch.long)  # ignores k

    config = EvalConfig(n_users=4, horizon=3, history_len=3, choice=ChoiceConfig(slate_size=3))
    with pytest.raises(ValueError, match="shape"):
        evaluate(tiny_world, {"one": OneItem()}, config)


def test_the_registered_slate_ids_build_both_envs() -> None:
    import gymnasium as gym

    import recgym.envs  # noqa: F401  (registers the ids)

    env = gym.make("recgym/SyntheticWorld-Slate-v0", choice=ChoiceConfig(slate_size=3))
    env.reset(seed=0)
    assert env.action_space.shape == (3,)
    vector = gym.make_vec(
        "recgym/SyntheticWorld-Slate-v0", num_envs=4, vectorization_mode="vector_entry_point"
    )
    vector.reset(seed=0)
    assert vector.step(vector.action_space.sample())[1].shape == (4,)


def test_the_slate_env_renders_its_session_as_text(tiny_world) -> None:
    env = SlateEnv(
        tiny_world, horizon=5, history_len=2, choice=ChoiceConfig(slate_size=2), render_mode="ansi"
    )
    env.reset(seed=0, options={"user": 3})
    _, reward, *_ = env.step(np.array([4, 1]))
    item = env.sessions.history_items[0, -1].item() - 1  # the chosen item, or the first when none was
    assert env.render() == f"user 3, step 1 of 5, running; recent item:reward {item}:{reward:g}"
    with pytest.raises(RuntimeError, match="render_mode='ansi'"):
        SlateEnv(tiny_world).render()


def test_slate_envs_take_numpy_integers_and_refuse_bools(tiny_world) -> None:
    choice = ChoiceConfig(slate_size=np.int64(2))
    vector = SlateVectorEnv(tiny_world, num_envs=np.int32(3), horizon=np.uint8(4), choice=choice)
    assert vector.action_space.shape == (3, 2) and type(vector.choice.slate_size) is int
    vector.reset(seed=np.int64(0), options={"user": np.int8(1)})
    assert vector.step(np.ones((3, 2), dtype=np.uint32))[1].shape == (3,)
    env = SlateEnv(tiny_world, choice=ChoiceConfig(slate_size=2))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step([True, 1])
    for slate_size in (True, np.bool_(True), 2.5):
        with pytest.raises(ValueError, match="slate_size must be an integer"):
            ChoiceConfig(slate_size=slate_size)
    with pytest.raises((ValueError, TypeError), match="choice"):
        SlateEnv(tiny_world, choice={"slate_size": 2})
