"""The single env's steps/s, eager and compiled, beside RecSim's: rounds interleaved, medians.

    OMP_NUM_THREADS=1 python bench/single_env.py --recsim-python .venv-recsim/bin/python \
        --out bench/results/single-env-compiled.json

One `RecEnv` stepped with random items by `throughput.single_env_rate` for each simulator, observation
("dict", "dense") and `compile` setting, then RecSim's interest-evolution env (one user, fixed
candidate sets of `--recsim-candidates`, bench/recsim_side.py in RecSim's venv), all of them once per
round. This machine's speed drifts by tens of percent within minutes, so every configuration runs in
every round and the table gives the median and the range. Compiling happens once per process and
configuration (its seconds are the first step of the first round). Writes JSON {"rows": [{"what",
"simulator", "observation", "round", "steps_per_s", "first_step_seconds"}]}.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
import tyro
from throughput import recsim_rates, single_env_rate

from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.registry import make_simulator


@dataclass
class Args:
    simulators: tuple[str, ...] = ("world", "neumf-synthetic")
    observations: tuple[str, ...] = ("dict", "dense")
    """"dict", "dense", or "candidates" (the dense env through `CandidateEnv`, 20 candidates)."""
    rounds: int = 3
    seconds: float = 2.0
    """Measuring time per configuration and round."""
    recsim_python: str | None = None
    """Python of a venv with RecSim (docs/BENCHMARKS.md); without it, no RecSim rows."""
    recsim_candidates: tuple[int, ...] = (200, 1_000)
    out: str = "bench/results/single-env-compiled.json"


def main(args: Args) -> list[dict]:
    torch.set_num_threads(1)
    simulators = {name: make_simulator(name) for name in args.simulators}
    rows: list[dict] = []
    for round_ in range(args.rounds):
        for name, simulator in simulators.items():
            for observation in args.observations:
                for compile in (False, True):
                    rate, first = single_env_rate(simulator, args.seconds, compile, observation)
                    what = "compiled" if compile else "eager"
                    rows.append(_row(what, name, observation, round_, rate, first))
        if args.recsim_python:
            for recsim in recsim_rates(args.recsim_python, args.recsim_candidates, args.seconds):
                name = f"recsim-{recsim['candidates']}-candidates"
                rows.append(_row("recsim", name, "recsim", round_, recsim["steps_per_s"], 0.0))
        print(f"round {round_ + 1} of {args.rounds} done", flush=True)
    print_table(rows)
    atomic_write_json(args.out, {"settings": vars(args), "rows": rows})
    return rows


def _row(what: str, simulator: str, observation: str, round_: int, rate: float, first: float) -> dict:
    return {
        "what": what,
        "simulator": simulator,
        "observation": observation,
        "round": round_,
        "steps_per_s": rate,
        "first_step_seconds": first,
    }


def print_table(rows: list[dict]) -> None:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["what"], row["simulator"], row["observation"]), []).append(row)
    print("| env | simulator | observation | steps/s, median (range) | first step s |")
    print("| --- | --- | --- | --- | --- |")
    for (what, simulator, observation), group in groups.items():
        rates = [row["steps_per_s"] for row in group]
        spread = f"{statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f})"
        print(f"| {what} | {simulator} | {observation} | {spread} | {group[0]['first_step_seconds']:.1f} |")


if __name__ == "__main__":
    main(tyro.cli(Args))
