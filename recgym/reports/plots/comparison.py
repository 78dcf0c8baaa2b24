"""Figures of a comparison: learning curves with bands, returns with intervals, return against CTR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

AGENT_COLOUR, BASELINE_COLOUR = "tab:blue", "tab:grey"


def _interval(policy: dict[str, Any], metric: str) -> tuple[float, float, float]:
    low, high = policy[metric]["ci95"]
    return policy[metric]["mean"], low, high


def plot_learning_curves(summary: dict[str, Any], path: Path) -> None:
    """Each agent's served return during training (mean over seeds, 95% band); the best baseline,
    popular and random as horizontal lines."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, curve in summary["curves"].items():
        if not curve["timesteps"]:
            continue
        (line,) = axes.plot(curve["timesteps"], curve["mean"], label=name)
        axes.fill_between(curve["timesteps"], curve["low"], curve["high"], color=line.get_color(), alpha=0.2)
    for name, style in ((summary["best_baseline"], "--"), ("popular", ":"), ("random", "-.")):
        if name in summary["policies"]:
            mean = summary["policies"][name]["return_mean"]["mean"]
            axes.axhline(mean, color="black", linestyle=style, linewidth=1, label=f"{name} (final)")
    axes.set_xlabel("training steps")
    axes.set_ylabel("return per session (curve users)")
    axes.set_title("Learning curves: mean over each agent's seeds, 95% band")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_returns(summary: dict[str, Any], path: Path) -> None:
    """Mean return of every policy with its 95% interval over seeds, best first."""
    ranked = sorted(summary["policies"].items(), key=lambda item: item[1]["return_mean"]["mean"])
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(ranked) + 1.2))
    for row, (_, policy) in enumerate(ranked):
        mean, low, high = _interval(policy, "return_mean")
        colour = AGENT_COLOUR if policy["kind"] == "agent" else BASELINE_COLOUR
        axes.barh(row, mean, color=colour)
        axes.errorbar(mean, row, xerr=[[mean - low], [high - mean]], color="black", capsize=3)
    axes.set_yticks(range(len(ranked)), [name for name, _ in ranked])
    axes.set_xlabel("return per session (mean over seeds, 95% CI)")
    axes.set_title("Agents (blue) and baselines (grey)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_return_against_ctr(summary: dict[str, Any], path: Path) -> None:
    """Return against click-through rate: a policy can click more per step and still earn less."""
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for name, policy in summary["policies"].items():
        y, y_low, y_high = _interval(policy, "return_mean")
        x, x_low, x_high = _interval(policy, "ctr")
        colour = AGENT_COLOUR if policy["kind"] == "agent" else BASELINE_COLOUR
        axes.errorbar(
            x, y, xerr=[[x - x_low], [x_high - x]], yerr=[[y - y_low], [y_high - y]], fmt="o", color=colour
        )
        axes.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel("CTR (clicks per recommendation step)")
    axes.set_ylabel("return per session")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_comparison(folder: Path, summary: dict[str, Any]) -> None:
    """learning_curves.png, returns.png and return_vs_ctr.png in folder."""
    plot_learning_curves(summary, folder / "learning_curves.png")
    plot_returns(summary, folder / "returns.png")
    plot_return_against_ctr(summary, folder / "return_vs_ctr.png")
