"""What a run computed from, fingerprinted, so that a resumed run can be refused when its inputs changed.

A run's options (config.json) name its data by path and its plug-in simulator by import path; neither
says what the file or the module held. `run_inputs` records SHA-256 fingerprints of the log's content
and, for a plug-in simulator, of its source file and keyword arguments. `changed_inputs` compares two
records and names what differs, so `--resume` can stop before anything is refitted or mixed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from recgym.data.interactions import InteractionLog
from recgym.models.fitted import log_fingerprint


def run_inputs(
    log: InteractionLog, simulator: str | None = None, simulator_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fingerprints of the log a run fits on and, when it has one, of its plug-in simulator."""
    inputs: dict[str, Any] = {
        "data": {
            "name": log.name,
            "rows": len(log),
            "users": log.n_users,
            "items": log.n_items,
            "sha256": log_fingerprint(log),
        }
    }
    if simulator is not None:
        inputs["simulator"] = {
            "name": simulator,
            "kwargs_sha256": _sha256(
                json.dumps(simulator_kwargs or {}, sort_keys=True, default=str).encode()
            ),
            "source_sha256": source_fingerprint(simulator),
        }
    return inputs


def source_fingerprint(simulator: str) -> str | None:
    """SHA-256 of the source file of a `module.path:Name` simulator's module (None for a registered name,
    or a module without a readable source file)."""
    if ":" not in simulator:
        return None
    module = simulator.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = None if spec is None else spec.origin
    if origin is None or not Path(origin).is_file():
        return None
    return _sha256(Path(origin).read_bytes())


def changed_inputs(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Phrases naming each input that differs between two `run_inputs` records ([] when none does)."""
    changes = []
    for part in sorted(saved.keys() | current.keys()):
        before, now = saved.get(part) or {}, current.get(part) or {}
        for key in sorted(before.keys() | now.keys()):
            if before.get(key) != now.get(key):
                changes.append(f"{part} {key}: {_short(before.get(key))} then, {_short(now.get(key))} now")
    return changes


def _short(value: Any) -> str:
    """A fingerprint cut to 12 characters; other values as they are."""
    return value[:12] if isinstance(value, str) and len(value) == 64 else repr(value)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
