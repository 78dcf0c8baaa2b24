"""The experiments.dqn run with sb3-contrib's QR-DQN as the agent: `python -m experiments.qrdqn`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with the agent defaulting to `agent:sb3-qrdqn`.
"""

from __future__ import annotations

from recgym.agents.sb3.algorithms import QRDQNConfig
from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.experiments.common import run_cli

if __name__ == "__main__":
    run_cli(train_and_evaluate, RunConfig, default=RunConfig(agent=QRDQNConfig()))
