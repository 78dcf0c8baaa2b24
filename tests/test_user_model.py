"""Fitting, calibrating and caching a user model; the log-fitted simulator built on it."""

from __future__ import annotations

import pytest
import torch

from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models.calibration import fit_platt, fit_rating_map
from recgym.models.fitted import UserModelConfig, cache_key, fit_user_model
from recgym.models.training import TrainConfig
from recgym.random import RowStreams
from recgym.simulators.log_fitted import LogFittedSimulator
from recgym.simulators.world import WorldConfig

TINY_LOGS = LoggingConfig(world=WorldConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=6)
FAST = UserModelConfig(train=TrainConfig(epochs=2))


def test_platt_scaling_recovers_a_known_slope_and_intercept() -> None:
    generator = torch.Generator().manual_seed(0)
    raw = torch.randn(20_000, generator=generator) * 2
    labels = (torch.rand(20_000, generator=generator) < torch.sigmoid(0.5 * raw - 1.0)).float()
    slope, intercept = fit_platt(raw, labels)
    assert slope == pytest.approx(0.5, abs=0.05)
    assert intercept == pytest.approx(-1.0, abs=0.05)


def test_rating_map_is_least_squares_and_flat_for_constant_logits() -> None:
    raw = torch.tensor([0.0, 1.0, 2.0])
    assert fit_rating_map(raw, torch.tensor([1.0, 3.0, 5.0])) == pytest.approx((2.0, 1.0))
    assert fit_rating_map(torch.zeros(3), torch.tensor([2.0, 4.0, 3.0])) == pytest.approx((0.0, 3.0))


def test_calibrated_click_rate_matches_the_logs() -> None:
    log, _ = generate_logs(TINY_LOGS)
    fitted = fit_user_model(log, FAST, progress=False)
    frame = log.frame
    probability = torch.sigmoid(
        fitted.click_logits(torch.tensor(frame["user"].to_numpy()))[
            torch.arange(len(frame)), torch.tensor(frame["item"].to_numpy())
        ]
    )
    assert float(probability.mean()) == pytest.approx(frame["rating"].mean(), abs=0.05)


def test_cache_hit_returns_the_same_model_and_corruption_refits(tmp_path) -> None:
    log, _ = generate_logs(TINY_LOGS)
    first = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    second = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert second.calibration == first.calibration
    weights = tmp_path / cache_key(log, FAST) / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.warns(UserWarning, match="checksum"):
        third = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    assert third.metrics == first.metrics


def test_cache_key_depends_on_config_and_data() -> None:
    log, _ = generate_logs(TINY_LOGS)
    other_log, _ = generate_logs(LoggingConfig(world=TINY_LOGS.world, sessions_per_user=6, seed=1))
    assert cache_key(log, FAST) != cache_key(log, UserModelConfig(train=TrainConfig(epochs=3)))
    assert cache_key(log, FAST) != cache_key(other_log, FAST)


def test_log_fitted_simulator_follows_the_model_and_reward_kinds() -> None:
    log, _ = generate_logs(TINY_LOGS)
    fitted = fit_user_model(log, FAST, progress=False)
    simulator = LogFittedSimulator(fitted)
    users = torch.arange(5)
    state = simulator.initial_state(users, RowStreams.from_seed(0, 5))
    items = torch.tensor([0, 1, 2, 3, 4])
    expected = torch.sigmoid(fitted.click_logits(users)[torch.arange(5), items])
    assert torch.allclose(simulator.click_probability(state, items), expected, atol=1e-5)
    with pytest.raises(ValueError, match="reward"):
        LogFittedSimulator(fitted, reward="watch-time")
