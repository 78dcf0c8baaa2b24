"""Gymnasium environments over recgym simulators, registered under the `recgym/` namespace.

Each id builds the single-user `RecEnv` with `gymnasium.make` and the batched `RecVectorEnv` with
`gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`.

- `recgym/SyntheticWorld-v0`: the synthetic ground-truth world itself (fast; no fitting).
- `recgym/NeuMF-Synthetic-v0`: NeuMF fitted on the default synthetic logs plus the dynamics
  (fitted on first use, then loaded from the cache, see `recgym.simulators.registry`).
"""

from gymnasium.envs.registration import register

from envs.rec_env import RecEnv, observation_space
from envs.vector_env import RecVectorEnv

for env_id, simulator in (
    ("recgym/SyntheticWorld-v0", "world"),
    ("recgym/NeuMF-Synthetic-v0", "neumf-synthetic"),
):
    register(
        id=env_id,
        entry_point="envs.rec_env:RecEnv",
        vector_entry_point="envs.vector_env:RecVectorEnv",
        kwargs={"simulator": simulator},
    )

__all__ = ["RecEnv", "RecVectorEnv", "observation_space"]
