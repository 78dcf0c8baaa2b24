"""The experiments.dqn pipeline with SlateQ on slates of 5: `python -m experiments.slateq`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with `--agent` defaulting to slateq and `--choice.slate-size` to 5
(the baselines serve their top 5).
"""

from __future__ import annotations

from recgym.experiments.common import run_cli
from recgym.experiments.dqn import Args, main
from recgym.simulators.choice import ChoiceConfig

if __name__ == "__main__":
    run_cli(main, Args, default=Args(agent="slateq", choice=ChoiceConfig(slate_size=5)))
