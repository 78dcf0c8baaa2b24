"""Simulator and training throughput: the batched env against a one-user Python loop, and SB3 on both.

    python bench/throughput.py --device cpu --out bench/results/throughput-cpu.json
    python bench/throughput.py --device cuda --out throughput-cuda.json --batches 1 256 4096 65536 1048576

Rows: {"what", "simulator", "device", "batch", "user_steps_per_s"} with `what` one of
`batched-env` (RecVectorEnv.step_tensors with random actions; `batched-env-unchecked` without the id
range and reward checks, which are on by default on a CPU), `single-env-loop` (RecEnv.step in a
Python loop; `single-env-compiled` with `compile=True`, the row's `compile_seconds` being its first
step; `single-env-dense` (-compiled) with `observation="dense"`), `batched-env-catalog` /
`single-env-catalog` (-compiled) (the synthetic world with `--catalogs` items, at `--catalog-batch`
users and alone), `sb3-dqn` / `sb3-ppo` (env-steps per second of `learn`, on one RecEnv or on the
batched env through SB3VecEnv), `device-dqn` (env-steps per second of `DeviceDQN.learn`),
`recsim-single-env` (RecSim's interest-evolution env, one user, with `--recsim-python`:
bench/recsim_side.py). On CUDA, batched-env rows also carry `peak_mib_per_million_users`.
Prints the table and the ratios; compare figures only within one run.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import tyro
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from recgym.agents.device_dqn import DeviceDQN, DeviceDQNConfig
from recgym.envs.candidates import CandidateEnv
from recgym.envs.rec_env import RecEnv
from recgym.envs.sb3_vec_env import SB3VecEnv
from recgym.envs.vector_env import RecVectorEnv
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.registry import make_simulator


@dataclass
class Args:
    """Throughput benchmark settings."""

    device: str = "cpu"
    """Torch device of the simulators."""
    out: str = "throughput.json"
    """JSON file for the rows."""
    simulators: tuple[str, ...] = ("world", "neumf-synthetic")
    """Registered simulators to measure."""
    batches: tuple[int, ...] = (1, 16, 256, 4096, 65536)
    """Batch sizes of the batched env."""
    seconds: float = 2.0
    """Approximate measuring time per row."""
    train_steps: int = 20_000
    """Env steps per SB3 training measurement."""
    train_batch: int = 1024
    """Users in the batched env for the SB3 rows."""
    device_dqn_batches: tuple[int, ...] = (1024,)
    """Users in the batched env for the on-device DQN rows."""
    compile_batches: tuple[int, ...] = ()
    """Batch sizes to measure again with the step fused by torch.compile (rows `batched-env-compiled`)."""
    catalogs: tuple[int, ...] = (200, 1_000, 10_000, 100_000)
    """Catalog sizes of the synthetic world for the rows `batched-env-catalog` and `single-env-catalog`."""
    catalog_batch: int = 1024
    """Users in the batched env for the catalog rows."""
    parts: tuple[Literal["envs", "training", "single-training", "catalogs"], ...] = (
        "envs",
        "training",
        "single-training",
        "catalogs",
    )
    """Which rows to measure: the envs by simulator and batch, SB3 and on-device training, SB3's DQN on one
    env eager and compiled (`sb3-dqn-one-env`, `-compiled`), catalog sizes."""
    recsim_python: str | None = None
    """Python of a venv with RecSim (recipe in docs/BENCHMARKS.md): adds rows `recsim-single-env`, RecSim's
    interest-evolution env with one user, beside the single-env rows (bench/recsim_side.py)."""
    recsim_candidates: tuple[int, ...] = (200, 1_000)
    """RecSim's candidate-set sizes (fixed sets, as recgym's catalog is)."""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def batched_env_rate(
    simulator, batch: int, seconds: float, compile: bool = False, check: bool | None = None
) -> tuple[float, float | None]:
    """User-steps/s of the batched env, and peak device MiB per million users (CUDA only)."""
    env = RecVectorEnv(simulator, num_envs=batch, compile=compile)
    device = simulator.device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    env.reset_tensors(seed=0)
    generator = torch.Generator(device=device).manual_seed(0)
    actions = [
        torch.randint(simulator.n_items, (batch,), generator=generator, device=device) for _ in range(8)
    ]
    for step in range(3):  # warm-up
        env.step_tensors(actions[step % 8], check)
    _sync(device)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 5:
        env.step_tensors(actions[steps % 8], check)
        steps += 1
        if steps % 8 == 0:
            _sync(device)
    _sync(device)
    rate = batch * steps / (time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 / (batch / 1e6) if device.type == "cuda" else None
    return rate, peak


def single_env_rate(
    simulator, seconds: float, compile: bool = False, observation: str = "dict"
) -> tuple[float, float]:
    """Steps/s of `RecEnv.step` in a Python loop with random actions (resetting when a session ends),
    and the seconds of the first step, which compiles the step when `compile` (not counted in the rate).
    observation "candidates": the dense `RecEnv` inside `CandidateEnv` (20 candidates, by item id)."""
    dense = "dense" if observation == "candidates" else observation
    env: RecEnv | CandidateEnv = RecEnv(simulator, compile=compile, observation=dense)
    if observation == "candidates":
        env = CandidateEnv(env, order=np.arange(simulator.n_items))
    actions = int(env.action_space.n)  # type: ignore[attr-defined]
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    env.step(int(rng.integers(actions)))
    first_step = time.perf_counter() - start
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, _, terminated, truncated, _ = env.step(int(rng.integers(actions)))
        if terminated or truncated:
            env.reset()
        steps += 1
    return steps / (time.perf_counter() - start), first_step


def recsim_rates(python: str, candidates: tuple[int, ...], seconds: float) -> list[dict]:
    """bench/recsim_side.py's rows, run by RecSim's own python on one thread."""
    command = [python, str(Path(__file__).with_name("recsim_side.py")), "--seconds", str(seconds)]
    command += ["--candidates", *map(str, candidates)]
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"}
    )
    return json.loads(done.stdout.splitlines()[-1])["rows"]


def training_rate(algorithm: str, venv, steps: int, device: str) -> float:
    """Env-steps/s of SB3's `learn`. On a batched env, DQN does what the on-device DQN does: one
    gradient step of 1,024 transitions per batched step; on one env it keeps SB3's defaults."""
    if algorithm == "dqn":
        same_updates = {"batch_size": 1024, "train_freq": 1} if venv.num_envs > 1 else {}
        model = DQN("MultiInputPolicy", venv, learning_starts=1_000, seed=0, device=device, **same_updates)
    else:
        n_steps = max(8, 2048 // venv.num_envs)
        model = PPO("MultiInputPolicy", venv, n_steps=n_steps, batch_size=256, seed=0, device=device)
    start = time.perf_counter()
    model.learn(steps)
    return model.num_timesteps / (time.perf_counter() - start)


def device_dqn_rate(world, batch: int, steps: int) -> float:
    """Env-steps/s of the on-device DQN (one gradient step of 1,024 transitions per batched step)."""
    agent = DeviceDQN(
        RecVectorEnv(world, num_envs=batch), DeviceDQNConfig(learning_starts=0, gradient_steps=1), seed=0
    )
    agent.learn(batch * 3)  # warm-up
    _sync(world.device)
    start = time.perf_counter()
    agent.learn(steps)
    _sync(world.device)
    return steps / (time.perf_counter() - start)


def main(args: Args) -> list[dict]:
    device = torch.device(args.device)
    rows: list[dict] = []

    def add(what: str, simulator: str, batch: int, rate: float, **extra) -> None:
        rows.append(
            {
                "what": what,
                "simulator": simulator,
                "device": str(device),
                "batch": batch,
                "user_steps_per_s": rate,
                **extra,
            }
        )
        print(f"{what:16s} {simulator:16s} {str(device):6s} batch {batch:>8d}  {rate:>14,.0f} /s", flush=True)

    for name in args.simulators if "envs" in args.parts else ():
        simulator = make_simulator(name, device=args.device)
        add("single-env-loop", name, 1, single_env_rate(simulator, args.seconds)[0])
        rate, compile_seconds = single_env_rate(simulator, args.seconds, compile=True)
        add("single-env-compiled", name, 1, rate, compile_seconds=compile_seconds)
        add("single-env-dense", name, 1, single_env_rate(simulator, args.seconds, observation="dense")[0])
        rate, compile_seconds = single_env_rate(simulator, args.seconds, compile=True, observation="dense")
        add("single-env-dense-compiled", name, 1, rate, compile_seconds=compile_seconds)
        if args.recsim_python and name == args.simulators[0]:
            for row in recsim_rates(args.recsim_python, args.recsim_candidates, args.seconds):
                add("recsim-single-env", f"recsim-{row['candidates']}-candidates", 1, row["steps_per_s"])
        for batch in args.batches:
            rate, peak = batched_env_rate(simulator, batch, args.seconds)
            add("batched-env", name, batch, rate, **({"peak_mib_per_million_users": peak} if peak else {}))
            add(
                "batched-env-unchecked",
                name,
                batch,
                batched_env_rate(simulator, batch, args.seconds, check=False)[0],
            )
        for batch in args.compile_batches:
            add(
                "batched-env-compiled",
                name,
                batch,
                batched_env_rate(simulator, batch, args.seconds, compile=True)[0],
            )
    for n_items in args.catalogs if "catalogs" in args.parts else ():
        catalog = make_simulator("world", n_items=n_items, device=args.device)
        label = f"world-{n_items}-items"
        add(
            "batched-env-catalog",
            label,
            args.catalog_batch,
            batched_env_rate(catalog, args.catalog_batch, args.seconds)[0],
        )
        add("single-env-catalog", label, 1, single_env_rate(catalog, args.seconds)[0])
        rate, compile_seconds = single_env_rate(catalog, args.seconds, compile=True)
        add("single-env-catalog-compiled", label, 1, rate, compile_seconds=compile_seconds)
    if "training" in args.parts:
        training_rows(args, device, add)
    if "single-training" in args.parts:
        world = make_simulator("world", device=device)
        for compile in (False, True):
            venv = VecMonitor(DummyVecEnv([lambda compile=compile: RecEnv(world, compile=compile)]))
            venv.reset()
            venv.step([0])  # the compiled env compiles here, outside the timing
            what = "sb3-dqn-one-env-compiled" if compile else "sb3-dqn-one-env"
            add(what, "world", 1, training_rate("dqn", venv, args.train_steps, args.device))
    print_ratios(args, rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, {"device": str(device), "rows": rows})
    return rows


def training_rows(args: Args, device: torch.device, add) -> None:
    """SB3's DQN on one env and SB3's DQN and PPO and the on-device DQN on the batched env."""
    world = make_simulator("world", device=device)
    single = VecMonitor(DummyVecEnv([lambda: RecEnv(world)]))
    add("sb3-dqn", "world", 1, training_rate("dqn", single, args.train_steps, args.device))
    for algorithm in ("dqn", "ppo"):
        venv = VecMonitor(SB3VecEnv(RecVectorEnv(world, num_envs=args.train_batch), seed=0))
        add(
            f"sb3-{algorithm}",
            "world",
            args.train_batch,
            training_rate(algorithm, venv, args.train_steps * 5, args.device),
        )
    for batch in args.device_dqn_batches:
        add(
            "device-dqn", "world", batch, device_dqn_rate(world, batch, max(args.train_steps * 5, batch * 50))
        )


def print_ratios(args: Args, rows: list[dict]) -> None:
    """The ratios of the rows measured, within this run."""
    print("\nratios (same run):")
    for name in args.simulators if "envs" in args.parts else ():
        loop = next(
            r["user_steps_per_s"] for r in rows if r["what"] == "single-env-loop" and r["simulator"] == name
        )
        best = max(
            (r for r in rows if r["what"] == "batched-env" and r["simulator"] == name),
            key=lambda r: r["user_steps_per_s"],
        )
        print(
            f"  {name}: batched env at batch {best['batch']} / single-env loop = "
            f"{best['user_steps_per_s'] / loop:,.0f}x"
        )
    rates = {(r["what"], r["simulator"], r["batch"]): r["user_steps_per_s"] for r in rows}
    for (what, name, _), rate in rates.items():
        if what in ("single-env-compiled", "single-env-dense-compiled"):
            eager = rates[
                ("single-env-loop" if what == "single-env-compiled" else "single-env-dense", name, 1)
            ]
            print(f"  {name}: {what} / eager = {rate / eager:.1f}x")
        if what == "recsim-single-env":
            for simulator in args.simulators:
                for single in ("single-env-loop", "single-env-compiled"):
                    ours = rates[(single, simulator, 1)]
                    print(f"  {single}, {simulator} / RecSim, {name} = {ours / rate:.2f}x")
    for (what, name, batch), rate in rates.items():
        if what == "batched-env":
            unchecked = rates[("batched-env-unchecked", name, batch)]
            print(f"  {name}, batch {batch}: checked step / unchecked step = {rate / unchecked:.2f}")
    catalog = {r["simulator"]: r["user_steps_per_s"] for r in rows if r["what"] == "batched-env-catalog"}
    if catalog:
        smallest = next(iter(catalog.values()))
        for name, rate in catalog.items():
            print(f"  batched env, {name}: {rate / smallest:.2f}x the smallest catalog's rate")
    sb3 = {(r["what"], r["batch"]): r["user_steps_per_s"] for r in rows if r["what"].startswith("sb3")}
    if ("sb3-dqn-one-env-compiled", 1) in sb3:
        compiled, eager = sb3[("sb3-dqn-one-env-compiled", 1)], sb3[("sb3-dqn-one-env", 1)]
        print(f"  sb3-dqn on one env, compiled / eager = {compiled / eager:.2f}x")
    if "training" in args.parts:
        print(
            f"  sb3-dqn on the batched env ({args.train_batch} users) / on one env = "
            f"{sb3[('sb3-dqn', args.train_batch)] / sb3[('sb3-dqn', 1)]:,.1f}x"
        )
        best_device = max(r["user_steps_per_s"] for r in rows if r["what"] == "device-dqn")
        print(f"  device-dqn (best batch) / sb3-dqn on one env = {best_device / sb3[('sb3-dqn', 1)]:,.0f}x")


if __name__ == "__main__":
    main(tyro.cli(Args))
