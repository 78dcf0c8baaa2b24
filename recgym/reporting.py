"""Evaluation results as a markdown table, results.json and TensorBoard scalars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recgym.checkpoint import atomic_write_json, atomic_write_text
from recgym.tags import EVAL_METRICS, FIT_LOSS, FIT_VALID_HR, FIT_VALID_NDCG, eval_tag


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


def write_results(folder: str | Path, results: dict[str, Any]) -> None:
    """results.json (schema in docs/results_schema.md) and results.md, both written atomically."""
    folder = Path(folder)
    atomic_write_json(folder / "results.json", results)
    atomic_write_text(folder / "results.md", markdown_table(results))


def log_to_tensorboard(folder: str | Path, results: dict[str, Any], step: int) -> None:
    """Each policy's metrics under the same `eval/` tags, in its own run folder `eval_<policy>`, so
    TensorBoard overlays the policies."""
    from torch.utils.tensorboard import SummaryWriter

    for name, metrics in results["policies"].items():
        with SummaryWriter(str(Path(folder) / f"eval_{name}")) as writer:
            for metric in EVAL_METRICS:
                if metrics.get(metric) is not None:
                    writer.add_scalar(eval_tag(metric), metrics[metric], step)


def log_fit_curves(folder: str | Path, history: list[dict[str, float]]) -> None:
    """A user model's training curve (loss, validation HR@10 and NDCG@10 per epoch) under `fit/`."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(folder)) as writer:
        for epoch, row in enumerate(history, start=1):
            writer.add_scalar(FIT_LOSS, row["loss"], epoch)
            writer.add_scalar(FIT_VALID_NDCG, row["valid_ndcg@10"], epoch)
            writer.add_scalar(FIT_VALID_HR, row["valid_hr@10"], epoch)
