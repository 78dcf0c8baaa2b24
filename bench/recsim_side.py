"""RecSim's side of `throughput.py`: steps/s of RecSim's interest-evolution env, one user, random actions.

Run it with RecSim's own venv (it needs the old `gym`, never recgym's; recipe in docs/BENCHMARKS.md):

    OMP_NUM_THREADS=1 .venv-recsim/bin/python bench/recsim_side.py --candidates 200 1000 --seconds 2

`bench/throughput.py --recsim-python .venv-recsim/bin/python` calls it beside its single-env rows.
Each row steps `interest_evolution.create_environment` (slate of one, `resample_documents` False: a
fixed candidate set, as recgym's catalog is; `--resample` draws new candidates each step, RecSim's
default) with uniformly random candidates and resets when the session ends. Prints one JSON object:
{"rows": [{"candidates", "resample", "steps_per_s", "steps"}], "recsim": version}.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version

import numpy as np
from recsim.environments import interest_evolution


def steps_per_second(candidates: int, resample: bool, seconds: float) -> tuple[float, int]:
    """Steps/s of one interest-evolution user stepped with random candidates for about `seconds`."""
    config = {"num_candidates": candidates, "slate_size": 1, "resample_documents": resample, "seed": 0}
    env = interest_evolution.create_environment(config)
    env.reset()
    rng = np.random.default_rng(0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done = env.step([int(rng.integers(candidates))])[2]
        if done:
            env.reset()
        steps += 1
    return steps / (time.perf_counter() - start), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, nargs="+", default=[200])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--resample", action="store_true", help="new candidates every step")
    args = parser.parse_args()
    rows = []
    for candidates in args.candidates:
        rate, steps = steps_per_second(candidates, args.resample, args.seconds)
        row = {"candidates": candidates, "resample": args.resample, "steps_per_s": rate, "steps": steps}
        rows.append(row)
    print(json.dumps({"rows": rows, "recsim": version("recsim-no-tf")}))


if __name__ == "__main__":
    main()
