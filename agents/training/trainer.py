"""The training loop of the on-device agents: a run of iterations, resumable, checkpointed, logged.

`DeviceDQN` (and SlateQ, built on it) iterates batched env steps, `TopKReinforce` collections of steps;
everything around an iteration is the same and lives here: starting or resuming a run, the progress
bar, TensorBoard, periodic checkpoints and the callback. An agent provides `new_run(total_timesteps)`
and `iteration(observation, log)`; its run (a dataclass with `total_timesteps`, `iteration` and
`n_iterations`, `state_dict` and `load_state_dict`, and whatever else the agent's iterations carry) is
part of its checkpointed state, with its optimizer (if it has one), generator and env.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Protocol

import torch
from tqdm.auto import tqdm

from recgym.agents.contract import EnvSpec, TrainOptions
from recgym.agents.training.checkpoint import PeriodicCheckpoints
from recgym.envs.slate_env import SlateVectorEnv
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator


class Run(Protocol):
    total_timesteps: int  # what the run was started with
    iteration: int  # iterations done
    n_iterations: int


class OnDeviceAgent(Protocol):
    """What the loop needs of an agent: its batched env, seed, counter, generator and run in progress."""

    env: Any
    seed: int
    num_timesteps: int
    generator: torch.Generator
    run: Any

    def new_run(self, total_timesteps: int) -> Any:
        """A fresh run to total_timesteps (a `Run`)."""
        ...

    def iteration(self, observation: dict, log: Any) -> dict:
        """One training iteration from observation; the observation it ends on. `log.scalars(step,
        values)` writes TensorBoard scalars (log is None without a log folder)."""
        ...


def batched_slate_env(simulator: UserSimulator, spec: EnvSpec) -> SlateVectorEnv:
    """The batched slate env an on-device slate agent trains in: `spec.n_envs` users (256 by
    default), slates of one without `spec.choice`."""
    choice = spec.choice or ChoiceConfig(slate_size=1)
    n_envs = spec.n_envs or 256
    return SlateVectorEnv(
        simulator, n_envs, horizon=spec.horizon, history_len=spec.history_len, choice=choice
    )


def run_in_progress(run: Run | None, total_timesteps: int, agent_name: str) -> Run:
    """The agent's run in progress, if it continues to total_timesteps; ValueError otherwise."""
    if run is None:
        raise ValueError(
            f"resume=True needs a run in progress: load one with agents.zoo.load_agent ({agent_name})"
        )
    if run.total_timesteps != total_timesteps:
        raise ValueError(
            f"the run in progress trains for {run.total_timesteps} timesteps, not {total_timesteps}: "
            "resume it with the total it started with"
        )
    return run


def train(agent: OnDeviceAgent, total_timesteps: int, options: TrainOptions, unit: str = "step") -> None:
    """Run agent's iterations until its run reaches total_timesteps (see `agents.contract.Agent.learn`).

    :param unit: what an iteration is, for the progress bar.
    """
    from torch.utils.tensorboard import SummaryWriter

    if options.resume:
        run = agent.run = run_in_progress(agent.run, total_timesteps, type(agent).__name__)
    else:
        run = agent.run = agent.new_run(total_timesteps)
        agent.env.reset_tensors(agent.seed)
    observation = agent.env.observation_tensors()
    saved_at = agent.num_timesteps if options.resume else None  # resumed from a checkpoint of this step
    checkpoints = PeriodicCheckpoints(options.checkpoint_dir, options.checkpoint_every, saved_at)
    writer = SummaryWriter(str(options.log_dir)) if options.log_dir is not None else None
    bar = tqdm(
        range(run.iteration, run.n_iterations),
        desc="train agent",
        unit=unit,
        initial=run.iteration,
        total=run.n_iterations,
        disable=not options.progress,
        mininterval=2.0,
    )
    log = None if writer is None else _Log(writer, time.perf_counter())
    for iteration in bar:
        before = agent.num_timesteps
        observation = agent.iteration(observation, log)
        run.iteration = iteration + 1
        checkpoints.after_step(agent, before)
        if options.callback is not None and not options.callback(agent):
            break
    checkpoints.save(agent)
    if writer is not None:
        writer.close()


def env_sizes(env: Any) -> dict[str, Any]:
    """What an on-device agent's networks and training state depend on in its batched env."""
    choice = getattr(env, "choice", None)
    return {
        "n_items": env.simulator.n_items,
        "n_users": env.simulator.n_users,
        "history_len": env.history_len,
        "slate_size": None if choice is None else choice.slate_size,
        "choice": None if choice is None else dataclasses.asdict(choice),
        "n_envs": env.num_envs,
        "horizon": env.horizon,
        "device": env.device.type,
    }


def training_state(agent: Any) -> dict[str, Any]:
    """What an on-device agent's training continues from, beside its networks: optimizer (None for an
    agent without one), generator, counter, the run in progress and the env."""
    optimizer = getattr(agent, "optimizer", None)
    return {
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "generator": agent.generator.get_state(),
        "num_timesteps": agent.num_timesteps,
        "run": None if agent.run is None else agent.run.state_dict(),
        "env": agent.env.state_dict(),
    }


def load_training_state(agent: Any, state: dict[str, Any]) -> None:
    """Restore a `training_state` into agent (the networks are loaded by the agent itself)."""
    if state["optimizer"] is not None:
        agent.optimizer.load_state_dict(state["optimizer"])
    agent.generator.set_state(state["generator"])
    agent.num_timesteps = state["num_timesteps"]
    agent.env.load_state_dict(state["env"])
    agent.run = None
    if state["run"] is not None:
        agent.run = agent.new_run(state["run"]["total_timesteps"])
        agent.run.load_state_dict(state["run"])


class _Log:
    """What an iteration writes to TensorBoard: scalars at the agent's timestep, and the fps so far."""

    def __init__(self, writer: Any, start: float):
        self.writer, self.start = writer, start

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)
        self.writer.add_scalar("time/fps", step / (time.perf_counter() - self.start), step)
