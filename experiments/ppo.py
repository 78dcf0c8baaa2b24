"""The experiments.dqn run with stable-baselines3's PPO as the agent: `python -m experiments.ppo`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with the agent defaulting to `agent:sb3-ppo`.
"""

from __future__ import annotations

from recgym.agents.sb3.algorithms import PPOConfig
from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.experiments.common import run_cli

if __name__ == "__main__":
    run_cli(train_and_evaluate, RunConfig, default=RunConfig(agent=PPOConfig()))
