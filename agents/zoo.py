"""The agents recgym can train, by name: one place that maps a name to its config (which builds it),
and the one loader of every agent checkpoint.

Adding an agent is a file in `agents/` with its config (a frozen dataclass with a `name` and a `build`
that returns an object following `agents.contract.Agent`) and one entry in `AGENT_CONFIGS`: the
command line, the comparison and the checkpoints then know it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import tyro

from recgym.agents.checkpoint import config_from, mismatch, read_agent
from recgym.agents.contract import Agent, Embeddings, EnvSpec
from recgym.agents.device_dqn import DeviceDQNConfig
from recgym.agents.dqn import DQNConfig
from recgym.agents.sb3_agents import A2CConfig, PPOConfig, QRDQNConfig
from recgym.agents.slateq import SlateQConfig
from recgym.agents.topk_reinforce import TopKReinforceConfig
from recgym.checkpoint import CheckpointError
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator
from recgym.tensor_tree import join_tree

AGENT_CONFIGS: tuple[type, ...] = (
    DQNConfig,
    DeviceDQNConfig,
    PPOConfig,
    A2CConfig,
    QRDQNConfig,
    SlateQConfig,
    TopKReinforceConfig,
)
AGENTS: dict[str, type] = {config.name: config for config in AGENT_CONFIGS}
"""Agent name ("sb3-dqn", "gpu-dqn", "sb3-ppo", "sb3-a2c", "sb3-qrdqn", "slateq", "topk-reinforce")
to its config class."""

AgentName = Literal[tuple(AGENTS)]  # type: ignore[valid-type]
"""Any agent's name, as a command-line choice (`--agents slateq sb3-ppo`)."""

AgentChoice = Union[  # noqa: UP007 (built from the zoo, for tyro's subcommands agent:<name>)
    tuple(Annotated[config, tyro.conf.subcommand(config.name)] for config in AGENT_CONFIGS)  # type: ignore[misc]
]
"""Any agent's config, as a typed choice: `agent:sb3-ppo --agent.n-steps 256` on the command line."""


def make_agent(
    config: Any,
    simulator: UserSimulator,
    spec: EnvSpec | None = None,
    seed: int = 0,
    initial_embeddings: Embeddings | None = None,
) -> Agent:
    """The untrained agent of `config` (any config of `AGENTS`, or its name for the defaults), with its
    envs over simulator."""
    if isinstance(config, str):
        if config not in AGENTS:
            raise ValueError(f"unknown agent {config!r}; choose one of {sorted(AGENTS)}")
        config = AGENTS[config]()
    return config.build(simulator, spec or EnvSpec(), seed, initial_embeddings)


def load_agent(
    folder: str | Path, simulator: UserSimulator, spec: EnvSpec | None = None, training: bool = False
) -> Agent:
    """The agent saved in folder (`agents.checkpoint.save_agent`), rebuilt over simulator.

    :param spec: the envs to rebuild it on; None: those it was trained in (what resuming needs).
        `training=False` loads the networks only, to serve or evaluate the agent in envs of any batch
        size, horizon and device.
    :raises CheckpointError: naming what does not fit (another catalog, history length, slate size,
        or, to resume, another batch size, horizon or device).
    """
    tensors, meta = read_agent(folder, training)
    name = meta.get("agent")
    if name not in AGENTS:
        raise CheckpointError(
            f"checkpoint {folder} holds an unknown agent {name!r}; recgym knows {sorted(AGENTS)}"
        )
    saved = meta.get("env", {})
    spec = spec or _spec_of(saved)
    try:
        config = config_from(meta["config"], AGENTS[name])
        agent = config.build(simulator, spec, meta["seed"])
        problem = mismatch(saved, agent.env_sizes(), training)
        if problem:
            raise CheckpointError(f"checkpoint {folder} {problem}")
        state = join_tree(meta["state"], tensors)
        agent.load_state_dict(state if training else _networks(state))
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"checkpoint {folder} does not fit the {name}: {error}") from error
    return agent


def _spec_of(saved: dict[str, Any]) -> EnvSpec:
    """The envs a checkpoint was trained in."""
    choice = saved.get("choice")
    return EnvSpec(
        horizon=saved.get("horizon", 50),
        history_len=saved.get("history_len", 20),
        choice=None if choice is None else ChoiceConfig(**choice),
        n_envs=saved.get("n_envs"),
    )


def _networks(state: dict[str, Any]) -> dict[str, Any]:
    """The part of an agent's state that is its networks (what serving needs)."""
    return {key: value for key, value in state.items() if key in ("networks", "policy")}
