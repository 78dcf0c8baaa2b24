"""The experiments.dqn run with SlateQ on slates of 5 as the agent: `python -m experiments.slateq`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with the agent defaulting to `agent:slateq` and
`--choice.slate-size` to 5 (the baselines serve their top 5).
"""

from __future__ import annotations

from recgym.agents.slateq import SlateQConfig
from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.experiments.common import run_cli
from recgym.simulators.choice import ChoiceConfig

if __name__ == "__main__":
    run_cli(
        train_and_evaluate,
        RunConfig,
        default=RunConfig(agent=SlateQConfig(), choice=ChoiceConfig(slate_size=5)),
    )
