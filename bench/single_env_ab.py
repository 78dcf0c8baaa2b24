"""The single env's steps per second in two checkouts, interleaved in one run: is a change faster?

    git worktree add /tmp/before 91df15d
    OMP_NUM_THREADS=1 python bench/single_env_ab.py --trees /tmp/before . --out bench/results/ab.json

Each round runs, for each tree in turn, a fresh process with that tree first on `sys.path`, stepping
`RecEnv` with the same random actions (after a warm-up) for each simulator and observation. The summed
reward is printed beside each rate: equal sums say the trees' sessions are the same. Rates from one
run only compare with each other (this machine's speed varies by day). Writes every measurement and
the medians as JSON, and prints the medians and their ratios to the first tree.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tyro

from recgym.runs.checkpoint import atomic_write_json

MEASURE = """
import json, sys, time, numpy as np, torch
torch.set_num_threads(1)
from recgym.envs.rec_env import RecEnv
env = RecEnv(sys.argv[1], observation=sys.argv[2])
env.reset(seed=0)
actions = np.random.default_rng(0).integers(env.simulator.n_items, size=int(sys.argv[3]) + 500)
total = 0.0
def run(chunk):
    global total
    for action in chunk:
        _, reward, terminated, truncated, _ = env.step(int(action))
        total += reward
        if terminated or truncated:
            env.reset()
run(actions[:500])
start = time.perf_counter()
run(actions[500:])
print(json.dumps({"steps_per_s": (len(actions) - 500) / (time.perf_counter() - start), "reward_sum": total}))
"""


@dataclass
class Args:
    trees: tuple[str, ...]
    """Checkouts to compare (the first is the reference)."""
    simulators: tuple[str, ...] = ("world", "neumf-synthetic")
    observations: tuple[str, ...] = ("dict", "dense")
    steps: int = 6_000
    rounds: int = 3
    out: str = "bench/results/single-env-ab.json"


def measure(tree: str, simulator: str, observation: str, steps: int) -> dict:
    env = os.environ | {"PYTHONPATH": str(Path(tree).resolve()), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", MEASURE, simulator, observation, str(steps)]
    result = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(args: Args) -> dict:
    rows = []
    for round_ in range(args.rounds):
        for tree in args.trees:
            for simulator in args.simulators:
                for observation in args.observations:
                    row = {"round": round_, "tree": tree, "simulator": simulator, "observation": observation}
                    rows.append(row | measure(tree, simulator, observation, args.steps))
                    print(rows[-1], flush=True)
    rates: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        rates.setdefault((r["tree"], r["simulator"], r["observation"]), []).append(r["steps_per_s"])
    medians = [
        {"tree": key[0], "simulator": key[1], "observation": key[2], "steps_per_s": statistics.median(v)}
        for key, v in rates.items()
    ]
    print("| tree | simulator | observation | steps/s (median) | / first tree |")
    print("| --- | --- | --- | --- | --- |")
    for m in medians:
        reference = statistics.median(rates[(args.trees[0], m["simulator"], m["observation"])])
        rate, ratio = f"{m['steps_per_s']:,.0f}", f"{m['steps_per_s'] / reference:.2f}x"
        print(f"| {m['tree']} | {m['simulator']} | {m['observation']} | {rate} | {ratio} |")
    report = {"settings": vars(args), "rows": rows, "medians": medians}
    atomic_write_json(args.out, report)
    return report


if __name__ == "__main__":
    main(tyro.cli(Args))
