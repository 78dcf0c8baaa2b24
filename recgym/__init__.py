"""recgym: a simulator for long-term-reward recommendation, from interaction logs to RL agents.

The common entry points, imported on first use so that `import recgym` stays cheap:

    import recgym
    world = recgym.build_world(recgym.WorldConfig())          # logs -> fitted user model -> simulator
    env = recgym.RecEnv(world.simulator)                      # a Gymnasium env of one user
    results = recgym.evaluate(world.simulator, world.baselines(), recgym.EvalConfig(n_users=500))
    results = recgym.train_and_evaluate(recgym.RunConfig(agent=recgym.PPOConfig()))  # a whole run

Everything else lives in its module (`recgym.data`, `recgym.models`, `recgym.simulators`, ...).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    # logs
    "InteractionLog": "recgym.data.interactions",
    "LogError": "recgym.data.interactions",
    "load_movielens": "recgym.data.loaders",
    "load_table": "recgym.data.loaders",
    "read_logs": "recgym.data.sources",
    "FeatureTable": "recgym.data.features",
    "read_feature_table": "recgym.data.feature_files",
    "LogSource": "recgym.data.sources",
    "register_source": "recgym.data.sources",
    "SyntheticLogs": "recgym.data.sources",
    "MovieLensLogs": "recgym.data.sources",
    "TableLogs": "recgym.data.sources",
    # user models
    "UserModelConfig": "recgym.models.fitted",
    "NeuMFConfig": "recgym.models.neumf",
    "MFConfig": "recgym.models.mf",
    "AutoRecConfig": "recgym.models.autorec",
    "GRU4RecConfig": "recgym.models.gru4rec",
    "CaserConfig": "recgym.models.caser",
    "SASRecConfig": "recgym.models.sasrec",
    "FittedUserModel": "recgym.models.fitted",
    "fit_user_model": "recgym.models.fitted",
    # worlds and simulators
    "WorldConfig": "recgym.world",
    "World": "recgym.world",
    "build_world": "recgym.world",
    "LearnDynamics": "recgym.world",
    "HandSetDynamics": "recgym.world",
    "PluginSimulator": "recgym.simulators.plugin",
    "make_simulator": "recgym.simulators.registry",
    "register_simulator": "recgym.simulators.registry",
    "check_simulator": "recgym.simulators.check",
    "UserSimulator": "recgym.simulators.protocol",
    # envs
    "RecEnv": "recgym.envs.rec_env",
    "SlateEnv": "recgym.envs.slate_env",
    "RecVectorEnv": "recgym.envs.vector_env",
    "SB3VecEnv": "recgym.envs.sb3_vec_env",
    "CandidateEnv": "recgym.envs.candidates",
    # policies and evaluation
    "Policy": "recgym.policy",
    "RankingPolicy": "recgym.policy",
    "GreedyPolicy": "recgym.baselines",
    "PopularPolicy": "recgym.baselines",
    "RandomPolicy": "recgym.baselines",
    "EvalConfig": "recgym.evaluation",
    "evaluate": "recgym.evaluation",
    "markdown_table": "recgym.reports.results",
    # agents and training runs
    "AGENTS": "recgym.agents.zoo",
    "register_agent": "recgym.agents.zoo",
    "TrainOptions": "recgym.agents.contract",
    "make_agent": "recgym.agents.zoo",
    "load_agent": "recgym.agents.zoo",
    "save_agent": "recgym.agents.training.checkpoint",
    "DQNConfig": "recgym.agents.sb3.dqn",
    "PPOConfig": "recgym.agents.sb3.algorithms",
    "A2CConfig": "recgym.agents.sb3.algorithms",
    "QRDQNConfig": "recgym.agents.sb3.algorithms",
    "DeviceDQNConfig": "recgym.agents.device_dqn",
    "SlateQConfig": "recgym.agents.slateq",
    "TopKReinforceConfig": "recgym.agents.topk_reinforce",
    "RunConfig": "recgym.agents.studies.training_run",
    "train_and_evaluate": "recgym.agents.studies.training_run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an entry point's module when the name is first read (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'recgym' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
