"""Logs -> fitted user simulator (NeuMF by default) -> DQN -> evaluation against the supervised baselines.

    python -m experiments.dqn                      # synthetic logs, SlateQ: about 2 minutes on one core
    python -m experiments.dqn --agent sb3-dqn      # stable-baselines3's DQN, the paper-sized run
    python -m experiments.dqn --data movielens --path ../shared/data/ml-100k
    python -m experiments.dqn --agent gpu-dqn --device cuda  # everything on the GPU
    python -m experiments.dqn --checkpoint-every 50000 [--resume]  # resume a killed run: docs/checkpoints.md
    tensorboard --logdir runs

Order: seed, data, user model, simulator, env, agent, train, evaluate, report.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch

from recgym.agents.checkpoint import save_agent
from recgym.agents.contract import EnvSpec
from recgym.agents.device_dqn import DeviceDQNConfig
from recgym.agents.dqn import DQNConfig
from recgym.agents.sb3_agents import A2CConfig, PPOConfig, QRDQNConfig
from recgym.agents.slateq import SlateQConfig
from recgym.agents.topk_reinforce import TopKReinforceConfig
from recgym.agents.zoo import load_agent, make_agent
from recgym.baselines import baseline_policies, log_popularity
from recgym.checkpoint import atomic_write_json
from recgym.checkpoint_series import latest_complete_checkpoint
from recgym.curves import LearningCurve
from recgym.data import InteractionLog
from recgym.data.synthetic import LoggingConfig
from recgym.evaluation import EvalConfig, evaluate
from recgym.experiments.checks import check_at_least_one, check_device, check_seeds
from recgym.experiments.common import (
    DataSource,
    TableColumns,
    cache_folder,
    env_name,
    log_fitted_simulator,
    logger_horizon,
    run_cli,
    run_logs,
)
from recgym.experiments.plugin import PluginArgs, parse_kwargs, plugin_simulator
from recgym.experiments.resume import run_to_resume
from recgym.fit_trace import FitTrace
from recgym.models.fitted import FittedUserModel, UserModelConfig, fit_user_model
from recgym.policy import Policy
from recgym.reporting import describe_user_model, log_to_tensorboard, markdown_table, write_results
from recgym.run_folders import make_run_dir
from recgym.run_inputs import run_inputs
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.dynamics_store import save_dynamics
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.rewards import RewardName

AgentName = Literal["sb3-dqn", "gpu-dqn", "sb3-ppo", "sb3-a2c", "sb3-qrdqn", "slateq", "topk-reinforce"]


@dataclass
class Args(PluginArgs):
    """Train a DQN recommender in a simulator fitted on logs and compare it with the baselines."""

    data: DataSource = "synthetic"
    """Logs to fit the user model on: the built-in synthetic world, MovieLens files at --path, or any
    CSV or parquet table at --path with the columns named by --table.*."""
    path: str | None = None
    """MovieLens file or folder (u.data, ratings.dat, ratings.csv or a RecBole .inter), or the table."""
    table: TableColumns = field(default_factory=TableColumns)
    """Column names of a --data table file (user, item, rating or click, time)."""
    likes: bool = False
    """Fit the user model on likes (a rating in the top quarter of the scale), lower ratings counting as
    items shown and not clicked, instead of treating every rating as an interaction."""
    total_timesteps: int = 300_000
    """DQN training steps (summed over the parallel envs)."""
    agent: AgentName = "sb3-dqn"
    """stable-baselines3's DQN, PPO or A2C or sb3-contrib's QR-DQN on single-user envs; or, on the
    batched env (any device), the on-device DQN (gpu-dqn), SlateQ (a DQN whose Q-values account for the
    user's choice; the command line's quick default) or top-K REINFORCE."""
    n_envs: int | None = None
    """Users collecting experience in parallel (default: 4 single-user envs for the SB3 agents, a batch
    of 256 for the on-device ones)."""
    choice: ChoiceConfig = field(default_factory=lambda: ChoiceConfig(slate_size=1))
    """Slates: --choice.slate-size k recommends k items per step, of which users pick at most one
    (position bias and no-click option as set here). Single-item agents then serve their top k."""
    eval_users: int = 2000
    """Simulated sessions per policy in the evaluation."""
    horizon: int = 50
    """Longest session, in recommendations."""
    history_len: int = 20
    """Recent recommendations and responses in the observation."""
    reward: RewardName = "click"
    """Reward per step (see recgym.simulators.rewards): a click, the predicted rating or engagement of a
    clicked item, 1 per step (session length), or the change in the chance the user returns."""
    seed: int = 0
    """Seed of the agent and the evaluation; the simulator stays fixed (its own: --user-model.train.seed)."""
    device: str = "cpu"
    """Torch device of the simulator and the agent ('cpu', 'cuda')."""
    out: str = "runs"
    """Folder that receives the run folder `{env}__{agent}__{seed}__{time}`."""
    cache_dir: str | None = None
    """Cache of fitted user models (default: $RECGYM_CACHE or ~/.cache/recgym)."""
    progress: bool = True
    """Show progress bars."""
    checkpoint_every: int = 0
    """Save the agent's whole training state into `{run}/checkpoints` every N timesteps (0: off). The
    trained agent's networks are saved to `{run}/agent` in any case."""
    resume: bool = False
    """Continue the newest run of this env, agent and seed under --out from its last checkpoint, with the
    same options: it ends as the uninterrupted run would have."""
    init_from_user_model: bool = True
    """Start the DQN's user and item embeddings from the user model's (NeuMF's GMF tower, MF's factors)."""
    synthetic: LoggingConfig = field(default_factory=LoggingConfig)
    """The synthetic world and how its logs are collected (used with --data synthetic)."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """Which user model of the zoo (--user-model.model), its architecture and training."""
    learn_dynamics: bool = True
    """Learn fatigue, leaving and returning from the logs' sessions; --no-learn-dynamics keeps the
    hand-set --dynamics (leave rule included)."""
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Hand-set fatigue, repetition and leave rule: used as they are with --no-learn-dynamics, and for
    what the logs cannot identify otherwise (e.g. the repeat penalty when no item recurs)."""
    dqn: DQNConfig = field(default_factory=DQNConfig)
    """Hyper-parameters of sb3-dqn."""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """Hyper-parameters of sb3-ppo."""
    a2c: A2CConfig = field(default_factory=A2CConfig)
    """Hyper-parameters of sb3-a2c."""
    qrdqn: QRDQNConfig = field(default_factory=QRDQNConfig)
    """Hyper-parameters of sb3-qrdqn."""
    gpu_dqn: DeviceDQNConfig = field(default_factory=DeviceDQNConfig)
    """Hyper-parameters of gpu-dqn."""
    slateq: SlateQConfig = field(default_factory=SlateQConfig)
    """Hyper-parameters of slateq."""
    topk_reinforce: TopKReinforceConfig = field(default_factory=TopKReinforceConfig)
    """Hyper-parameters of topk-reinforce."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_at_least_one(self, "total_timesteps", "n_envs", "eval_users", "horizon", "history_len")
        check_seeds(self, "seed")
        check_device(self)


def main(args: Args) -> dict:
    start = time.perf_counter()
    cache_folder(args.cache_dir)  # a cache that can never be used stops the run before it writes anything
    log = run_logs(args)
    agent_name = args.agent
    env = env_name(args.data, args.path, args.user_model.model, args.simulator)
    config = asdict(args)
    inputs = run_inputs(log, args.simulator, parse_kwargs(args.simulator_kwargs))
    if args.resume:
        run_dir = run_to_resume(args.out, env, agent_name, args.seed, config, inputs)
    else:
        run_dir = make_run_dir(args.out, env, agent_name, args.seed)
        atomic_write_json(run_dir / "config.json", config)
        atomic_write_json(run_dir / "inputs.json", inputs)
    print(
        f"run folder: {run_dir}\nlogs: {log.name}, {log.n_users} users, {log.n_items} items, {len(log)} rows"
    )

    trace = FitTrace(run_dir / "fit", lines=not args.progress)
    fitted, simulator, dynamics_report = build_simulator(args, log, trace)
    trace.finish(fitted.fit_report["history"])
    if isinstance(simulator, DynamicsSimulator):  # with the cached user model, the whole simulator
        save_dynamics(run_dir / "simulator", simulator)
    initial = initial_embeddings(fitted) if args.init_from_user_model else None
    agent = train_agent(args, simulator, initial, run_dir)
    train_seconds = time.perf_counter() - start

    policies = {agent_name: agent} | baseline_policies(log, fitted, args.device)
    results = evaluate(simulator, policies, eval_config(args), log_popularity(log))
    results["config"] = config
    results["user_model"] = {"metrics": fitted.metrics, "fit": fitted.fit_report}
    results["dynamics"] = dynamics_report
    results["wall_seconds"] = {"until_trained": train_seconds, "total": time.perf_counter() - start}

    write_results(run_dir, results)
    log_to_tensorboard(run_dir, results, step=args.total_timesteps)
    print(markdown_table(results))
    print(f"wrote {run_dir}/results.json in {results['wall_seconds']['total']:.0f} s")
    return results


def build_simulator(
    args: Args, log: InteractionLog, trace: FitTrace | None = None
) -> tuple[FittedUserModel, UserSimulator, dict | None]:
    """The user model fitted on log (or loaded from the cache), its simulator with learned or configured
    dynamics, and the dynamics' learning report; with --simulator, the plug-in simulator instead."""
    fitted = fit_user_model(
        log, args.user_model, cache_folder(args.cache_dir), progress=args.progress, on_epoch=trace
    )
    print(describe_user_model(fitted.config.model, fitted.metrics))
    if args.simulator:
        return fitted, plugin_simulator(args.simulator, args.simulator_kwargs, args.device), None
    simulator, report = log_fitted_simulator(
        log, fitted, args.dynamics, args.learn_dynamics, args.reward, args.device, logger_horizon(args)
    )
    return fitted, simulator, report


def eval_config(args: Args, n_users: int | None = None) -> EvalConfig:
    """The evaluation of this run's settings (its users, horizon, history, seed and slates)."""
    return EvalConfig(
        n_users=n_users or args.eval_users,
        horizon=args.horizon,
        history_len=args.history_len,
        seed=args.seed,
        choice=args.choice,
    )


def initial_embeddings(fitted) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The user model's dot-product embeddings (NeuMF's GMF tower, MF's factors), if it has them."""
    dot_embeddings = getattr(fitted.model, "dot_embeddings", None)
    if dot_embeddings is None:
        print(f"--init-from-user-model: {fitted.config.model} has no dot-product embeddings; starting fresh")
        return None
    return dot_embeddings()


def train_agent(
    args: Args, simulator, initial_embeddings, run_dir, curve: LearningCurve | None = None
) -> Policy:
    """Train the chosen agent in the simulator; returns it as a recgym `Policy`. `curve` records the
    agent's served policy as it trains.

    With --checkpoint-every, the training state is saved in `run_dir/checkpoints`; --resume continues
    from its last checkpoint. The trained networks are saved in `run_dir/agent`.
    """
    if args.resume and curve is not None:
        raise ValueError("--resume cannot continue a learning curve: its earlier points are not saved")
    checkpoints = run_dir / "checkpoints"
    spec = EnvSpec(args.horizon, args.history_len, args.choice, args.n_envs)
    if args.resume:
        agent = load_agent(latest_complete_checkpoint(checkpoints), simulator, spec, training=True)
    else:
        config = getattr(args, args.agent.replace("-", "_").removeprefix("sb3_"))
        agent = make_agent(config, simulator, spec, args.seed, initial_embeddings)
    agent.learn(
        args.total_timesteps,
        callback=None if curve is None else (lambda agent: curve.observe(agent.num_timesteps, agent.policy)),
        checkpoint_dir=checkpoints if args.checkpoint_every else None,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        log_dir=run_dir / "train",
        progress=args.progress,
    )
    save_agent(agent, run_dir / "agent")
    return agent.policy()


QUICK_DEFAULT = Args(agent="slateq", slateq=SlateQConfig(gradient_steps=2))
"""What `python -m experiments.dqn` runs without options: SlateQ with 2 gradient steps per step of
its 256 users, which beats greedy supervised in about 2 minutes on one core, the fit included
(README). `--agent sb3-dqn` is the paper-sized run."""

if __name__ == "__main__":
    run_cli(main, Args, default=QUICK_DEFAULT)
