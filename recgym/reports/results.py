"""Evaluation results as a markdown table, results.json and TensorBoard scalars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recgym.reports.tags import EVAL_METRICS, eval_tag
from recgym.runs.checkpoint import atomic_write_text
from recgym.runs.folders import finish_run_dir


def markdown_table(results: dict[str, Any]) -> str:
    """One row per policy, best mean return first."""
    header = "| policy | return (95% CI) | session length | CTR | coverage | diversity | novelty | users |"
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    ranked = sorted(results["policies"].items(), key=lambda item: -item[1]["return_mean"])
    for name, m in ranked:
        low, high = m["return_ci95"]
        lines.append(
            f"| {name} | {m['return_mean']:.3f} [{low:.3f}, {high:.3f}] | {m['session_length']:.2f} | "
            f"{m['ctr']:.3f} | {m['coverage']:.3f} | {m['diversity']:.3f} | "
            f"{'-' if m.get('novelty') is None else format(m['novelty'], '.2f')} | {m['n_users']} |"
        )
    return "\n".join(lines) + "\n"


def describe_user_model(model: str, metrics: dict[str, Any]) -> str:
    """One line of a fitted user model's test figures, for the console."""
    parts = []
    sampled, full = metrics.get("sampled"), metrics.get("full")
    if sampled:
        negatives = metrics.get("n_negatives", 99)
        parts.append(
            f"test HR@10 {sampled['hr@10']:.3f} / NDCG@10 {sampled['ndcg@10']:.3f} against {negatives} "
            "sampled negatives"
        )
    if full:
        parts.append(f"{full['hr@10']:.3f} / {full['ndcg@10']:.3f} under full ranking")
    if metrics.get("auc") is not None:
        parts.append(
            f"click AUC {metrics['auc']:.3f}, log-loss {metrics['logloss']:.3f}, ECE {metrics['ece']:.3f}"
        )
    return f"user model {model}: " + ("; ".join(parts) or "no held-out test figures")


def describe_dynamics(report: dict[str, Any]) -> str:
    """One line of what learning the dynamics found: sessions used and the leave model's held-out fit
    beside the hand rule's."""
    held_out = report["leave"]["held_out"]
    scores = ", ".join(
        f"{name} log-loss {row['log_loss']:.3f} / AUC {row['auc']:.3f}" for name, row in held_out.items()
    )
    return f"dynamics learned from {report['sessions']} sessions; leave model on held-out sessions: {scores}"


def write_results(folder: str | Path, results: dict[str, Any]) -> None:
    """results.md, then results.json (schema in docs/results.md), both written atomically; the run
    folder's UNFINISHED mark goes with the last."""
    folder = Path(folder)
    atomic_write_text(folder / "results.md", markdown_table(results))
    finish_run_dir(folder, results)


def log_to_tensorboard(folder: str | Path, results: dict[str, Any], step: int) -> None:
    """Each policy's metrics under the same `eval/` tags, in its own run folder `eval_<policy>`, so
    TensorBoard overlays the policies."""
    from torch.utils.tensorboard import SummaryWriter

    for name, metrics in results["policies"].items():
        with SummaryWriter(str(Path(folder) / f"eval_{name}")) as writer:
            for metric in EVAL_METRICS:
                if metrics.get(metric) is not None:
                    writer.add_scalar(eval_tag(metric), metrics[metric], step)
