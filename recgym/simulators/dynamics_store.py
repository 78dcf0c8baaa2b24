"""A simulator's dynamics parameters saved and loaded as a checkpoint (tensors and JSON, no pickles).

A log-fitted simulator is its user model, which `recgym.models.fitted` checkpoints, plus the dynamics
learned from the log's sessions: fatigue and leave settings, a logistic leave model and a return model.
All of them are floats. They are stored as float64 tensors, so the checkpoint's checksum covers them,
with their structure as JSON. A saved simulator can then be rebuilt exactly without the log.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from recgym.models.logistic import LogisticFit
from recgym.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.leave_model import LeaveModel
from recgym.simulators.return_model import ReturnModel

KIND = "recgym-dynamics"


def save_dynamics(folder: str | Path, simulator: DynamicsSimulator) -> None:
    """Save simulator's dynamics settings, leave model and return model to folder (atomically)."""
    leave = simulator.active_leave_model()
    config = asdict(simulator.dynamics)
    tensors = {
        "dynamics": torch.tensor(list(config.values()), dtype=torch.float64),
        "leave": torch.tensor([leave.fit.bias, *leave.fit.weights], dtype=torch.float64),
    }
    meta: dict = {"kind": KIND, "dynamics_fields": list(config), "leave_source": leave.source}
    model = simulator.return_model
    if model is not None:
        values = [model.bias, *model.weights, model.sigma, model.within_seconds, model.n_gaps]
        tensors["return"] = torch.tensor(values, dtype=torch.float64)
    save_checkpoint(folder, tensors, meta)


def load_dynamics(folder: str | Path, simulator: DynamicsSimulator) -> DynamicsSimulator:
    """A new simulator: `simulator` with the dynamics saved in folder (`simulator` is unchanged).

    Raises `CheckpointError` for a corrupt checkpoint, one of something else, or one whose settings or
    leave features do not match this version of recgym."""
    tensors, meta = load_checkpoint(folder)
    if meta.get("kind") != KIND:
        raise CheckpointError(
            f"checkpoint {folder} holds {meta.get('kind', 'something else')!r}, not dynamics"
        )
    fields = list(asdict(DynamicsConfig()))
    if meta.get("dynamics_fields") != fields:
        raise CheckpointError(
            f"checkpoint {folder}: dynamics settings {meta.get('dynamics_fields')} differ from this "
            f"recgym's {fields}"
        )
    n_features = len(simulator.active_leave_model().fit.weights)
    leave = tensors["leave"].tolist()
    if len(leave) != 1 + n_features:
        raise CheckpointError(
            f"checkpoint {folder}: its leave model has {len(leave) - 1} features, this recgym's "
            f"has {n_features}"
        )
    config = DynamicsConfig(**dict(zip(fields, tensors["dynamics"].tolist(), strict=True)))
    leave_model = LeaveModel(LogisticFit(tuple(leave[1:]), leave[0]), meta["leave_source"])
    return_model = None
    if "return" in tensors:
        bias, weight_0, weight_1, sigma, within, n_gaps = tensors["return"].tolist()
        return_model = ReturnModel((weight_0, weight_1), bias, sigma, within, int(n_gaps))
    return simulator.with_dynamics(DynamicsParams(config, leave_model, return_model))
