"""Wall time each training setup needs to beat greedy supervised in the default world.

    python bench/time_to_beat_greedy.py --out bench/results/time-to-beat-greedy-cpu.json

Every `eval_every` env steps the agent is evaluated (greedy Q over unseen items, 1,000 sessions,
the same users and random streams as greedy); the clock counts training only, not evaluation. An
agent beats greedy when the 95% intervals of their mean returns stop overlapping. Rows:
{"agent", "device", "beat", "env_steps", "train_seconds", "return_mean", "return_ci95", "greedy_ci95"}.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecMonitor

from recgym.agents.device_dqn import DeviceDQN, DeviceDQNConfig
from recgym.agents.sb3.dqn import DQNConfig, QPolicy, make_dqn
from recgym.baselines import GreedyPolicy
from recgym.cache_folder import cache_folder
from recgym.data.synthetic import generate_logs
from recgym.envs.rec_env import RecEnv
from recgym.envs.sb3_vec_env import SB3VecEnv
from recgym.envs.vector_env import RecVectorEnv
from recgym.evaluation import EvalConfig, evaluate
from recgym.models.fitted import fit_user_model
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.log_fitted import LogFittedSimulator


@dataclass
class Args:
    """Time-to-beat-greedy benchmark settings."""

    device: str = "cpu"
    """Torch device of the simulator and the agents."""
    out: str = "time-to-beat-greedy.json"
    """JSON file for the rows."""
    budget_steps: int = 600_000
    """Most env steps per agent."""
    eval_every: int = 25_000
    """Env steps between evaluations."""
    agents: tuple[str, ...] = ("sb3-dqn", "sb3-dqn-batched", "sb3-ppo-batched", "gpu-dqn")
    """Setups to time."""


class Stopwatch:
    """Training time with evaluation pauses left out, and the first evaluation that beats greedy."""

    def __init__(self, simulator, greedy_high: float, config: EvalConfig):
        self.simulator, self.greedy_high, self.config = simulator, greedy_high, config
        self.train_seconds, self.started = 0.0, time.perf_counter()
        self.result: dict | None = None

    def check(self, q_net_or_policy, env_steps: int) -> bool:
        """Evaluate; returns True while greedy is not yet beaten."""
        self.train_seconds += time.perf_counter() - self.started
        policy = q_net_or_policy if hasattr(q_net_or_policy, "act") else QPolicy(q_net_or_policy)
        metrics = evaluate(self.simulator, {"agent": policy}, self.config)["policies"]["agent"]
        self.result = {
            "env_steps": env_steps,
            "train_seconds": self.train_seconds,
            "return_mean": metrics["return_mean"],
            "return_ci95": metrics["return_ci95"],
            "beat": metrics["return_ci95"][0] > self.greedy_high,
        }
        print(
            f"  {env_steps:>8d} steps {self.train_seconds:7.1f} s  return {metrics['return_mean']:.3f}",
            flush=True,
        )
        self.started = time.perf_counter()
        return not self.result["beat"]


class SB3Check(BaseCallback):
    def __init__(self, stopwatch: Stopwatch, every: int, policy_of):
        super().__init__()
        self.stopwatch, self.every, self.policy_of, self.next_check = stopwatch, every, policy_of, every

    def _on_step(self) -> bool:
        if self.num_timesteps < self.next_check:
            return True
        self.next_check += self.every
        return self.stopwatch.check(self.policy_of(self.model), self.num_timesteps)


class PPOPolicy:
    """A PPO model's deterministic action as a recgym Policy (no masking: PPO picks one item)."""

    def __init__(self, model: PPO):
        self.model = model

    @torch.no_grad()
    def act(self, observation, shown, generator):
        obs = {key: value.to(self.model.device).float() for key, value in observation.items()}
        return self.model.policy.get_distribution(obs).mode().to(shown.device).long()


def main(args: Args) -> list[dict]:
    log, _ = generate_logs()
    fitted = fit_user_model(log, cache_dir=cache_folder(), progress=False)
    simulator = LogFittedSimulator(fitted, device=args.device)
    config = EvalConfig(n_users=1000, horizon=50, history_len=20, seed=0)
    greedy = evaluate(simulator, {"greedy": GreedyPolicy(fitted.scorer(args.device))}, config)["policies"][
        "greedy"
    ]
    print(f"greedy: {greedy['return_mean']:.3f} {greedy['return_ci95']}")
    initial = fitted.model.dot_embeddings()
    env_kwargs = {"horizon": 50, "history_len": 20}
    rows = []
    for agent in args.agents:
        print(agent, flush=True)
        watch = Stopwatch(simulator, greedy["return_ci95"][1], config)
        if agent == "gpu-dqn":
            env = RecVectorEnv(simulator, num_envs=256, **env_kwargs)
            model = DeviceDQN(env, DeviceDQNConfig(), seed=0, initial_embeddings=initial)
            every = max(1, args.eval_every // env.num_envs)
            model.learn(
                args.budget_steps,
                callback=lambda m, watch=watch: watch.check(m.q_net, m.num_timesteps),
                callback_every=every,
            )
        elif agent == "sb3-ppo-batched":
            venv = VecMonitor(SB3VecEnv(RecVectorEnv(simulator, num_envs=1024, **env_kwargs), seed=0))
            model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=1024, seed=0, device=args.device)
            model.learn(args.budget_steps, callback=SB3Check(watch, args.eval_every, PPOPolicy))
        else:
            if agent == "sb3-dqn":
                venv = make_vec_env(
                    RecEnv, n_envs=4, seed=0, env_kwargs={"simulator": simulator, **env_kwargs}
                )
                config_dqn = DQNConfig()
            else:
                venv = VecMonitor(SB3VecEnv(RecVectorEnv(simulator, num_envs=1024, **env_kwargs), seed=0))
                config_dqn = DQNConfig(train_freq=1, batch_size=1024, learning_starts=10_000)
            model = make_dqn(venv, config_dqn, seed=0, device=args.device, initial_embeddings=initial)
            model.learn(args.budget_steps, callback=SB3Check(watch, args.eval_every, lambda m: m.q_net))
        rows.append(
            {
                "agent": agent,
                "device": args.device,
                **(watch.result or {}),
                "greedy_ci95": greedy["return_ci95"],
            }
        )
    print("\n| agent | beat greedy | env steps | training s | return (95% CI) |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        low, high = r["return_ci95"]
        print(
            f"| {r['agent']} | {r['beat']} | {r['env_steps']:,} | {r['train_seconds']:.1f} | "
            f"{r['return_mean']:.3f} [{low:.3f}, {high:.3f}] |"
        )
    atomic_write_json(args.out, {"device": args.device, "greedy": greedy, "rows": rows})
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
