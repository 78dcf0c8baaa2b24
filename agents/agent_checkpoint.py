"""On-device agents saved as code-free checkpoints, and loaded only into an env they fit.

A checkpoint (`recgym.checkpoint`) holds the agent's tensors in `weights.pt`: its networks and, with
the training state, the optimizer's moments, the replay buffer or recent collections, the
`torch.Generator` state and the env's sessions and random streams. `meta.json` holds the agent's
class, its config, the env's sizes, the counters and the skeleton that puts the nested state back
together (`recgym.tensor_tree`). Loading checks the agent's class and the env's sizes before
building anything, so another catalog or agent is named instead of failing inside `load_state_dict`.
A training run writes its checkpoints as a series (`recgym.checkpoint_series`) through
`PeriodicCheckpoints`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol, TypeVar

from envs.vector_env import RecVectorEnv
from recgym.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from recgym.checkpoint_series import save_in_series
from recgym.tensor_tree import join_tree, split_tree

FORMAT = "recgym-agent/1"


class CheckpointableAgent(Protocol):
    """What `save_agent` and `load_agent` need of an agent (DeviceDQN, SlateQ, TopKReinforce)."""

    config_class: type
    config: Any
    seed: int
    num_timesteps: int
    embedding_dim: int  # of the networks as built (initial embeddings decide it when given)

    def __init__(self, env: Any, config: Any, seed: int = 0) -> None: ...

    @property
    def env(self) -> RecVectorEnv: ...

    def state_dict(self, training: bool = True) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


Agent = TypeVar("Agent", bound=CheckpointableAgent)

# what must agree between the checkpoint and the env: always, and to resume training
_SHAPES = ("n_items", "n_users", "history_len", "slate_size", "observation_shapes")
_TRAINING = ("num_envs", "horizon", "device")
_PHRASES = {
    "n_items": "{} items",
    "n_users": "{} users",
    "history_len": "a history of {} steps",
    "slate_size": "slates of {}",
    "observation_shapes": "observations shaped {}",
    "num_envs": "{} sessions in parallel",
    "horizon": "horizon {}",
    "device": "device {}",
}


def env_sizes(env: RecVectorEnv) -> dict[str, Any]:
    """What an agent's networks and training state depend on in env."""
    choice = getattr(env, "choice", None)
    return {
        "n_items": env.simulator.n_items,
        "n_users": env.simulator.n_users,
        "history_len": env.history_len,
        "slate_size": None if choice is None else choice.slate_size,
        "observation_shapes": {
            key: list(value.shape[1:]) for key, value in env.observation_tensors().items()
        },
        "num_envs": env.num_envs,
        "horizon": env.horizon,
        "device": env.device.type,
    }


def save_agent(agent: CheckpointableAgent, folder: str | Path, training: bool = True) -> None:
    """Save agent to folder: its networks, and with `training` all that resuming its run needs."""
    save_checkpoint(folder, *_tensors_and_meta(agent, training))


def load_agent(
    folder: str | Path, env: RecVectorEnv, agent_class: type[Agent], training: bool = True
) -> Agent:
    """The agent saved in folder, rebuilt on env; `training=False` loads its networks only (to serve or
    evaluate it, in an env of any batch size, horizon and device). CheckpointError naming what does not fit.
    """
    tensors, meta = load_checkpoint(folder)
    problem = _mismatch(meta, env, agent_class, training)
    if problem:
        raise CheckpointError(f"checkpoint {folder} {problem}")
    try:
        config = _config(meta["config"], agent_class.config_class)
        config = dataclasses.replace(config, embedding_dim=meta["embedding_dim"])
        agent = agent_class(env, config, seed=meta["seed"])
        state = join_tree(meta["state"], tensors)
        agent.load_state_dict(state if training else {"networks": state["networks"]})
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        name = agent_class.__name__
        raise CheckpointError(f"checkpoint {folder} does not fit the {name}: {error}") from error
    return agent


class _Run(Protocol):
    total_timesteps: int  # what the run was started with


Run = TypeVar("Run", bound=_Run)


def run_to_resume(run: Run | None, total_timesteps: int, agent_name: str) -> Run:
    """The agent's run in progress, if it continues to total_timesteps; ValueError otherwise."""
    if run is None:
        raise ValueError(f"resume=True needs a run in progress: load one with {agent_name}.load")
    if run.total_timesteps != total_timesteps:
        raise ValueError(
            f"the run in progress trains for {run.total_timesteps} timesteps, not {total_timesteps}: "
            "resume it with the total it started with"
        )
    return run


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

    def after_step(self, agent: CheckpointableAgent, timesteps_before: int) -> None:
        """Save when the step that started at timesteps_before crossed a multiple of `every`."""
        if self.every and timesteps_before // self.every < agent.num_timesteps // self.every:
            self.save(agent)

    def save(self, agent: CheckpointableAgent) -> None:
        """Save agent unless the series already holds it at its current timestep."""
        if self.root is not None and self.saved_at != agent.num_timesteps:
            save_in_series(self.root, agent.num_timesteps, *_tensors_and_meta(agent, training=True))
            self.saved_at = agent.num_timesteps


def _tensors_and_meta(agent: CheckpointableAgent, training: bool) -> tuple[dict, dict[str, Any]]:
    skeleton, tensors = split_tree(agent.state_dict(training))
    meta = {
        "format": FORMAT,
        "agent": type(agent).__name__,
        "config": dataclasses.asdict(agent.config),
        "embedding_dim": agent.embedding_dim,
        "seed": agent.seed,
        "num_timesteps": agent.num_timesteps,
        "training_state": training,
        "env": env_sizes(agent.env),
        "simulator": type(agent.env.simulator).__name__,
        "state": skeleton,
    }
    return tensors, meta


def _mismatch(meta: dict[str, Any], env: RecVectorEnv, agent_class: type, training: bool) -> str | None:
    """What keeps the checkpoint from loading into agent_class on env, or None."""
    if meta.get("format") != FORMAT:
        return f"is not a recgym agent checkpoint (format {meta.get('format')!r}, expected {FORMAT!r})"
    if meta.get("agent") != agent_class.__name__:
        return f"holds a {meta.get('agent')}, not a {agent_class.__name__}"
    if training and not meta.get("training_state"):
        return "holds the networks only, without the training state needed to resume"
    saved, current = meta.get("env", {}), env_sizes(env)
    for key in _SHAPES + (_TRAINING if training else ()):
        if saved.get(key) != current[key]:
            phrase = _PHRASES[key]
            return f"has {phrase.format(saved.get(key))}, the env has {current[key]}"
    return None


def _config(fields: dict[str, Any], config_class: type) -> Any:
    """config_class from its JSON fields (lists back to tuples); ValueError naming unknown fields."""
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"{config_class.__name__} has no field {', '.join(unknown)}")
    return config_class(**{key: tuple(v) if isinstance(v, list) else v for key, v in fields.items()})


def training_state(agent: Any) -> dict[str, Any]:
    """What an on-device agent's training continues from, beside its networks: optimizer, generator,
    counter, the run in progress and the env."""
    return {
        "optimizer": agent.optimizer.state_dict(),
        "generator": agent.generator.get_state(),
        "num_timesteps": agent.num_timesteps,
        "run": None if agent.run is None else agent.run.state_dict(),
        "env": agent.env.state_dict(),
    }


def load_training_state(agent: Any, state: dict[str, Any]) -> None:
    """Restore a `training_state` into agent (the networks are loaded by the agent itself)."""
    agent.optimizer.load_state_dict(state["optimizer"])
    agent.generator.set_state(state["generator"])
    agent.num_timesteps = state["num_timesteps"]
    agent.env.load_state_dict(state["env"])
    agent.run = None
    if state["run"] is not None:
        agent.run = agent._new_run(state["run"]["total_timesteps"])
        agent.run.load_state_dict(state["run"])
