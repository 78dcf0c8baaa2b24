"""Is a predicted click/like probability a probability? Metrics against binary labels and recalibration.

A simulator's reward is drawn from its predicted probability, so a model that ranks well (high AUC)
but says 0.4 where users like 1 item in 10 simulates the wrong amount of reward. Discrimination is
measured by AUC, the whole probability by log-loss, calibration alone by the expected calibration
error (ECE) and the reliability table behind it (Guo et al., "On Calibration of Modern Neural
Networks", ICML 2017). Two recalibrations are fitted on validation data: temperature scaling (Guo et
al.), which only rescales logits and so keeps the ranking, and isotonic regression (Zadrozny & Elkan,
KDD 2002), a monotone step function that can fix any monotone distortion but needs more data.

Every function takes 1-D NumPy arrays or torch tensors of equal length and raises `ValueError` on
empty input, mismatched lengths, NaN or infinite values, probabilities outside [0, 1] and labels that
are not 0/1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

ArrayLike = np.ndarray | torch.Tensor


def auc(probabilities: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: the chance a random positive is scored above a random negative
    (ties count half). Raises `ValueError` when labels hold one class, where it is undefined."""
    p, y = _checked(probabilities, labels)
    if np.unique(y).size < 2:
        raise ValueError(f"AUC needs both classes in labels; all {y.size} labels are {int(y[0])}")
    from sklearn.metrics import roc_auc_score  # scikit-learn costs a second to import: on first use

    return float(roc_auc_score(y, p))


def log_loss(probabilities: ArrayLike, labels: ArrayLike) -> float:
    """Mean negative log-likelihood of the labels (natural log). Probabilities of exactly 0 or 1 are
    clipped by scikit-learn to the float64 machine epsilon, so a confident mistake costs about 36."""
    p, y = _checked(probabilities, labels)
    from sklearn.metrics import log_loss as sklearn_log_loss

    return float(sklearn_log_loss(y, p, labels=[0, 1]))


def reliability_table(probabilities: ArrayLike, labels: ArrayLike, bins: int = 15) -> pd.DataFrame:
    """Per equal-width bin of predicted probability: what was predicted and what happened.

    Bin b covers [b / bins, (b + 1) / bins), the last one also 1.0. Columns: `lower`, `upper` (bin
    edges), `mean_predicted`, `observed_rate` (share of positive labels), `count`. Every bin has a
    row; empty bins have count 0 and NaN means, so a plot shows the gap rather than hiding it.
    """
    p, y = _checked(probabilities, labels)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    index = np.minimum((p * bins).astype(np.int64), bins - 1)  # [N]
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins give NaN
        mean_predicted = np.bincount(index, weights=p, minlength=bins) / count
        observed_rate = np.bincount(index, weights=y, minlength=bins) / count
    edges = np.arange(bins + 1) / bins
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "mean_predicted": mean_predicted,
            "observed_rate": observed_rate,
            "count": count,
        }
    )


def expected_calibration_error(probabilities: ArrayLike, labels: ArrayLike, bins: int = 15) -> float:
    """ECE = sum over bins of (count / N) * |mean predicted - observed rate|, with the equal-width bins
    of `reliability_table` (Guo et al. 2017; 15 bins as there). 0 for a calibrated model; it ignores
    ranking, so a constant prediction of the base rate scores 0 too: read it beside AUC."""
    table = reliability_table(probabilities, labels, bins)
    filled = table[table["count"] > 0]
    gap = (filled["mean_predicted"] - filled["observed_rate"]).abs()
    return float((gap * filled["count"]).sum() / filled["count"].sum())


def fit_temperature(
    logits: ArrayLike, labels: ArrayLike, fit_bias: bool = False, steps: int = 200
) -> tuple[float, float]:
    """Temperature T > 0 and bias b minimising the log-loss of sigmoid(logit / T + b) on validation data.

    With `fit_bias=False` (the default) b is 0 and this is Guo et al.'s temperature scaling: one
    parameter, ranking unchanged, but it cannot move the base rate. `fit_bias=True` also fits b, which
    is Platt scaling with slope 1 / T: needed when the rate of positives differs between the data the
    model was fitted on and the data it is used on (e.g. self-selected vs. random exposure).

    :param logits: [N] logits of the model being recalibrated (any finite values).
    :param labels: [N] 0/1 outcomes.
    :param fit_bias: also fit the bias b.
    :param steps: most L-BFGS iterations.
    :return: (temperature, bias).
    """
    z, y = _checked(logits, labels, probabilities=False)
    if np.unique(y).size < 2:
        raise ValueError(f"temperature scaling needs both classes in labels; all are {int(y[0])}")
    z_t, y_t = torch.from_numpy(z), torch.from_numpy(y)
    log_inverse_t = torch.zeros((), dtype=torch.float64, requires_grad=True)  # T = exp(-log_inverse_t)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=fit_bias)
    params = [log_inverse_t, bias] if fit_bias else [log_inverse_t]
    optimizer = torch.optim.LBFGS(params, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(z_t * log_inverse_t.exp() + bias, y_t)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float((-log_inverse_t.detach()).exp()), float(bias.detach())


def fit_isotonic(probabilities: ArrayLike, labels: ArrayLike) -> Callable[[ArrayLike], np.ndarray]:
    """A non-decreasing map from predicted probability to observed rate, fitted on validation data.

    Uses scikit-learn's `IsotonicRegression` with outputs in [0, 1] and inputs outside the fitted range
    clipped to its ends. The returned function takes probabilities [N] and returns recalibrated ones
    [N] (NumPy). The map is a step function: it can output exactly 0 or 1, and ties that were not ties
    before lower AUC a little.
    """
    p, y = _checked(probabilities, labels)
    from sklearn.isotonic import IsotonicRegression

    regression = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    regression.fit(p, y)

    def recalibrate(new: ArrayLike) -> np.ndarray:
        return regression.predict(_vector(new, "probabilities", probabilities=True))

    return recalibrate


def _checked(
    values: ArrayLike, labels: ArrayLike, probabilities: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 copies of values [N] and 0/1 labels [N], or `ValueError` saying what is wrong."""
    name = "probabilities" if probabilities else "logits"
    v = _vector(values, name, probabilities)
    y = _vector(labels, "labels", probabilities=False)
    if v.size != y.size:
        raise ValueError(f"{name} and labels differ in length: {v.size} vs {y.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 or 1; found {np.unique(y[~np.isin(y, (0.0, 1.0))])[:5]}")
    return v, y


def _vector(values: ArrayLike, name: str, probabilities: bool) -> np.ndarray:
    raw = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values
    array = np.asarray(raw, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has {int((~np.isfinite(array)).sum())} NaN or infinite values")
    if probabilities and ((array < 0.0) | (array > 1.0)).any():
        raise ValueError(f"{name} must lie in [0, 1]; found min {array.min()}, max {array.max()}")
    return array
