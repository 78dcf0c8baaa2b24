"""The one contract every agent follows, as stable-baselines3's algorithms and Gymnasium's envs do.

An agent is built from its config over a World's simulator (`AgentConfig.build`), learns with a step
budget (`learn`), serves a recgym `Policy`, and saves and loads through one checkpoint format
(`agents.training.checkpoint`). Experiments, benchmarks and tests talk to agents only through this contract,
so adding an agent is a config class registered with `agents.zoo.register_agent`, from any module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch

from recgym.policy import Policy
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator

Embeddings = tuple[torch.Tensor, torch.Tensor]
"""(user [n_users, d], item [n_items, d]) embeddings an agent may start from (a fitted model's)."""


@dataclass(frozen=True)
class EnvSpec:
    """The envs an agent trains in over a simulator: every agent builds its own (SB3 agents step
    single-user envs, the on-device agents one batched env)."""

    horizon: int = HORIZON
    """Longest session, in recommendations."""
    history_len: int = HISTORY_LEN
    """Recent recommendations and responses in the observation."""
    choice: ChoiceConfig | None = None
    """Slates and the user's choice among them; None recommends single items. Single-item agents train
    on single items and serve the top k of their scores."""
    n_envs: int | None = None
    """Users collecting experience in parallel (None: the agent's own default)."""

    @property
    def slate_size(self) -> int:
        return 1 if self.choice is None else self.choice.slate_size


Callback = Callable[[Any], bool]
"""`callback(agent)` after each of an agent's training iterations; False stops training."""


@dataclass(frozen=True)
class TrainOptions:
    """How a `learn` call runs, beside its budget: the same for every agent."""

    callback: Callback | None = None
    """Called after each training iteration; returning False stops training."""
    checkpoint_dir: str | Path | None = None
    """Where the run's checkpoints go (`recgym.runs.checkpoint_series`): one every `checkpoint_every`
    timesteps and one when training ends or stops."""
    checkpoint_every: int = 0
    """Timesteps between periodic checkpoints (0: only the last)."""
    resume: bool = False
    """Continue the run in progress (of a checkpoint loaded with `agents.zoo.load_agent`) to the total it
    started with, exactly as if it had never stopped."""
    log_dir: str | Path | None = None
    """TensorBoard folder (SB3's tags: rollout/ep_rew_mean, train/loss, time/fps)."""
    progress: bool = False
    """Show a progress bar."""


@runtime_checkable
class Agent(Protocol):
    """What every recgym agent does."""

    config: Any
    seed: int
    num_timesteps: int

    def learn(self, total_timesteps: int, options: TrainOptions | None = None) -> Agent:
        """Train for total_timesteps user-steps, with callbacks, checkpoints, resume and logs as
        `options` say."""
        ...

    def policy(self) -> Policy:
        """The agent as it would be served: greedy, masked, any slate size."""
        ...

    def state_dict(self, training: bool = True) -> dict[str, Any]:
        """Its networks; with `training`, all that resuming its run needs (optimizer, buffers, random
        states, the envs' sessions)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`."""
        ...

    def env_sizes(self) -> dict[str, Any]:
        """What the agent's networks and training state depend on in its envs (checked on load)."""
        ...


class AgentConfig(Protocol):
    """An agent's hyper-parameters, which also know how to build it (one dataclass per agent, registered
    with `agents.zoo.register_agent`)."""

    name: ClassVar[str]

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> Agent:
        """The agent, untrained, with its envs over simulator (on the simulator's device)."""
        ...
