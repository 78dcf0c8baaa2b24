"""One training loop for every user model: shuffled batches from the model, early stopping.

The model supplies an epoch of batches (`epoch_batches`) and the loss of a batch; the loop is shared.
After each epoch the model is ranked on the validation split (sampled protocol) and the best epoch's
weights are kept, in memory and, when `checkpoint_dir` is given, on disk (an atomic, checksummed
write), so over-training cannot make the result worse and a crash loses at most one epoch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from recgym.data.interactions import InteractionLog
from recgym.models.metrics import evaluate_ranking
from recgym.models.train_config import TrainConfig
from recgym.runs.checkpoint import save_checkpoint

if TYPE_CHECKING:
    from recgym.models.contract import UserModel


@dataclass(frozen=True)
class FitReport:
    """What training did: epochs run, best epoch, the validation curve and time per epoch."""

    epochs: int
    best_epoch: int
    best_valid_ndcg: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def fit(
    model: UserModel,
    train: InteractionLog,
    valid: InteractionLog,
    config: TrainConfig,
    *,
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> FitReport:
    """Train `model` on train, keep its best epoch on valid, and load those weights.

    The model's context is set to train. Runs under a forked torch RNG seeded from `config.seed`
    (dropout and in-loss sampling), leaving the caller's global RNG state as it was.
    """
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        return _fit(model, train, valid, config, progress, on_epoch, checkpoint_dir)


def _fit(
    model: UserModel,
    train: InteractionLog,
    valid: InteractionLog,
    config: TrainConfig,
    progress: bool,
    on_epoch: Callable[[int, dict[str, float]], None] | None,
    checkpoint_dir: str | Path | None,
) -> FitReport:
    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    shuffle = torch.Generator().manual_seed(config.seed)
    model.set_context(train)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    best_ndcg, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    bar = tqdm(
        range(1, config.epochs + 1),
        desc=f"fit user model (at most {config.epochs} epochs; stops after {config.patience} without gain)",
        disable=not progress,
        unit="epoch",
    )
    for epoch in bar:
        epoch_start = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for batch in model.epoch_batches(train, config, rng, shuffle):
            loss = model.loss(*batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch[0])
            count += len(batch[0])
        train_seconds = time.perf_counter() - epoch_start
        model.eval()
        metrics = evaluate_ranking(model, train, valid, seed=config.seed, full=False)["sampled"]
        row = {
            "loss": total / max(count, 1),
            "valid_hr@10": metrics["hr@10"],
            "valid_ndcg@10": metrics["ndcg@10"],
            "train_seconds": train_seconds,
        }
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row)
        bar.set_postfix(loss=f"{row['loss']:.4f}", ndcg=f"{row['valid_ndcg@10']:.4f}")
        if row["valid_ndcg@10"] > best_ndcg:
            best_ndcg, best_epoch, best_state = row["valid_ndcg@10"], epoch, copy.deepcopy(model.state_dict())
            if checkpoint_dir is not None:
                save_checkpoint(checkpoint_dir, best_state, {"epoch": epoch, "train": asdict(config), **row})
        elif epoch - best_epoch >= config.patience:
            bar.total = epoch  # the bar ends full: early stopping is the plan, not a crash
            bar.refresh()
            break
    bar.close()
    if progress and len(history) < config.epochs:
        tqdm.write(
            f"early stopping after epoch {len(history)} of {config.epochs}: no better validation NDCG@10 "
            f"for {config.patience} epochs; keeping epoch {best_epoch} ({best_ndcg:.4f})"
        )
    model.load_state_dict(best_state)
    model.eval()
    return FitReport(
        epochs=len(history),
        best_epoch=best_epoch,
        best_valid_ndcg=best_ndcg,
        seconds=time.perf_counter() - start,
        history=history,
    )
