"""A plug-in simulator as a World: it is the truth agents train and are evaluated in, and its logs,
collected by a uniform logging policy, are what the supervised baselines' user models are fitted on.

A simulator is named by a registered name or an import path `module.path:Name`. An import path imports
that module (running its code) and calls `Name(**kwargs)`: name only code you trust. The object returned
is checked at once (`make_simulator`), then by `check_simulator`.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from recgym.data.interactions import InteractionLog
from recgym.data.simulated_logs import collect_logs
from recgym.data.sources import register_source
from recgym.runs.inputs import run_inputs
from recgym.simulators.check import check_simulator
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import SimulatorError, check_simulator_arguments, make_simulator


@runtime_checkable
class SimulatorSource(Protocol):
    """A data source that is itself the world: agents train in the simulator it builds, and its logs are
    collected from that simulator (the World is then named by its `label` alone)."""

    @property
    def label(self) -> str: ...

    def build(self, device: str | torch.device = "cpu") -> UserSimulator:
        """The simulator, checked, on device."""
        ...

    def logs(self, simulator: UserSimulator) -> InteractionLog:
        """The logs collected from simulator (the one `build` gave)."""
        ...

    def inputs(self, log: InteractionLog) -> dict[str, Any]:
        """Fingerprints of log and of the simulator's code and arguments (`recgym.runs.inputs`)."""
        ...


@dataclass(frozen=True)
class PluginSimulator:
    """Your own simulator as the world (docs/custom_simulator.md)."""

    name: str
    """A registered name or an import path `module.path:Name` (importing it runs that module's code)."""
    kwargs: str = "{}"
    """Its keyword arguments, as a JSON object (`device` defaults to the run's device)."""
    sessions_per_user: int = 20
    """Sessions of every user in the logs the baselines' user models are fitted on."""
    horizon: int = 30
    """Longest logged session (items are drawn uniformly among those not yet shown)."""
    seed: int = 0
    """Seed of the logged sessions."""

    def __post_init__(self) -> None:
        """A bad name, JSON or keyword fails here, before anything is read or written."""
        check_simulator_arguments(self.name, self.arguments())

    def arguments(self) -> dict[str, Any]:
        """`kwargs` parsed; SimulatorError naming it when it is not a JSON object."""
        try:
            kwargs = json.loads(self.kwargs)
        except json.JSONDecodeError as error:
            raise SimulatorError(
                f"the simulator's kwargs must be a JSON object, e.g. '{{\"n_items\": 50}}' ({error})"
            ) from None
        if not isinstance(kwargs, dict):
            raise SimulatorError(f"the simulator's kwargs must be a JSON object, got {self.kwargs!r}")
        return kwargs

    @property
    def label(self) -> str:
        """Short name for run folders: 'toycatalog' for 'my.module:ToyCatalog'."""
        return self.name.rpartition(":")[2].rpartition(".")[2].lower() or self.name

    def build(self, device: str | torch.device = "cpu") -> UserSimulator:
        """The simulator, on `device` when its constructor takes one and the kwargs do not say, checked."""
        kwargs = self.arguments()
        factory = check_simulator_arguments(self.name, kwargs)
        if "device" not in kwargs and "device" in _parameters(factory):
            kwargs["device"] = str(device)
        simulator = make_simulator(self.name, **kwargs)
        check_simulator(simulator)
        return simulator

    @property
    def logged_horizon(self) -> int:
        return self.horizon

    def read(self) -> InteractionLog:
        """The logs of a simulator built on the CPU."""
        return self.logs(self.build())

    def truth(self, reward: str = "click", device: str | torch.device = "cpu") -> UserSimulator:
        """The simulator itself, which pays its own reward."""
        return self.build(device)

    def inputs(self, log: InteractionLog) -> dict[str, Any]:
        return run_inputs(log, self.name, self.arguments())

    def logs(self, simulator: UserSimulator) -> InteractionLog:
        """Logs of every user under a uniform logging policy; every user and item must appear, so that
        ids match the simulator's."""
        uniform = torch.ones(simulator.n_items)
        log = collect_logs(simulator, uniform, self.sessions_per_user, self.horizon, self.seed, self.label)
        if log.n_users != simulator.n_users or log.n_items != simulator.n_items:
            raise SimulatorError(
                f"the logs collected from {self.label} hold {log.n_users} of its {simulator.n_users} users "
                f"and {log.n_items} of its {simulator.n_items} items; raise sessions_per_user or horizon so "
                "that every item is shown"
            )
        return log


register_source("plugin", PluginSimulator)


def _parameters(factory: Any) -> set[str]:
    try:
        return set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        return set()
