"""The agents recgym can train, by name: the registry that maps a name to its config (which builds it),
and the one loader of every agent checkpoint.

An agent is a frozen dataclass config with a `name` and a `build` returning an object that follows
`agents.contract.Agent`; `register_agent(MyConfig)`, from any module, makes it the choice
`agent:<name>` of every run, a name for `--agents` and `--agent-options.<name>.*` of the comparison,
and loadable from its checkpoints. The built-in agents are registered here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from recgym.agents.contract import Agent, Embeddings, EnvSpec
from recgym.agents.device_dqn import DeviceDQNConfig
from recgym.agents.sb3.algorithms import A2CConfig, PPOConfig, QRDQNConfig
from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.slateq import SlateQConfig
from recgym.agents.topk_reinforce import TopKReinforceConfig
from recgym.agents.training.checkpoint import config_from, mismatch, read_agent
from recgym.choices import ChoiceError, Choices
from recgym.runs.checkpoint import CheckpointError
from recgym.runs.tensor_tree import join_tree
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator

ConfigT = TypeVar("ConfigT", bound=type)

AGENTS = Choices("agent")
"""Every registered agent's config class, by name ("sb3-dqn", "gpu-dqn", "slateq", ...)."""


def register_agent(config_class: ConfigT) -> ConfigT:
    """Make an agent config a choice everywhere agents are chosen (usable as a class decorator): its
    `name` (a ClassVar) on the command line, its fields as the options, its `build(simulator, spec,
    seed, initial_embeddings)` the agent."""
    name = getattr(config_class, "name", None)
    if not isinstance(name, str):
        raise ChoiceError(f"{config_class!r} needs a `name: ClassVar[str]`, its command-line name")
    if not callable(getattr(config_class, "build", None)):
        raise ChoiceError(f"{config_class!r} needs a `build(simulator, spec, seed, initial_embeddings)`")
    AGENTS.register(name, config_class)
    return config_class


for _builtin in (
    DQNConfig,
    DeviceDQNConfig,
    PPOConfig,
    A2CConfig,
    QRDQNConfig,
    SlateQConfig,
    TopKReinforceConfig,
):
    register_agent(_builtin)

AgentChoice: Any = AGENTS.field_type()
"""Any registered agent's config, as a typed choice: `agent:sb3-ppo --agent.n-steps 256`."""
AgentNames: Any = AGENTS.names_type()
"""Registered agents' names, as a command-line option: `--agents slateq sb3-ppo`."""


def make_agent(
    config: Any,
    simulator: UserSimulator,
    spec: EnvSpec | None = None,
    seed: int = 0,
    initial_embeddings: Embeddings | None = None,
) -> Agent:
    """The untrained agent of `config` (a registered agent's config, or its name for the defaults), with its
    envs over simulator."""
    if isinstance(config, str):
        config = AGENTS[config]()
    return config.build(simulator, spec or EnvSpec(), seed, initial_embeddings)


def load_agent(
    folder: str | Path, simulator: UserSimulator, spec: EnvSpec | None = None, training: bool = False
) -> Agent:
    """The agent saved in folder (`agents.training.checkpoint.save_agent`), rebuilt over simulator.

    :param spec: the envs to rebuild it on; None: those it was trained in (what resuming needs).
        `training=False` loads the networks only, to serve or evaluate the agent in envs of any batch
        size, horizon and device.
    :raises CheckpointError: naming what does not fit (another catalog, history length, slate size,
        or, to resume, another batch size, horizon or device).
    """
    tensors, meta = read_agent(folder, training)
    name = meta.get("agent")
    if not isinstance(name, str) or name not in AGENTS:
        raise CheckpointError(
            f"checkpoint {folder} holds an agent {name!r} that is not registered; recgym knows "
            f"{', '.join(AGENTS.names())} (import the module that registers it, e.g. `--import my_agents`)"
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
        horizon=saved.get("horizon", HORIZON),
        history_len=saved.get("history_len", HISTORY_LEN),
        choice=None if choice is None else ChoiceConfig(**choice),
        n_envs=saved.get("n_envs"),
    )


def _networks(state: dict[str, Any]) -> dict[str, Any]:
    """The part of an agent's state that is its networks (what serving needs)."""
    return {key: value for key, value in state.items() if key in ("networks", "policy")}
