"""Every agent saved as one kind of code-free checkpoint, and loaded only into envs it fits.

A checkpoint (`recgym.runs.checkpoint`) holds the agent's tensors in `weights.pt`: its networks and, with the
training state, its optimizer, replay buffer or recent collections, random states and its envs'
sessions. `meta.json` holds the agent's name in the zoo, its config, seed and counters, the sizes of
the envs it was trained in, and the skeleton that puts the nested state back together
(`recgym.runs.tensor_tree`). `agents.zoo.load_agent` reads the name, rebuilds the agent from its config and
checks the sizes before loading anything, so another catalog or agent is named instead of failing
inside `load_state_dict`. A training run writes a series of them (`recgym.runs.checkpoint_series`) through
`PeriodicCheckpoints`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from recgym.agents.contract import Agent
from recgym.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from recgym.runs.checkpoint_series import save_in_series
from recgym.runs.tensor_tree import split_tree

FORMAT = "recgym-agent/2"

SHAPES = ("n_items", "n_users", "history_len", "slate_size")
"""What the networks depend on: must agree to load at all."""
TRAINING = ("n_envs", "horizon", "choice", "device")
"""What the training state depends on beside the shapes: must agree to resume."""
_PHRASES = {
    "n_items": "{} items",
    "n_users": "{} users",
    "history_len": "a history of {} steps",
    "slate_size": "slates of {}",
    "n_envs": "{} envs in parallel",
    "horizon": "horizon {}",
    "choice": "the choice model {}",
    "device": "device {}",
}


def save_agent(agent: Agent, folder: str | Path, training: bool = False) -> None:
    """Save agent to folder: its networks, and with `training` all that resuming its run needs."""
    save_checkpoint(folder, *_tensors_and_meta(agent, training))


def read_agent(folder: str | Path, training: bool) -> tuple[dict, dict[str, Any]]:
    """(tensors, meta) of an agent checkpoint; CheckpointError unless it is one (with the training
    state when `training`)."""
    tensors, meta = load_checkpoint(folder)
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {folder} is not a recgym agent checkpoint (format {meta.get('format')!r}, "
            f"expected {FORMAT!r})"
        )
    if training and not meta.get("training_state"):
        raise CheckpointError(
            f"checkpoint {folder} holds the networks only, without the training state needed to resume"
        )
    return tensors, meta


def mismatch(saved: dict[str, Any], current: dict[str, Any], training: bool) -> str | None:
    """What keeps a checkpoint of envs `saved` from loading into an agent of envs `current`, or None."""
    for key in SHAPES + (TRAINING if training else ()):
        if saved.get(key) != current[key]:
            return f"has {_PHRASES[key].format(saved.get(key))}, the env has {current[key]}"
    return None


def config_from(fields: dict[str, Any], config_class: type) -> Any:
    """config_class from its JSON fields (lists back to tuples); ValueError naming unknown fields."""
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"{config_class.__name__} has no field {', '.join(unknown)}")
    return config_class(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in fields.items()}
    )


class PeriodicCheckpoints:
    """Saves an agent into a checkpoint series every `every` timesteps, and at the end of training.

    :param root: folder of the series (None: no checkpoints).
    :param every: timesteps between checkpoints (0: only the one at the end).
    :param saved_at: the timestep of the checkpoint a resumed run was loaded from (not saved again).
    """

    def __init__(self, root: str | Path | None, every: int = 0, saved_at: int | None = None):
        if every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {every}")
        if every and root is None:
            raise ValueError("checkpoint_every needs a checkpoint_dir to write into")
        self.root, self.every = root, every
        self.saved_at = saved_at

    def after_step(self, agent: Agent, timesteps_before: int) -> None:
        """Save when the step that started at timesteps_before crossed a multiple of `every`."""
        if self.every and timesteps_before // self.every < agent.num_timesteps // self.every:
            self.save(agent)

    def save(self, agent: Agent) -> None:
        """Save agent unless the series already holds it at its current timestep."""
        if self.root is not None and self.saved_at != agent.num_timesteps:
            save_in_series(self.root, agent.num_timesteps, *_tensors_and_meta(agent, training=True))
            self.saved_at = agent.num_timesteps


def _tensors_and_meta(agent: Agent, training: bool) -> tuple[dict, dict[str, Any]]:
    skeleton, tensors = split_tree(agent.state_dict(training))
    meta = {
        "format": FORMAT,
        "agent": agent.config.name,
        "config": dataclasses.asdict(agent.config),  # as built: its embedding size is the networks'
        "seed": agent.seed,
        "num_timesteps": agent.num_timesteps,
        "training_state": training,
        "env": agent.env_sizes(),
        "state": skeleton,
    }
    return tensors, meta
