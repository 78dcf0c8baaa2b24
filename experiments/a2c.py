"""The experiments.dqn pipeline with stable-baselines3's A2C as the agent: `python -m experiments.a2c`.

Same logs, user model, simulator, baselines, evaluation and outputs as `experiments.dqn`; every
option of it applies (`--help`), with `--agent` defaulting to sb3-a2c.
"""

from __future__ import annotations

from recgym.experiments.common import run_cli
from recgym.experiments.dqn import Args, main

if __name__ == "__main__":
    run_cli(main, Args, default=Args(agent="sb3-a2c"))
