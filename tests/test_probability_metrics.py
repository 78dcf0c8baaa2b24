"""Probability metrics against hand-computed values; recalibration recovers known distortions."""

import math

import numpy as np
import pytest
import torch

from recgym.models.probability_metrics import (
    auc,
    expected_calibration_error,
    fit_isotonic,
    fit_temperature,
    log_loss,
    reliability_table,
)

P = np.array([0.1, 0.2, 0.7, 0.9])
Y = np.array([0, 1, 1, 1])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from q, predictions sigmoid(3 * logit(q)): right order, too sure."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(0.0, 1.0, n)
    labels = (rng.random(n) < sigmoid(logit)).astype(np.int64)
    return sigmoid(3.0 * logit), labels


def test_ece_by_hand() -> None:
    # bin [0, 0.5): mean p 0.15, rate 0.5 -> gap 0.35; bin [0.5, 1]: mean p 0.8, rate 1 -> gap 0.2.
    assert expected_calibration_error(P, Y, bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.2)
    # with 10 bins every prediction has its own bin: mean |p - y| = (0.1 + 0.8 + 0.3 + 0.1) / 4.
    assert expected_calibration_error(P, Y, bins=10) == pytest.approx(1.3 / 4)


def test_reliability_table_by_hand() -> None:
    table = reliability_table(P, Y, bins=4)
    assert table["lower"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert table["upper"].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert table["count"].tolist() == [2, 0, 1, 1]
    assert table["mean_predicted"].tolist()[0] == pytest.approx(0.15)
    assert table["observed_rate"].tolist()[0] == pytest.approx(0.5)
    assert np.isnan(table.loc[1, "mean_predicted"]) and np.isnan(table.loc[1, "observed_rate"])
    assert table["observed_rate"].tolist()[2:] == [1.0, 1.0]


def test_edges_go_to_the_upper_bin_and_one_to_the_last() -> None:
    table = reliability_table(np.array([0.0, 0.5, 1.0]), np.array([0, 1, 1]), bins=2)
    assert table["count"].tolist() == [1, 2]


def test_auc_and_log_loss_by_hand() -> None:
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered right.
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    expected = -(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.9)) / 4
    assert log_loss(P, Y) == pytest.approx(expected)


def test_torch_inputs_match_numpy() -> None:
    p_t, y_t = torch.tensor(P, dtype=torch.float32), torch.tensor(Y)
    assert auc(p_t, y_t) == pytest.approx(auc(P, Y))
    assert log_loss(p_t, y_t) == pytest.approx(log_loss(P, Y), rel=1e-6)
    assert expected_calibration_error(p_t, y_t.bool()) == pytest.approx(expected_calibration_error(P, Y))


def test_calibrated_sample_has_small_ece_overconfident_large() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    labels = (rng.random(p.size) < p).astype(np.int64)
    assert expected_calibration_error(p, labels) < 0.02
    p_over, labels_over = overconfident(20_000, seed=1)
    assert expected_calibration_error(p_over, labels_over) > 0.1


@pytest.mark.parametrize(("fit_bias", "bias"), [(False, 0.0), (True, -1.0)])
def test_temperature_scaling_recovers_known_temperature(fit_bias: bool, bias: float) -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(0.0, 4.0, 50_000)
    labels = (rng.random(logits.size) < sigmoid(logits / 2.5 + bias)).astype(np.int64)
    temperature, fitted_bias = fit_temperature(torch.tensor(logits), labels, fit_bias=fit_bias)
    assert temperature == pytest.approx(2.5, rel=0.05)
    assert fitted_bias == pytest.approx(bias, abs=0.05)


def test_temperature_scaling_lowers_ece_of_an_overconfident_model() -> None:
    p, labels = overconfident(20_000, seed=3)
    logits = np.log(p / (1 - p))
    temperature, _ = fit_temperature(logits, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    assert expected_calibration_error(sigmoid(logits / temperature), labels) < 0.02


def test_isotonic_reduces_ece_on_fresh_data() -> None:
    p_fit, labels_fit = overconfident(20_000, seed=4)
    p_eval, labels_eval = overconfident(20_000, seed=5)
    recalibrate = fit_isotonic(p_fit, labels_fit)
    fixed = recalibrate(torch.tensor(p_eval))
    assert fixed.shape == p_eval.shape and ((fixed >= 0) & (fixed <= 1)).all()
    assert np.all(np.diff(recalibrate(np.linspace(0, 1, 101))) >= 0)  # monotone
    before = expected_calibration_error(p_eval, labels_eval)
    assert expected_calibration_error(fixed, labels_eval) < before / 4


@pytest.mark.parametrize(
    ("probabilities", "labels", "message"),
    [
        (np.array([]), np.array([]), "probabilities is empty"),
        (np.array([0.1, 0.2]), np.array([0, 1, 1]), "differ in length: 2 vs 3"),
        (np.array([0.1, np.nan]), np.array([0, 1]), "1 NaN or infinite"),
        (np.array([0.1, 1.5]), np.array([0, 1]), r"must lie in \[0, 1\]"),
        (np.array([0.1, 0.2]), np.array([0, 2]), "labels must be 0 or 1"),
        (np.array([0.1, 0.2]), np.array([0, np.nan]), "labels has 1 NaN"),
        (np.zeros((2, 2)), np.zeros(4), "must be 1-D"),
    ],
)
def test_bad_input(probabilities: np.ndarray, labels: np.ndarray, message: str) -> None:
    for metric in (auc, log_loss, expected_calibration_error, reliability_table, fit_isotonic):
        with pytest.raises(ValueError, match=message):
            metric(probabilities, labels)


def test_single_class() -> None:
    with pytest.raises(ValueError, match="AUC needs both classes"):
        auc(np.array([0.2, 0.8]), np.array([1, 1]))
    with pytest.raises(ValueError, match="needs both classes"):
        fit_temperature(np.array([-1.0, 2.0]), np.array([0, 0]))
    expected = -(math.log(0.2) + math.log(0.8)) / 2
    assert log_loss(np.array([0.2, 0.8]), np.array([1, 1])) == pytest.approx(expected)


def test_logits_may_be_any_finite_value_but_not_nan() -> None:
    fit_temperature(np.array([-30.0, 30.0, 1.0]), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="logits has 1 NaN"):
        fit_temperature(np.array([np.nan, 1.0]), np.array([0, 1]))


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bins must be at least 1"):
        expected_calibration_error(P, Y, bins=0)
