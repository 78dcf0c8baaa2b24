"""Intervals of a mean over few replications (training seeds), kept inside the metric's range.

A single training run says little about an RL method; comparisons are over several seeds, with the
interval of the mean across seeds (Student's t, since there are few of them). With two or three seeds a
t-interval is wide and can leave the range a metric can take (a coverage above 1, a negative session
length), so intervals are clipped to `METRIC_RANGES` and say so (`"clipped": true`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

METRIC_RANGES: dict[str, tuple[float, float]] = {
    "session_length": (0.0, math.inf),
    "ctr": (0.0, 1.0),
    "coverage": (0.0, 1.0),
    "diversity": (0.0, 2.0),  # 1 - the mean pairwise cosine, which lies in [-1, 1]
    "novelty": (0.0, math.inf),
}
"""The values each evaluation metric can take (`return_mean` depends on the reward: unbounded here)."""


def mean_interval(
    values: Sequence[float], level: float = 0.95, bounds: tuple[float, float] = (-math.inf, math.inf)
) -> dict[str, Any]:
    """Mean over seeds with its Student-t interval (zero width for a single seed), clipped to bounds.

    :return: `{"mean", "ci95": [low, high], "values"}`, plus `"clipped": True` when a bound cut it.
    """
    array = np.asarray(values, dtype=np.float64)
    mean = float(array.mean())
    if len(array) < 2:
        return {"mean": mean, "ci95": [mean, mean], "values": array.tolist()}
    half = float(stats.t.ppf(0.5 + level / 2, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array)))
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    clipped = {"clipped": True} if (low, high) != (mean - half, mean + half) else {}
    return {"mean": mean, "ci95": [low, high], "values": array.tolist()} | clipped


def metric_interval(metric: str, values: Sequence[float]) -> dict[str, Any]:
    """`mean_interval` of an evaluation metric, clipped to its range."""
    return mean_interval(values, bounds=METRIC_RANGES.get(metric, (-math.inf, math.inf)))


def format_interval(summary: dict[str, Any], digits: int = 3) -> str:
    """`mean [low, high]`, with a dagger where the interval was clipped to the metric's range."""
    low, high = summary["ci95"]
    mark = "†" if summary.get("clipped") else ""
    return f"{summary['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]{mark}"
