"""The sim-to-real figure: each policy's return in the simulator against its return in the true world."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from recgym.runs.checkpoint import atomic_write_bytes  # noqa: E402


def plot_sim_vs_real(policies: dict[str, dict[str, Any]], path: Path) -> None:
    """One point per policy with 95% intervals on both axes; on the diagonal the simulator is exact."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    highest = 0.0
    for k, (name, row) in enumerate(policies.items()):
        x, y = row["truth"], row["simulator"]
        axis.errorbar(
            x["mean"],
            y["mean"],
            xerr=[[x["mean"] - x["ci95"][0]], [x["ci95"][1] - x["mean"]]],
            yerr=[[y["mean"] - y["ci95"][0]], [y["ci95"][1] - y["mean"]]],
            fmt="o",
            color=f"C{k}",
            label=name,
            capsize=3,
        )
        highest = max(highest, x["ci95"][1], y["ci95"][1])
    axis.plot([0, highest * 1.05], [0, highest * 1.05], color="grey", linestyle=":", linewidth=1)
    axis.set(xlabel="return in the true world", ylabel="return in the fitted simulator", title="Sim vs real")
    axis.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
