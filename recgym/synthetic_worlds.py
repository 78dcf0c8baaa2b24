"""The built-in simulators that `make_simulator` and the registered Gymnasium ids name: "world" (the
ground-truth world) and "<model>-synthetic" (a zoo model fitted on the world's logs, with the dynamics
learned from their sessions, cached). `recgym.simulators.registry` names them by import path, so the
registry imports nothing above it; their keyword arguments are the configs' fields, flat, as JSON gives
them (`n_items=1000`).
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

from recgym.cache_folder import cache_folder
from recgym.data.sources import SyntheticLogs
from recgym.data.synthetic import DefaultLogs, LoggingConfig
from recgym.models.fitted import UserModelConfig
from recgym.models.zoo import MODEL_NAMES, ModelName, default_architecture
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import SimulatorError, SimulatorFactory
from recgym.simulators.rewards import RewardName
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld
from recgym.world import WorldConfig, build_world


def world(config: Any = None, device: str = "cpu", reward: str = "click", **fields: Any) -> UserSimulator:
    """The ground-truth world, knowing what its default logs tell (users' vectors, items' popularity):
    `config` a `GroundTruthConfig`, or its fields as plain keyword arguments (`n_items=1000`; `dynamics` as a
    dict of `DynamicsConfig` fields), as JSON can give them."""
    config = _with_fields(config or GroundTruthConfig(), fields, "world")
    return GroundTruthWorld(config, device, reward, logs=DefaultLogs())


def _taking_fields_of(factory: SimulatorFactory, *config_classes: type) -> SimulatorFactory:
    """factory, its signature naming the config classes' fields in place of `**fields`, so that
    `check_simulator_arguments` (and `help`) know every keyword it takes."""
    signature = inspect.signature(factory)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    names = dict.fromkeys(field.name for cls in config_classes for field in dataclasses.fields(cls))
    fields = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in names]
    factory.__signature__ = signature.replace(parameters=own + fields)  # type: ignore[attr-defined]
    return factory


def _with_fields(config: Any, fields: dict[str, Any], simulator: str) -> Any:
    """config with some of its fields replaced; SimulatorError naming a field it does not have. A
    nested config (a dataclass field) may be given as a dict of its fields."""
    known = {field.name: field for field in dataclasses.fields(config)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise SimulatorError(
            f"simulator {simulator!r} takes no argument {unknown[0]!r}; it takes "
            f"{', '.join(['config', 'device', 'reward', *known])}"
        )
    nested = {
        name: _with_fields(getattr(config, name), value, simulator)
        for name, value in fields.items()
        if isinstance(value, dict) and dataclasses.is_dataclass(getattr(config, name))
    }
    return dataclasses.replace(config, **(fields | nested))


def _world_fields_lifted(logs: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """fields with those of the logs' world (`n_items`, `n_users`, ...) moved into `world`, so they can
    be given flat; the logs' own fields (`seed`, `horizon`) keep their names."""
    own = {field.name for field in dataclasses.fields(logs)}
    world_names = {field.name for field in dataclasses.fields(logs.world)} - own
    lifted = {name: fields[name] for name in fields if name in world_names}
    if not lifted:
        return fields
    world = fields.get("world", {})
    if not isinstance(world, dict):
        world = dataclasses.asdict(world)
    rest = {name: value for name, value in fields.items() if name not in lifted}
    return rest | {"world": world | lifted}


def fitted_on_synthetic_logs(model: ModelName) -> SimulatorFactory:
    def factory(
        config: Any = None,
        cache_dir: str | Path | None = None,
        device: str = "cpu",
        reward: RewardName = "click",
        progress: bool = True,
        **fields: Any,
    ) -> UserSimulator:
        logs = config or SyntheticLogs().logging
        logs = _with_fields(logs, _world_fields_lifted(logs, fields), f"{model}-synthetic")
        world = WorldConfig(
            data=SyntheticLogs(logs), user_model=UserModelConfig(default_architecture(model)), reward=reward
        )
        return build_world(world, cache_folder(cache_dir), device, progress).simulator

    factory.__doc__ = (
        f"{model} fitted on the synthetic logs with the dynamics learned from their sessions, made once and"
        " then loaded from the cache. `config` is the logs' `LoggingConfig`, or give its fields and its"
        " world's (`n_items=1000`, or `world={'n_items': 1000}`) as plain keyword arguments."
    )
    return factory


world = _taking_fields_of(world, GroundTruthConfig)


def __getattr__(name: str) -> SimulatorFactory:
    """`<model>_synthetic`: the factory of "<model>-synthetic", for every model of the zoo (PEP 562)."""
    model = name.removesuffix("_synthetic")
    if name.endswith("_synthetic") and model in MODEL_NAMES:
        return _taking_fields_of(fitted_on_synthetic_logs(model), LoggingConfig, GroundTruthConfig)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
