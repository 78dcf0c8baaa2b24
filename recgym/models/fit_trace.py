"""What a user-model fit leaves behind while it runs: a line per epoch, TensorBoard curves, a record.

The training loop calls `on_epoch(epoch, row)` after each epoch's validation; `FitTrace` is that
callback. A fit stopped halfway (a kill, a full disk, Ctrl-C) still leaves `fit_progress.json` with
every epoch so far and the best one's validation figures, and the curves under `fit/` in TensorBoard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recgym.reports.tags import FIT_LOSS, FIT_VALID_HR, FIT_VALID_NDCG
from recgym.runs.checkpoint import atomic_write_json


class FitTrace:
    """`on_epoch` callback of `fit_user_model` that records each epoch as it ends.

    :param folder: where `fit_progress.json` and the TensorBoard event files go (None: neither).
    :param lines: print one line per epoch (for runs without progress bars, e.g. in CI or nohup).
    """

    def __init__(self, folder: str | Path | None, lines: bool = False):
        self.folder = None if folder is None else Path(folder)
        self.lines = lines
        self.history: list[dict[str, float]] = []
        self._writer: Any = None

    def __call__(self, epoch: int, row: dict[str, float]) -> None:
        self.history.append(row)
        best = max(range(len(self.history)), key=lambda i: self.history[i]["valid_ndcg@10"])
        if self.lines:
            print(
                f"fit epoch {epoch}: loss {row['loss']:.4f}, valid HR@10 {row['valid_hr@10']:.4f} "
                f"NDCG@10 {row['valid_ndcg@10']:.4f} ({row['train_seconds']:.1f} s); best epoch {best + 1}",
                flush=True,
            )
        if self.folder is None:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.folder))
        for tag, key in (
            (FIT_LOSS, "loss"),
            (FIT_VALID_NDCG, "valid_ndcg@10"),
            (FIT_VALID_HR, "valid_hr@10"),
        ):
            self._writer.add_scalar(tag, row[key], epoch)
        self._writer.flush()
        record = {
            "epochs": epoch,
            "best_epoch": best + 1,
            "best": self.history[best],
            "history": self.history,
        }
        atomic_write_json(self.folder / "fit_progress.json", record)

    def finish(self, history: list[dict[str, float]]) -> None:
        """End the trace with the fit's whole history: recorded from it when no epoch ran here (the
        model came from the cache), so every run folder has its curves."""
        if not self.history:
            for epoch, row in enumerate(history, start=1):
                self.lines, lines = False, self.lines
                self(epoch, row)
                self.lines = lines
        if self._writer is not None:
            self._writer.close()
            self._writer = None
