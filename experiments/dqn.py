"""Logs -> fitted user simulator -> an agent trained in it -> evaluation beside the supervised baselines.

    python -m experiments.dqn                          # synthetic logs, SlateQ: about 2 minutes on one core
    python -m experiments.dqn agent:sb3-dqn            # stable-baselines3's DQN, the paper-sized run
    python -m experiments.dqn agent:sb3-ppo data:movielens --data.path ml-100k --data.likes
    python -m experiments.dqn user-model.model:sasrec dynamics:hand-set --choice.slate-size 5
    python -m experiments.dqn agent:gpu-dqn --device cuda  # everything on the GPU
    python -m experiments.dqn --checkpoint-every 50000 [--resume]  # resume a killed run: docs/checkpoints.md
    python -m experiments.dqn --help                   # the options; `agent:sb3-ppo --help` for PPO's
    tensorboard --logdir runs

The steps, in `recgym.agents.studies.training_run.train_and_evaluate`: read the logs and open the run folder
(or check the run it resumes), build the World (user model fitted or loaded from the cache, dynamics
learned from the logs' sessions), train the agent, evaluate it and the baselines on the same users,
write results.json, results.md and TensorBoard scalars. Typed choices (`agent:`, `data:`,
`user-model.model:`, `dynamics:`) and options come in any order; `--import my_module` first imports a
module of yours whose registered agents and data sources are then choices too.
"""

from __future__ import annotations

from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.experiments.common import run_cli

if __name__ == "__main__":
    run_cli(train_and_evaluate, RunConfig)
