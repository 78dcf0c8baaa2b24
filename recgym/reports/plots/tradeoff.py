"""The trade-off figure: each policy's return, session length and click rate with intervals over seeds."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from recgym.runs.checkpoint import atomic_write_bytes  # noqa: E402

PANELS = (("return_mean", "return per session"), ("session_length", "session length"), ("ctr", "click rate"))


def plot_tradeoff(policies: dict[str, dict[str, Any]], path: Path, title: str) -> None:
    """Three bar panels, one bar per policy, error bars at the 95% interval over seeds."""
    figure, axes = plt.subplots(1, len(PANELS), figsize=(11, 3.2))
    names = list(policies)
    for axis, (metric, label) in zip(axes, PANELS, strict=True):
        means = [policies[name][metric]["mean"] for name in names]
        errors = [
            [mean - policies[name][metric]["ci95"][0] for name, mean in zip(names, means, strict=True)],
            [policies[name][metric]["ci95"][1] - mean for name, mean in zip(names, means, strict=True)],
        ]
        axis.bar(names, means, yerr=errors, capsize=4, color=[f"C{k}" for k in range(len(names))])
        axis.set_title(label)
        axis.tick_params(axis="x", rotation=30)
    figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
