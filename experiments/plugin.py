"""A plug-in simulator as the world of an experiment: `--simulator module.path:ClassName`.

With `--simulator`, the named simulator replaces the logs and the fitted simulator: agents train and
are evaluated in it, and the logs that the user models of the baselines are fitted on are collected
from it by a uniform logging policy (so greedy-by-a-fitted-model, popular and the agents' initial
embeddings exist for any simulator). It is verified by `check_simulator` before anything runs.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

import torch

from recgym.data import InteractionLog
from recgym.data.simulated_logs import collect_logs
from recgym.data.synthetic import LoggingConfig
from recgym.simulators.check import check_simulator
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import check_simulator_arguments, make_simulator, simulator_factory


@dataclass
class PluginArgs:
    """The `--simulator` options every experiment takes."""

    simulator: str | None = None
    """A plug-in simulator as the world, instead of the --data logs and the simulator fitted on them: an
    import path `module.path:ClassName` or a registered name (docs/custom_simulator.md). Agents train and
    are evaluated in it; user models are fitted on its own logs (--synthetic.sessions-per-user sessions
    of every user, --synthetic.horizon steps long, items drawn uniformly). An import path imports that
    module (running its code) and calls the named object with --simulator-kwargs: name only code you
    trust."""
    simulator_kwargs: str = "{}"
    """Keyword arguments of --simulator, as a JSON object (its `device` defaults to --device)."""

    def __post_init__(self) -> None:
        """A bad --simulator or --simulator-kwargs stops the run before anything is read or written."""
        kwargs = parse_kwargs(self.simulator_kwargs)
        if self.simulator is not None:
            check_simulator_arguments(self.simulator, kwargs)


def parse_kwargs(text: str) -> dict[str, Any]:
    """`--simulator-kwargs` (a JSON object) as keyword arguments, with an error naming the option."""
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--simulator-kwargs must be a JSON object, e.g. '{{\"n_items\": 50}}' ({error})"
        ) from error
    if not isinstance(kwargs, dict):
        raise ValueError(f"--simulator-kwargs must be a JSON object, got {text!r}")
    return kwargs


def plugin_simulator(name: str, kwargs_json: str = "{}", device: str = "cpu") -> UserSimulator:
    """The simulator `name` (registered, or `module.path:ClassName`) built with the JSON kwargs, on
    `device` when its constructor takes one, and checked."""
    kwargs = parse_kwargs(kwargs_json)
    if "device" not in kwargs and "device" in inspect.signature(simulator_factory(name)).parameters:
        kwargs["device"] = device
    simulator = make_simulator(name, **kwargs)
    check_simulator(simulator)
    return simulator


def plugin_label(name: str) -> str:
    """Short name of a plug-in simulator for run folders: 'toycatalog' for 'my.module:ToyCatalog'."""
    return name.rpartition(":")[2].rpartition(".")[2].lower() or name


def plugin_logs(simulator: UserSimulator, logging: LoggingConfig, name: str) -> InteractionLog:
    """Logs of every user of simulator under a uniform logging policy (`logging` sets the sessions per
    user, their horizon and the seed); every user and item must appear, so ids match the simulator's."""
    uniform = torch.ones(simulator.n_items)
    log = collect_logs(simulator, uniform, logging.sessions_per_user, logging.horizon, logging.seed, name)
    if log.n_users != simulator.n_users or log.n_items != simulator.n_items:
        raise ValueError(
            f"the logs collected from {name} hold {log.n_users} of its {simulator.n_users} users and "
            f"{log.n_items} of its {simulator.n_items} items; raise --synthetic.sessions-per-user or "
            "--synthetic.horizon so that every item is shown"
        )
    return log
