"""The comparison's summary across seeds: intervals, tests against the best baseline, CSV, table, TensorBoard.

Seeds are the unit of replication (an RL result varies more between training seeds than between
evaluated users): each metric's interval is Student's t over the per-seed means, and each agent is
tested against the best baseline (highest mean return) with a paired t-test over seeds, the pairs
sharing their evaluated users and random streams; p-values are Holm-adjusted across agents.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import stats

from recgym.reports.intervals import format_interval, mean_interval, metric_interval
from recgym.reports.tags import EVAL_METRICS, eval_tag
from recgym.runs.checkpoint import atomic_write_json, atomic_write_text

METRICS = EVAL_METRICS
"""Per-policy metrics summarised across seeds (return, session length, CTR, coverage, diversity, novelty)."""


class ComparisonSettings(Protocol):
    seeds: tuple[int, ...]


def load_cells(folder: Path, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """The finished cells of the chosen seeds."""
    cells = [json.loads(path.read_text()) for path in sorted((folder / "cells").glob("*.json"))]
    return [cell for cell in cells if cell["seed"] in seeds]


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values (family-wise error over the agents tested)."""
    ordered = sorted(p_values, key=p_values.get)  # type: ignore[arg-type]
    adjusted, running = {}, 0.0
    for rank, name in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted


def _curve(cells: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Mean and t-interval of the return at each curve point shared by all seeds."""
    by_step: dict[int, list[float]] = {}
    for cell in cells:
        for point in cell["curve"]:
            by_step.setdefault(point["timesteps"], []).append(point["return_mean"])
    steps = sorted(step for step, values in by_step.items() if len(values) == len(cells))
    summaries = [mean_interval(by_step[step]) for step in steps]
    return {
        "timesteps": steps,
        "mean": [s["mean"] for s in summaries],
        "low": [s["ci95"][0] for s in summaries],
        "high": [s["ci95"][1] for s in summaries],
    }


def summarize_comparison(folder: Path, args: ComparisonSettings) -> dict[str, Any]:
    """Per-policy intervals, the tests of every agent against the best baseline, and learning curves,
    over every policy with finished cells of the chosen seeds (agents of earlier runs included)."""
    cells = load_cells(folder, tuple(args.seeds))
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        by_policy.setdefault(cell["policy"], []).append(cell)
    policies = {}
    for name, group in by_policy.items():
        group.sort(key=lambda cell: cell["seed"])
        metrics = {
            metric: metric_interval(metric, [cell["summary"][metric] for cell in group])
            for metric in METRICS
            if all(cell["summary"].get(metric) is not None for cell in group)
        }
        policies[name] = {"kind": group[0]["kind"], "seeds": [cell["seed"] for cell in group], **metrics}
    baselines = [name for name, p in policies.items() if p["kind"] == "baseline"]
    agents = [name for name, p in policies.items() if p["kind"] == "agent"]  # every one finished here
    best = max(baselines, key=lambda name: policies[name]["return_mean"]["mean"]) if baselines else None
    tests = _tests(policies, agents, best) if best else {}
    curves = {name: _curve(by_policy[name]) for name in agents}
    return {
        "seeds": list(args.seeds),
        "best_baseline": best,
        "policies": policies,
        "tests": tests,
        "curves": curves,
    }


def _tests(policies: dict[str, Any], agents: list[str], best: str) -> dict[str, Any]:
    reference = dict(zip(policies[best]["seeds"], policies[best]["return_mean"]["values"], strict=True))
    tests: dict[str, dict[str, Any]] = {}
    p_values: dict[str, float] = {}
    for name in agents:
        pairs = [
            (value, reference[seed])
            for seed, value in zip(
                policies[name]["seeds"], policies[name]["return_mean"]["values"], strict=True
            )
            if seed in reference
        ]
        differences = [a - b for a, b in pairs]
        test = {"against": best, "difference": mean_interval(differences), "n_seeds": len(pairs)}
        if len(pairs) >= 2 and np.std(differences) > 0:
            p_values[name] = float(stats.ttest_rel(*zip(*pairs, strict=True)).pvalue)
            test["p_value"] = p_values[name]
        tests[name] = test
    for name, adjusted in holm(p_values).items():
        tests[name]["p_holm"] = adjusted
        better = tests[name]["difference"]["mean"] > 0
        tests[name]["verdict"] = (
            ("better" if better else "worse") if adjusted < 0.05 else "no significant difference"
        )
    return tests


def markdown_summary(summary: dict[str, Any]) -> str:
    """Policies by mean return, with intervals over seeds and each agent's test against the best baseline."""
    columns = ("policy", "seeds", "return", "session length", "CTR", "coverage", "diversity", "novelty")
    header = "| " + " | ".join(columns) + " | vs best baseline |"
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    ranked = sorted(summary["policies"].items(), key=lambda item: -item[1]["return_mean"]["mean"])
    for name, policy in ranked:
        cells = [format_interval(policy[m]) if m in policy else "-" for m in METRICS]
        test = summary["tests"].get(name)
        versus = "(best baseline)" if name == summary["best_baseline"] else ""
        if test:
            versus = f"{test['difference']['mean']:+.3f}, p = {test.get('p_holm', float('nan')):.3g}"
        lines.append(f"| {name} | {len(policy['seeds'])} | " + " | ".join(cells) + f" | {versus} |")
    note = (
        "\nMeans over seeds with 95% t-intervals; vs best baseline: the paired difference in return "
        f"against {summary['best_baseline']} on the same seeds, and its Holm-adjusted p-value "
        "(paired t-test). † marks an interval clipped to the range the metric can take (with few seeds a "
        "t-interval can leave it).\n"
    )
    return "\n".join(lines) + "\n" + note


def csv_summary(summary: dict[str, Any]) -> str:
    """One row per policy: kind, each metric's mean and interval, the test against the best baseline."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [f"{m}_{part}" for m in METRICS for part in ("mean", "low", "high")]
    writer.writerow(["policy", "kind", "n_seeds", *columns, "diff_vs_best_baseline", "p_value", "p_holm"])
    for name, policy in summary["policies"].items():
        values = []
        for metric in METRICS:
            interval = policy.get(metric)
            values += [interval["mean"], *interval["ci95"]] if interval else ["", "", ""]
        test = summary["tests"].get(name, {})
        difference = test.get("difference", {}).get("mean", "")
        writer.writerow(
            [
                name,
                policy["kind"],
                len(policy["seeds"]),
                *values,
                difference,
                test.get("p_value", ""),
                test.get("p_holm", ""),
            ]
        )
    return buffer.getvalue()


def write_comparison(folder: Path, summary: dict[str, Any], total_timesteps: int) -> None:
    """results.json, results.csv, results.md and TensorBoard runs `tensorboard/<policy>/seed<s>`."""
    atomic_write_json(folder / "results.json", summary)
    atomic_write_text(folder / "results.csv", csv_summary(summary))
    atomic_write_text(folder / "results.md", markdown_summary(summary))
    _log_tensorboard(folder, summary["seeds"], total_timesteps)


def _log_tensorboard(folder: Path, seeds: list[int], total_timesteps: int) -> None:
    """Every policy under the same `eval/` tags: an agent's curve points and final evaluation, a
    baseline's evaluation at the start and the end of training (a flat line to compare against)."""
    from torch.utils.tensorboard import SummaryWriter

    for cell in load_cells(folder, tuple(seeds)):
        run = folder / "tensorboard" / cell["policy"] / f"seed{cell['seed']}"
        if run.exists():
            continue
        with SummaryWriter(str(run)) as writer:
            for point in cell["curve"]:
                writer.add_scalar(eval_tag("curve_return_mean"), point["return_mean"], point["timesteps"])
            steps = [total_timesteps] if cell["kind"] == "agent" else [0, total_timesteps]
            for step in steps:
                for metric in METRICS:
                    if cell["summary"].get(metric) is not None:
                        writer.add_scalar(eval_tag(metric), cell["summary"][metric], step)
