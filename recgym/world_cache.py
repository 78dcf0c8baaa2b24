"""What a World takes long to make, cached on disk by what made it, so a second `build_world` (or
`gym.make` of a registered id) takes seconds: the synthetic logs, the fitted user model
(`recgym.models.fitted`) and the dynamics learned from the logs' sessions.

Entries are code-free checkpoints (`recgym.runs.checkpoint`) under `{cache}/logs/` and `{cache}/dynamics/`,
keyed by the SHA-256 of everything that decides them plus a format version. An entry is written into a
temporary folder and renamed into place; one that cannot be read is rebuilt with a warning, and a cache
that cannot be written costs a warning, never the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recgym.data import sources
from recgym.data.features import FeatureTable
from recgym.data.interactions import InteractionLog
from recgym.models.fitted import FittedUserModel, cache_key, log_fingerprint
from recgym.runs.checkpoint import (
    CheckpointError,
    atomic_write_json,
    load_checkpoint,
    save_checkpoint,
)
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_store import load_dynamics, save_dynamics
from recgym.simulators.learned_dynamics import learn_dynamics
from recgym.simulators.plugin import SimulatorSource
from recgym.simulators.protocol import UserSimulator

LOGS_FORMAT = "recgym-logs/2"
DYNAMICS_FORMAT = "recgym-learned-dynamics/1"
_COLUMNS = {"user": torch.int64, "item": torch.int64, "rating": torch.float64, "timestamp": torch.int64}


class WorldCache:
    """The cache of a World's parts under `folder` (None: nothing cached)."""

    def __init__(self, folder: str | Path | None):
        self.folder = None if folder is None else Path(folder)

    def collected_logs(
        self, data: SimulatorSource, simulator: UserSimulator, progress: bool
    ) -> InteractionLog:
        """The logs of a source that is the world, collected from the simulator it built."""
        _say(progress, f"collecting logs from {data.label}")
        return data.logs(simulator)

    def logs(self, data: sources.LogSource, progress: bool) -> InteractionLog:
        """The log of `data`: read, or when the source gives a `cache_key` (the synthetic logs), made
        once and then loaded."""
        key = sources.cache_key(data)
        if key is None:
            return sources.read_logs(data)
        entry = self._entry("logs", {"format": LOGS_FORMAT} | key)
        if entry is not None and entry.exists():
            try:
                return _load_log(entry)
            except CheckpointError as error:
                warnings.warn(f"remaking the {data.label} logs: cached copy unusable ({error})", stacklevel=3)
        _say(progress, f"making the {data.label} logs (cached afterwards)")
        log = sources.read_logs(data)
        if entry is not None:
            self._publish(entry, lambda folder: _save_log(folder, log))
        return log

    def dynamics(
        self,
        log: InteractionLog,
        fitted: FittedUserModel,
        simulator: DynamicsSimulator,
        censor_length: int | None,
        progress: bool,
    ) -> tuple[DynamicsSimulator, dict[str, Any]]:
        """A new simulator: simulator with the dynamics learned from log's sessions (learned once, then
        loaded), and the learning report."""
        prior = {name: getattr(simulator.dynamics, name) for name in simulator.dynamics.__dataclass_fields__}
        key = {
            "format": DYNAMICS_FORMAT,
            "log": log_fingerprint(log),
            "user_model": cache_key(log, fitted.config),
            "prior": prior,
            "censor_length": censor_length,
        }
        entry = self._entry("dynamics", key)
        if entry is not None and entry.exists():
            try:
                report = json.loads((entry / "report.json").read_text(encoding="utf-8"))
                return load_dynamics(entry, simulator), report
            except (CheckpointError, OSError, ValueError) as error:
                warnings.warn(f"relearning the dynamics: cached copy unusable ({error})", stacklevel=3)
        _say(progress, "learning fatigue, leaving and returning from the logs' sessions (cached afterwards)")
        learned = learn_dynamics(simulator, log, censor_length=censor_length)
        learned_simulator = simulator.with_dynamics(learned.params)
        if entry is not None:
            self._publish(entry, lambda folder: _save_dynamics(folder, learned_simulator, learned.report))
        return learned_simulator, learned.report

    def _entry(self, kind: str, key: dict[str, Any]) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
        return self.folder / kind / digest

    def _publish(self, entry: Path, write: Callable[[Path], None]) -> None:
        """Write an entry into a temporary sibling folder and rename it into place; a cache that cannot
        be written is a warning, and leaves no partial entry."""
        temporary: Path | None = None
        new_parent = not entry.parent.exists()
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            temporary = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
            write(temporary)
            os.replace(temporary, entry)
        except OSError as error:
            warnings.warn(f"{entry.parent.name} not cached: cannot write {entry} ({error})", stacklevel=3)
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)
            if new_parent:  # the kind's folder (logs/, dynamics/), made for this entry: gone if still empty
                with contextlib.suppress(OSError):
                    entry.parent.rmdir()


def _save_log(folder: Path, log: InteractionLog) -> None:
    tensors = {
        name: torch.tensor(log.frame[name].to_numpy(), dtype=dtype) for name, dtype in _COLUMNS.items()
    }
    tensors |= {"user_ids": torch.as_tensor(log.user_ids), "item_ids": torch.as_tensor(log.item_ids)}
    meta: dict[str, Any] = {
        "format": LOGS_FORMAT,
        "name": log.name,
        "feedback": log.feedback,
        "rating_range": list(log.rating_range),
        "timed": log.timed,
    }
    for what, table in (("user_features", log.user_features), ("item_features", log.item_features)):
        if table is not None:
            table_tensors, meta[what] = table.to_tensors(what)
            tensors |= table_tensors
    save_checkpoint(folder, tensors, meta)


def _load_log(folder: Path) -> InteractionLog:
    tensors, meta = load_checkpoint(folder)
    if meta.get("format") != LOGS_FORMAT or not {*_COLUMNS, "user_ids", "item_ids"} <= set(tensors):
        raise CheckpointError(f"{folder} holds no {LOGS_FORMAT} log")
    frame = pd.DataFrame({name: tensors[name].numpy() for name in _COLUMNS})
    try:
        features = {
            what: FeatureTable.from_tensors(what, tensors, meta[what]) if what in meta else None
            for what in ("user_features", "item_features")
        }
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{folder}: its feature tables are damaged ({error!r})") from None
    return InteractionLog(
        frame=frame,
        user_ids=np.asarray(tensors["user_ids"].numpy()),
        item_ids=np.asarray(tensors["item_ids"].numpy()),
        feedback=meta["feedback"],
        rating_range=tuple(meta["rating_range"]),
        name=meta["name"],
        timed=meta["timed"],
        user_features=features["user_features"],
        item_features=features["item_features"],
    )


def _save_dynamics(folder: Path, simulator: DynamicsSimulator, report: dict[str, Any]) -> None:
    save_dynamics(folder, simulator)
    atomic_write_json(folder / "report.json", report)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"recgym: {message}", file=sys.stderr, flush=True)
