"""Gymnasium environments over recgym simulators, registered under the `recgym/` namespace.

- `recgym/SyntheticWorld-v0`: the synthetic ground-truth world itself (fast; no fitting).
- `recgym/NeuMF-Synthetic-v0`: NeuMF fitted on the default synthetic logs plus the dynamics
  (fitted on first use, then loaded from the cache, see `recgym.simulators.registry`).
"""

from gymnasium.envs.registration import register

from envs.rec_env import RecEnv, observation_space

register(id="recgym/SyntheticWorld-v0", entry_point="envs.rec_env:RecEnv", kwargs={"simulator": "world"})
register(
    id="recgym/NeuMF-Synthetic-v0", entry_point="envs.rec_env:RecEnv", kwargs={"simulator": "neumf-synthetic"}
)

__all__ = ["RecEnv", "observation_space"]
