"""Simulators by name, so envs and CLIs can build the defaults (and plug-ins) from a string."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recgym.simulators.protocol import UserSimulator

SimulatorFactory = Callable[..., UserSimulator]
_REGISTRY: dict[str, SimulatorFactory] = {}


def default_cache_dir() -> Path:
    """Where fitted user models are cached: $RECGYM_CACHE, else ~/.cache/recgym."""
    return Path(os.environ.get("RECGYM_CACHE", Path.home() / ".cache" / "recgym"))


def register_simulator(name: str, factory: SimulatorFactory) -> None:
    """Make `make_simulator(name, **kwargs)` call `factory(**kwargs)`."""
    if not name or name != name.lower():
        raise ValueError(f"simulator names are non-empty and lowercase, got {name!r}")
    _REGISTRY[name] = factory


def registered_simulators() -> list[str]:
    return sorted(_REGISTRY)


def make_simulator(name: str, **kwargs: Any) -> UserSimulator:
    """Build a registered simulator by name."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown simulator {name!r}; registered: {registered_simulators()}")
    return _REGISTRY[name](**kwargs)


def _world(**kwargs: Any) -> UserSimulator:
    from recgym.simulators.world import GroundTruthWorld

    return GroundTruthWorld(**kwargs)


def _neumf_synthetic(
    cache_dir: str | Path | None = None, device: str = "cpu", reward: str = "click", progress: bool = False
) -> UserSimulator:
    """NeuMF fitted on the default synthetic logs (fitted once, then loaded from the cache)."""
    from recgym.data.synthetic import generate_logs
    from recgym.models.fitted import fit_user_model
    from recgym.simulators.log_fitted import LogFittedSimulator

    log, _ = generate_logs()
    fitted = fit_user_model(log, cache_dir=cache_dir or default_cache_dir(), progress=progress)
    return LogFittedSimulator(fitted, reward=reward, device=device)


register_simulator("world", _world)
register_simulator("neumf-synthetic", _neumf_synthetic)
