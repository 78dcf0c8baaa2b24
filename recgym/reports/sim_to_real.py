"""Sim-to-real over seeds, summarised: each policy's return in the simulator and in the truth, the gap,
the true session length, and how well the simulator ranks the policies (Kendall's tau)."""

from __future__ import annotations

from typing import Any

from scipy.stats import kendalltau

from recgym.reports.intervals import format_interval, mean_interval, metric_interval


def summarize_sim_to_real(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Intervals over seeds of every policy's return in both worlds and their gap, and Kendall's tau
    per seed and of the means."""
    names = list(per_seed[0]["truth"])

    def returns(side: str, name: str) -> list[float]:
        return [run[side][name]["return_mean"] for run in per_seed]

    policies = {
        name: {
            "simulator": mean_interval(returns("simulator", name)),
            "truth": mean_interval(returns("truth", name)),
            "gap": mean_interval(
                [
                    sim - true
                    for sim, true in zip(returns("simulator", name), returns("truth", name), strict=True)
                ]
            ),
            "truth_session_length": metric_interval(
                "session_length", [run["truth"][name]["session_length"] for run in per_seed]
            ),
        }
        for name in names
    }
    means = [[policies[name][side]["mean"] for name in names] for side in ("simulator", "truth")]
    return {
        "policies": policies,
        "kendall_tau": mean_interval([run["kendall_tau"] for run in per_seed]),
        "kendall_tau_of_means": float(kendalltau(*means).statistic),
    }


def markdown_report(results: dict[str, Any]) -> str:
    lines = [
        f"# Sim-to-real on the synthetic world, seeds {results['seeds']}",
        "",
        "Return per session, mean over seeds [95% t-interval]; gap = simulator - truth:",
        "",
        "| policy | in the simulator | in the true world | gap | true session length |",
        "| --- | --- | --- | --- | --- |",
    ]
    ranked = sorted(results["policies"].items(), key=lambda item: -item[1]["truth"]["mean"])
    for name, row in ranked:
        cells = [format_interval(row[key]) for key in ("simulator", "truth", "gap", "truth_session_length")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Kendall's tau between the simulator's and the truth's ranking of the {len(ranked)} policies: "
        f"{format_interval(results['kendall_tau'])} per seed; "
        f"{results['kendall_tau_of_means']:.3f} on the means.",
    ]
    return "\n".join(lines) + "\n"
