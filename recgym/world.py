"""A World: logs, the user model fitted on them, and the simulator they drive, with its dynamics.

One typed config (`WorldConfig`) names everything a World is made of: where the logs come from (the
synthetic world, MovieLens files, any table, or a plug-in simulator, which is then the world itself),
which user model of the zoo is fitted on them, whether the users' dynamics are learned from the logs'
sessions or set by hand, and what a step pays. `build_world(config)` makes it; experiments, benchmarks
and the registered Gymnasium ids all go through it. What is slow to make is cached by what made it
(`recgym.world_cache`): the synthetic logs, the fitted model, the learned dynamics.

    world = build_world(WorldConfig(data=MovieLensLogs("ml-100k", likes=True)), cache_dir=".cache")
    env = RecEnv(world.simulator)                 # agents train here
    baselines = world.baselines()                 # greedy by the fitted model, popular, random
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recgym.baselines import baseline_policies, log_popularity
from recgym.choices import Choices
from recgym.data.interactions import InteractionLog
from recgym.data.sources import SOURCES, MovieLensLogs, SyntheticLogs, TableLogs, logged_horizon
from recgym.models.fitted import FittedUserModel, UserModelConfig, fit_user_model
from recgym.policy import Policy
from recgym.reports.results import describe_dynamics, describe_user_model
from recgym.runs.inputs import run_inputs
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.plugin import PluginSimulator, SimulatorSource
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import fitted_simulator
from recgym.simulators.rewards import RewardName
from recgym.world_cache import WorldCache

__all__ = [
    "HandSetDynamics",
    "LearnDynamics",
    "MovieLensLogs",
    "PluginSimulator",
    "SyntheticLogs",
    "TableLogs",
    "World",
    "WorldConfig",
    "WorldLogs",
    "build_world",
    "read_world_logs",
    "world_name",
]


@dataclass(frozen=True)
class LearnDynamics(DynamicsConfig):
    """Learn fatigue, leaving and returning from the logs' sessions (docs/dynamics.md); these values
    stand where the logs cannot identify one (e.g. the repeat penalty when no item recurs)."""


@dataclass(frozen=True)
class HandSetDynamics(DynamicsConfig):
    """Fatigue, repetition and the leave rule as given here; no sessions needed."""


DataSource: Any = SOURCES.field_type()
"""Any registered data source (`recgym.data.sources.register_source`); on the command line
`data:movielens --data.path ml-100k`."""
DYNAMICS = Choices("dynamics")
DYNAMICS.register("learn", LearnDynamics)
DYNAMICS.register("hand-set", HandSetDynamics)
Dynamics: Any = DYNAMICS.field_type()
"""Learned or hand-set dynamics; on the command line `dynamics:hand-set --dynamics.leave-rate 0.1`."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything a World is made of."""

    data: DataSource = field(default_factory=SyntheticLogs)
    """Where the logs come from: the synthetic world, MovieLens files, any table, a plug-in simulator
    (which is then the world: agents train in it, its logs fit the baselines' user models), or any
    registered `LogSource`."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """The user model of the zoo fitted on the logs, its training and split."""
    dynamics: Dynamics = field(default_factory=LearnDynamics)
    """Fatigue, repetition and leaving: learned from the logs' sessions, or set by hand (a plug-in
    simulator keeps its own)."""
    reward: RewardName = "click"
    """What a step pays (recgym.simulators.rewards); a plug-in simulator pays its own."""


@dataclass(frozen=True)
class World:
    """Logs, the fitted user model and the simulator of one `WorldConfig`."""

    config: WorldConfig
    log: InteractionLog
    fitted: FittedUserModel
    simulator: UserSimulator
    dynamics_report: dict[str, Any] | None = None
    """How the dynamics were learned and how they did on held-out sessions (None: not learned)."""

    @property
    def name(self) -> str:
        """Short name for run folders: 'neumf-synthetic', 'sasrec-ml-100k', or the plug-in's label."""
        return world_name(self.config)

    def describe(self) -> str:
        """A few lines for the console: the logs, the user model's test figures, the learned dynamics."""
        log = self.log
        lines = [f"{self.name}: {log.n_users} users, {log.n_items} items, {len(log)} rows"]
        lines += [
            f"features: {table.describe()}"
            for table in (log.user_features, log.item_features)
            if table is not None
        ]
        lines.append(describe_user_model(self.fitted.config.model, self.fitted.metrics))
        if self.dynamics_report is not None:
            lines.append(describe_dynamics(self.dynamics_report))
        return "\n".join(lines)

    def popularity(self) -> np.ndarray:
        """[n_items] positive interactions per item in the log: what popular ranks by, novelty reads."""
        return log_popularity(self.log)

    def baselines(self, device: str | torch.device = "cpu") -> dict[str, Policy]:
        """The supervised and naive baselines: greedy top-1 of the fitted model, most popular, random."""
        return baseline_policies(self.log, self.fitted, device)

    def initial_embeddings(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The user model's dot-product (user, item) embeddings (NeuMF's GMF tower, MF's factors), for
        agents to start from; None when the model has none."""
        dot_embeddings = getattr(self.fitted.model, "dot_embeddings", None)
        return None if dot_embeddings is None else dot_embeddings()

    def inputs(self) -> dict[str, Any]:
        """Fingerprints of what the World was built from (`recgym.runs.inputs`), to refuse a resumed run
        whose data changed."""
        return world_inputs(self.config, self.log)


def world_name(config: WorldConfig) -> str:
    """Short name of config's World, known before it is built: 'neumf-synthetic', 'sasrec-ml-100k', or
    a plug-in simulator's label."""
    data = config.data
    return data.label if isinstance(data, SimulatorSource) else f"{config.user_model.model}-{data.label}"


def world_inputs(config: WorldConfig, log: InteractionLog) -> dict[str, Any]:
    """Fingerprints of the log (and plug-in simulator) a World of config is built from."""
    data = config.data
    return data.inputs(log) if isinstance(data, SimulatorSource) else run_inputs(log)


@dataclass(frozen=True)
class WorldLogs:
    """The first part of a World: its log, and the plug-in simulator it was collected from (if any).
    Reading it alone lets a run check its inputs before anything is fitted."""

    log: InteractionLog
    plugin: UserSimulator | None = None


def read_world_logs(
    config: WorldConfig,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> WorldLogs:
    """The log of config's data: read from files, made once (synthetic, then cached), or collected from
    the plug-in simulator, which is built and checked here."""
    data = config.data
    if isinstance(data, SimulatorSource):
        simulator = data.build(device)
        return WorldLogs(WorldCache(cache_dir).collected_logs(data, simulator, progress), simulator)
    return WorldLogs(WorldCache(cache_dir).logs(data, progress))


def build_world(
    config: WorldConfig | None = None,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    logs: WorldLogs | None = None,
) -> World:
    """The World of config: logs read (or collected from the plug-in), the user model fitted (or loaded
    from `cache_dir`), the simulator made with its dynamics (learned, or loaded from the cache).

    :param progress: show the fit's progress bar and say what is being made.
    :param on_epoch: called after each epoch of a fit (`recgym.models.fit_trace.FitTrace`).
    :param logs: the logs already read by `read_world_logs(config, ...)`, not read again.
    """
    config = config or WorldConfig()
    cache = WorldCache(cache_dir)
    data = config.data
    logs = logs or read_world_logs(config, cache_dir, device, progress)
    log, plugin = logs.log, logs.plugin
    fitted = fit_user_model(log, config.user_model, cache.folder, progress=progress, on_epoch=on_epoch)
    if plugin is not None:
        return World(config, log, fitted, plugin)
    simulator = fitted_simulator(fitted, _hand_set(config.dynamics), config.reward, device)
    if not isinstance(config.dynamics, LearnDynamics):
        return World(config, log, fitted, simulator)
    assert isinstance(simulator, DynamicsSimulator)
    learned, report = cache.dynamics(log, fitted, simulator, logged_horizon(data), progress)
    return World(config, log, fitted, learned, report)


def _hand_set(dynamics: Dynamics) -> DynamicsConfig:
    """The plain `DynamicsConfig` of either choice (the simulator's settings, or the prior of learning)."""
    return DynamicsConfig(**{name: getattr(dynamics, name) for name in DynamicsConfig.__dataclass_fields__})
