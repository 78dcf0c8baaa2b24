"""The experiments.dqn pipeline with top-K off-policy-corrected REINFORCE on slates of 5:
`python -m experiments.topk_reinforce`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with `--agent` defaulting to topk-reinforce and
`--choice.slate-size` to 5 (the baselines serve their top 5).
"""

from __future__ import annotations

from recgym.experiments.common import run_cli
from recgym.experiments.dqn import Args, main
from recgym.simulators.choice import ChoiceConfig

if __name__ == "__main__":
    run_cli(main, Args, default=Args(agent="topk-reinforce", choice=ChoiceConfig(slate_size=5)))
