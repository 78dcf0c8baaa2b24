"""One training run, start to end: a World, an agent trained in it, its evaluation beside the
baselines on the same users, and the run folder that keeps it all (resumable).

    import recgym
    results = recgym.train_and_evaluate(recgym.RunConfig(agent=recgym.PPOConfig()))

`python -m experiments.dqn` is this function on the command line; the comparison, the trade-off and
sim-to-real studies run it, or its `train_agent` step, once per seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recgym.agents.contract import Embeddings, EnvSpec, TrainOptions
from recgym.agents.slateq import SlateQConfig
from recgym.agents.training.checkpoint import save_agent
from recgym.agents.zoo import AgentChoice, load_agent, make_agent
from recgym.cache_folder import cache_folder
from recgym.curves import LearningCurve
from recgym.data.sources import SyntheticLogs
from recgym.evaluation import EvalConfig, evaluate
from recgym.models.fit_trace import FitTrace
from recgym.models.fitted import UserModelConfig
from recgym.policy import Policy
from recgym.reports.results import log_to_tensorboard, markdown_table, write_results
from recgym.runs.checkpoint import atomic_write_json
from recgym.runs.checkpoint_series import latest_complete_checkpoint
from recgym.runs.config_checks import check_at_least_one, check_device, check_seeds
from recgym.runs.config_record import config_record
from recgym.runs.folders import make_run_dir
from recgym.runs.resume import run_to_resume
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_store import save_dynamics
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.rewards import RewardName
from recgym.world import (
    DataSource,
    Dynamics,
    LearnDynamics,
    World,
    WorldConfig,
    build_world,
    read_world_logs,
    world_inputs,
    world_name,
)


@dataclass
class RunConfig:
    """Train an agent in a simulator fitted on logs and evaluate it beside the supervised baselines."""

    agent: AgentChoice = field(default_factory=lambda: SlateQConfig(gradient_steps=2))
    """The agent and its hyper-parameters (`agent:sb3-ppo --agent.n-steps 256`). The default, SlateQ
    with 2 gradient steps per step of its 256 users, beats greedy supervised in about 2 minutes on one
    core; `agent:sb3-dqn` is the paper-sized run. Single-item agents serve their top k on slates."""
    data: DataSource = field(default_factory=SyntheticLogs)
    """Logs the user model is fitted on (`data:movielens --data.path ml-100k --data.likes`), or a
    plug-in simulator as the world (`data:plugin --data.name module:Class`)."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """The user model of the zoo (`user-model.model:sasrec`), its training and split."""
    dynamics: Dynamics = field(default_factory=LearnDynamics)
    """Fatigue, repetition and leaving: learned from the logs' sessions, or `dynamics:hand-set`."""
    reward: RewardName = "click"
    """Reward per step (recgym.simulators.rewards): a click, the predicted rating or engagement of a
    clicked item, 1 per step (session length), or the change in the chance the user returns."""
    total_timesteps: int = 300_000
    """Training steps, summed over the users stepped in parallel."""
    n_envs: int | None = None
    """Users collecting experience in parallel (default: 4 single-user envs for the SB3 agents, a batch
    of 256 for the on-device ones)."""
    choice: ChoiceConfig = field(default_factory=lambda: ChoiceConfig(slate_size=1))
    """Slates: --choice.slate-size k recommends k items per step, of which users pick at most one."""
    eval_users: int = 2000
    """Simulated sessions per policy in the evaluation."""
    horizon: int = HORIZON
    """Longest session, in recommendations."""
    history_len: int = HISTORY_LEN
    """Recent recommendations and responses in the observation."""
    seed: int = 0
    """Seed of the agent and the evaluation; the simulator stays fixed (its own:
    --user-model.train.seed)."""
    device: str = "cpu"
    """Torch device of the simulator and the agent ('cpu', 'cuda')."""
    out: str = "runs"
    """Folder that receives the run folder `{world}__{agent}__{seed}__{time}`."""
    cache_dir: str | None = None
    """Cache of logs, fitted user models and dynamics (default: $RECGYM_CACHE or ~/.cache/recgym)."""
    progress: bool = True
    """Show progress bars."""
    checkpoint_every: int = 0
    """Save the whole training state into `{run}/checkpoints` every N timesteps (0: off). The trained
    agent is saved to `{run}/agent` in any case."""
    resume: bool = False
    """Continue the newest run of this world, agent and seed under --out from its last checkpoint, with
    the same options: it ends as the uninterrupted run would have."""
    init_from_user_model: bool = True
    """Start the agent's user and item embeddings from the user model's (NeuMF's GMF tower, MF's)."""

    def __post_init__(self) -> None:
        check_at_least_one(self, "total_timesteps", "n_envs", "eval_users", "horizon", "history_len")
        check_seeds(self, "seed")
        check_device(self)

    @property
    def world(self) -> WorldConfig:
        return WorldConfig(self.data, self.user_model, self.dynamics, self.reward)

    def evaluation(self, n_users: int | None = None, seed: int | None = None) -> EvalConfig:
        """The evaluation of this run: its users (or n_users of them), horizon, history, seed, slates."""
        return EvalConfig(
            n_users=n_users or self.eval_users,
            horizon=self.horizon,
            history_len=self.history_len,
            seed=self.seed if seed is None else seed,
            choice=self.choice,
        )


def train_and_evaluate(config: RunConfig) -> dict[str, Any]:
    """The run of config: its folder, World, trained agent, evaluation and results (returned, and
    written to the folder as results.json, results.md and TensorBoard scalars)."""
    start = time.perf_counter()
    cache_dir = cache_folder(config.cache_dir)  # before anything is written
    world_config = config.world
    logs = read_world_logs(world_config, cache_dir, config.device, config.progress)
    run_dir = open_run_folder(config, world_inputs(world_config, logs.log))
    print(f"run folder: {run_dir}")

    trace = FitTrace(run_dir / "fit", lines=not config.progress)
    world = build_world(world_config, cache_dir, config.device, config.progress, trace, logs)
    trace.finish(world.fitted.fit_report["history"])
    print(world.describe())
    if isinstance(world.simulator, DynamicsSimulator):
        save_dynamics(run_dir / "simulator", world.simulator)
    initial = initial_embeddings(config, world)
    agent = train_agent(config, world.simulator, initial, run_dir)
    train_seconds = time.perf_counter() - start

    policies = {config.agent.name: agent} | world.baselines(config.device)
    results = evaluate(world.simulator, policies, config.evaluation(), world.popularity(), config.progress)
    results["config"] = config_record(config)
    results["user_model"] = {"metrics": world.fitted.metrics, "fit": world.fitted.fit_report}
    results["dynamics"] = world.dynamics_report
    results["wall_seconds"] = {"until_trained": train_seconds, "total": time.perf_counter() - start}
    write_results(run_dir, results)
    log_to_tensorboard(run_dir, results, step=config.total_timesteps)
    print(markdown_table(results))
    print(f"wrote {run_dir}/results.json in {results['wall_seconds']['total']:.0f} s")
    return results


def open_run_folder(config: RunConfig, inputs: dict[str, Any]) -> Path:
    """A new run folder holding config.json and inputs.json, or with `resume`, the run it continues
    (checked against both before anything is fitted)."""
    record = config_record(config)
    name, agent = world_name(config.world), config.agent.name
    if config.resume:
        return run_to_resume(config.out, name, agent, config.seed, record, inputs)
    run_dir = make_run_dir(config.out, name, agent, config.seed)
    atomic_write_json(run_dir / "config.json", record)
    atomic_write_json(run_dir / "inputs.json", inputs)
    return run_dir


def train_agent(
    config: RunConfig,
    simulator: UserSimulator,
    initial_embeddings: Embeddings | None,
    run_dir: Path,
    curve: LearningCurve | None = None,
) -> Policy:
    """config's agent trained in simulator, served as a `Policy`; `curve` records its served policy as it
    trains. With `checkpoint_every`, the training state is saved in `run_dir/checkpoints`, from which
    `resume` continues; the trained agent is saved in `run_dir/agent`."""
    if config.resume and curve is not None:
        raise ValueError("--resume cannot continue a learning curve: its earlier points are not saved")
    checkpoints = run_dir / "checkpoints"
    spec = EnvSpec(config.horizon, config.history_len, config.choice, config.n_envs)
    if config.resume:
        agent = load_agent(latest_complete_checkpoint(checkpoints), simulator, spec, training=True)
    else:
        agent = make_agent(config.agent, simulator, spec, config.seed, initial_embeddings)
    options = TrainOptions(
        callback=None if curve is None else (lambda agent: curve.observe(agent.num_timesteps, agent.policy)),
        checkpoint_dir=checkpoints if config.checkpoint_every else None,
        checkpoint_every=config.checkpoint_every,
        resume=config.resume,
        log_dir=run_dir / "train",
        progress=config.progress,
    )
    agent.learn(config.total_timesteps, options)
    save_agent(agent, run_dir / "agent")
    return agent.policy()


def initial_embeddings(config: RunConfig, world: World) -> Embeddings | None:
    """The World's user-model embeddings for the agent to start from, when the run asks for them."""
    if not config.init_from_user_model:
        return None
    embeddings = world.initial_embeddings()
    if embeddings is None:
        print(
            f"--init-from-user-model: {config.user_model.model} has no dot-product embeddings; starting fresh"
        )
    return embeddings
