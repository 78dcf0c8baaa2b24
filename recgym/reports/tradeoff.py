"""The long-term trade-off over seeds, summarised: every policy's return, session length and click rate
with 95% intervals, the paired (same seed, same users) difference of the agent and greedy, and plain
sentences on what the intervals say."""

from __future__ import annotations

from typing import Any

from recgym.reports.intervals import format_interval, mean_interval, metric_interval

METRICS = ("return_mean", "session_length", "ctr", "coverage", "diversity")
BASELINES = ("greedy", "popular", "random")


def summarize_tradeoff(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """The agent's name, each policy's intervals over seeds, the paired agent-minus-greedy intervals
    and the verdict, from one training run's results per seed."""
    names = list(per_seed[0]["policies"])
    agent = next(name for name in names if name not in BASELINES)
    policies = {
        name: {
            metric: metric_interval(metric, [run["policies"][name][metric] for run in per_seed])
            for metric in METRICS
        }
        for name in names
    }
    paired = {
        metric: mean_interval(
            [run["policies"][agent][metric] - run["policies"]["greedy"][metric] for run in per_seed]
        )
        for metric in ("return_mean", "session_length", "ctr")
    }
    return {
        "agent": agent,
        "policies": policies,
        f"{agent}_minus_greedy": paired,
        "verdict": verdict(agent, policies, paired),
    }


def verdict(agent: str, policies: dict[str, Any], paired: dict[str, Any]) -> list[str]:
    """Plain sentences on the trade-off, each backed by an interval that excludes zero or not."""
    best_ctr = max(policies, key=lambda name: policies[name]["ctr"]["mean"])

    def signed(metric: str, words: tuple[str, str, str]) -> str:
        low, high = paired[metric]["ci95"]
        text = words[0] if low > 0 else words[1] if high < 0 else words[2]
        return f"{text} ({agent} - greedy = {format_interval(paired[metric])})"

    return [
        f"highest click rate: {best_ctr} ({policies[best_ctr]['ctr']['mean']:.3f})",
        "sessions: "
        + signed("session_length", ("the agent's are longer", "greedy's are longer", "no clear difference")),
        "return: "
        + signed("return_mean", ("the agent earns more", "greedy earns more", "no clear difference")),
    ]


def markdown_report(results: dict[str, Any]) -> str:
    lines = [
        f"# Long-term trade-off: {results['env']}, seeds {results['seeds']}",
        "",
        "Mean over seeds [95% t-interval]:",
        "",
        "| policy | return | session length | CTR | coverage | diversity |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    ranked = sorted(results["policies"].items(), key=lambda item: -item[1]["return_mean"]["mean"])
    for name, metrics in ranked:
        lines.append(f"| {name} | " + " | ".join(format_interval(metrics[m]) for m in METRICS) + " |")
    lines += ["", *[f"- {sentence}" for sentence in results["verdict"]]]
    return "\n".join(lines) + "\n"
