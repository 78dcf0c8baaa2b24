"""Gymnasium environments over recgym simulators, registered under the `recgym/` namespace.

Each id builds the single-user `RecEnv` with `gymnasium.make` and the batched `RecVectorEnv` with
`gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`.

- `recgym/SyntheticWorld-v0`: the synthetic ground-truth world itself (fast; no fitting).
- `recgym/<Model>-Synthetic-v0` for each model of the zoo (NeuMF, MF, AutoRec, GRU4Rec, Caser,
  SASRec): that model fitted on the default synthetic logs plus the dynamics (fitted on first use, then
  loaded from the cache, see `recgym.simulators.registry`). The sequence models (GRU4Rec, Caser,
  SASRec) give the sequence simulator, whose users' interest moves with what they consume.
- `recgym/SyntheticWorld-Slate-v0`, `recgym/NeuMF-Synthetic-Slate-v0`: the same with slates of 5
  (`SlateEnv`, `SlateVectorEnv`; `choice=ChoiceConfig(...)` sets the size and the choice model).
- `recgym/SyntheticWorld-Dense-v0`, `recgym/<Model>-Synthetic-Dense-v0`: the same envs with the dense
  float32 observation (`envs.dense`) that outside RL libraries' MLPs learn from; any id also takes
  `observation="dense"`. From a script that does not import recgym, Gymnasium's module-qualified id
  imports it: `gym.make("recgym.envs:recgym/SyntheticWorld-Dense-v0")`.
- `recgym/SyntheticWorld-Candidates-v0`: the world's dense env acting through 20 candidates, the
  best unshown items by the logs' popularity (`envs.candidates`; `k=`, `order=`): each action is a
  fresh item, and the observation's width does not grow with the catalog.

Keyword arguments of `gym.make` reach the env (`horizon`, `history_len`, `observation`, ...) and,
through `simulator_kwargs`, the simulator (e.g. `simulator_kwargs={"n_items": 1000}`).
"""

from gymnasium.envs.registration import register

from recgym.envs.candidates import CandidateEnv
from recgym.envs.dense import DenseObservation
from recgym.envs.rec_env import RecEnv, observation_space
from recgym.envs.slate_env import SlateEnv, SlateVectorEnv
from recgym.envs.vector_env import RecVectorEnv

DISPLAY_NAMES = {
    "neumf": "NeuMF",
    "mf": "MF",
    "autorec": "AutoRec",
    "gru4rec": "GRU4Rec",
    "caser": "Caser",
    "sasrec": "SASRec",
}

for env_id, simulator in (
    ("recgym/SyntheticWorld-v0", "world"),
    *((f"recgym/{display}-Synthetic-v0", f"{model}-synthetic") for model, display in DISPLAY_NAMES.items()),
):
    register(
        id=env_id,
        entry_point="recgym.envs.rec_env:RecEnv",
        vector_entry_point="recgym.envs.vector_env:RecVectorEnv",
        kwargs={"simulator": simulator},
    )
    register(
        id=env_id.replace("-v0", "-Dense-v0"),
        entry_point="recgym.envs.rec_env:RecEnv",
        vector_entry_point="recgym.envs.vector_env:RecVectorEnv",
        kwargs={"simulator": simulator, "observation": "dense"},
    )

register(
    id="recgym/SyntheticWorld-Candidates-v0",
    entry_point="recgym.envs.candidates:make_candidate_env",
    kwargs={"simulator": "world"},
)

for env_id, simulator in (
    ("recgym/SyntheticWorld-Slate-v0", "world"),
    ("recgym/NeuMF-Synthetic-Slate-v0", "neumf-synthetic"),
):
    register(
        id=env_id,
        entry_point="recgym.envs.slate_env:SlateEnv",
        vector_entry_point="recgym.envs.slate_env:SlateVectorEnv",
        kwargs={"simulator": simulator},
    )

__all__ = [
    "CandidateEnv",
    "DenseObservation",
    "RecEnv",
    "RecVectorEnv",
    "SlateEnv",
    "SlateVectorEnv",
    "observation_space",
]
