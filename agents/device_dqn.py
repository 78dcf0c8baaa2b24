"""DQN with everything on one device: batched env, replay buffer, Q-network and target network.

stable-baselines3 steps its envs through NumPy and copies every transition to the host; with the
batched env on a GPU that round-trip is the bottleneck. Here a training step is: Q-values for B users,
epsilon-greedy actions, `RecVectorEnv.step_tensors`, B transitions written into a ring buffer of
tensors, and `gradient_steps` updates on sampled mini-batches; no host copy except the periodic
logging. Same network (`agents.sb3.dqn.make_q_network`), observation, action and reward as the SB3
agent, and the same TensorBoard tags (`rollout/ep_rew_mean`, `rollout/exploration_rate`,
`train/loss`, `time/fps`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from recgym.agents.contract import Embeddings, EnvSpec, TrainOptions
from recgym.agents.sb3.dqn import QPolicy, make_q_network
from recgym.agents.training.networks import embedding_dim
from recgym.agents.training.replay import TensorReplay
from recgym.agents.training.trainer import env_sizes, load_training_state, train, training_state
from recgym.envs.vector_env import RecVectorEnv, TensorStep
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class DeviceDQNConfig:
    """Hyper-parameters of the on-device DQN."""

    name: ClassVar[str] = "gpu-dqn"

    learning_rate: float = 5e-4
    """Adam learning rate."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (B are written per env step)."""
    learning_starts: int = 10_000
    """Transitions collected before the first update."""
    batch_size: int = 1024
    """Transitions per gradient step."""
    gradient_steps: int = 4
    """Gradient steps per batched env step (4 with 256 users: each transition is sampled about 16 times)."""
    gamma: float = 0.9
    """Discount."""
    target_update_interval: int = 250
    """Gradient steps between target-network syncs."""
    exploration_fraction: float = 0.3
    """Share of training over which epsilon decays from 1."""
    exploration_final_eps: float = 0.05
    """Final epsilon."""
    max_grad_norm: float = 10.0
    """Gradient clipping, as SB3's DQN."""
    embedding_dim: int = 32
    """User and item embedding size (taken from the initial embeddings when given)."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the query correction MLP."""

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> DeviceDQN:
        """The agent on a batched env of single items (`spec.n_envs` users, 256 by default)."""
        env = RecVectorEnv(simulator, spec.n_envs or 256, horizon=spec.horizon, history_len=spec.history_len)
        return DeviceDQN(env, self, seed, initial_embeddings)


def as_float(observation: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The observation as the float tensors SB3-style networks take (ids are cast back inside)."""
    return {key: value.float() for key, value in observation.items()}


@dataclass
class DQNRun:
    """A training run between two batched steps: with the networks, optimizer, generator and env,
    everything its remaining steps depend on, so a checkpoint of it resumes exactly."""

    total_timesteps: int
    n_iterations: int  # batched env steps of the run
    buffer: TensorReplay
    running: torch.Tensor  # [B] return of each user's session so far
    finished: torch.Tensor  # [2] sum and count of the returns of sessions finished since the last log
    iteration: int = 0  # batched steps done
    updates: int = 0  # gradient steps done (they time the target-network syncs)
    losses: list[torch.Tensor] = field(default_factory=list)  # since the last log

    def state_dict(self) -> dict[str, Any]:
        losses = torch.stack(self.losses) if self.losses else torch.zeros(0, device=self.running.device)
        return {
            "total_timesteps": self.total_timesteps,
            "iteration": self.iteration,
            "updates": self.updates,
            "buffer": self.buffer.state_dict(),
            "running": self.running,
            "finished": self.finished,
            "losses": losses,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.total_timesteps, self.iteration = state["total_timesteps"], state["iteration"]
        self.updates = state["updates"]
        self.buffer.load_state_dict(state["buffer"])
        device = self.running.device
        self.running, self.finished = state["running"].to(device), state["finished"].to(device)
        self.losses = list(state["losses"].to(device).unbind())


class DeviceDQN:
    """DQN trained on a `RecVectorEnv`, all on the env's device.

    :param env: the batched env (its simulator's device is used).
    :param config: hyper-parameters.
    :param seed: seed of the network initialisation, exploration, replay sampling and the env.
    :param initial_embeddings: optional (user, item) embeddings, as for `agents.sb3.dqn.make_dqn`; the
        agent's `config.embedding_dim` is then theirs.
    """

    def __init__(self, env: RecVectorEnv, config: DeviceDQNConfig, seed: int = 0, initial_embeddings=None):
        dim = embedding_dim(config.embedding_dim, initial_embeddings)
        self.env, self.config, self.seed = env, dataclasses.replace(config, embedding_dim=dim), seed
        self.device = env.device
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.q_net = self._make_network(initial_embeddings).to(self.device)
        self.q_net_target = copy.deepcopy(self.q_net).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=config.learning_rate)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.num_timesteps = 0
        self.run: DQNRun | None = None  # the training run in progress or last finished

    def env_sizes(self) -> dict[str, Any]:
        return env_sizes(self.env)

    def state_dict(self, training: bool = True) -> dict[str, Any]:
        """The networks; with `training`, also the optimizer, generator, counters, run and env."""
        state: dict[str, Any] = {
            "networks": {"q_net": self.q_net.state_dict(), "q_net_target": self.q_net_target.state_dict()}
        }
        return state | (training_state(self) if training else {})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` (of the networks only, or of everything)."""
        self.q_net.load_state_dict(state["networks"]["q_net"])
        self.q_net_target.load_state_dict(state["networks"]["q_net_target"])
        if "optimizer" in state:
            load_training_state(self, state)

    def new_run(self, total_timesteps: int) -> DQNRun:
        batch = self.env.num_envs
        return DQNRun(
            total_timesteps=total_timesteps,
            n_iterations=max(1, total_timesteps // batch),
            buffer=TensorReplay(self.config.buffer_size, self.device),
            running=torch.zeros(batch, device=self.device),
            finished=torch.zeros(2, device=self.device),
        )

    def policy(self) -> QPolicy:
        """The trained Q-network as a recgym `Policy`."""
        return QPolicy(self.q_net)

    def _make_network(self, initial_embeddings) -> nn.Module:
        c = self.config
        observation_space = self.env.single_observation_space
        n_items = self.env.simulator.n_items
        return make_q_network(observation_space, n_items, c.embedding_dim, c.net_arch, initial_embeddings)

    def _epsilon(self, progress: float) -> float:
        c = self.config
        return max(
            c.exploration_final_eps, 1.0 - (1.0 - c.exploration_final_eps) * progress / c.exploration_fraction
        )

    def _actions(self, observation: dict[str, torch.Tensor], epsilon: float) -> torch.Tensor:
        with torch.no_grad():
            greedy = self.q_net(as_float(observation)).argmax(dim=1)
        n = greedy.shape[0]
        explore = torch.rand(n, generator=self.generator, device=self.device) < epsilon
        random = torch.randint(self.env.simulator.n_items, (n,), generator=self.generator, device=self.device)
        return torch.where(explore, random, greedy)

    def _store(
        self,
        buffer: TensorReplay,
        observation: dict[str, torch.Tensor],
        actions: torch.Tensor,
        step: TensorStep,
    ) -> None:
        buffer.add(
            obs=observation,
            action=actions,
            reward=step.reward,
            next_obs=step.final_observation,
            terminated=step.terminated.float(),
        )

    def _loss(self, batch: dict) -> torch.Tensor:
        with torch.no_grad():
            next_q = self.q_net_target(as_float(batch["next_obs"])).max(dim=1).values
            target = batch["reward"] + self.config.gamma * (1.0 - batch["terminated"]) * next_q
        q = self.q_net(as_float(batch["obs"])).gather(1, batch["action"][:, None]).squeeze(1)
        return F.smooth_l1_loss(q, target)

    def _update(self, buffer: TensorReplay) -> torch.Tensor:
        c = self.config
        loss = self._loss(buffer.sample(c.batch_size, self.generator))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.q_net.parameters(), c.max_grad_norm)
        self.optimizer.step()
        return loss.detach()

    def learn(self, total_timesteps: int, options: TrainOptions | None = None) -> DeviceDQN:
        """Train for total_timesteps transitions (B per batched env step); `callback(self)` after each
        batched step. See `agents.contract.Agent.learn`."""
        train(self, total_timesteps, options or TrainOptions())
        return self

    def iteration(self, observation: dict[str, torch.Tensor], log: Any) -> dict[str, torch.Tensor]:
        """One batched env step of epsilon-greedy actions, stored, then `gradient_steps` updates; the
        statistics since the last log go to TensorBoard every 50 steps."""
        c, run, batch = self.config, self.run, self.env.num_envs
        assert run is not None
        step = run.iteration
        epsilon = self._epsilon(step / run.n_iterations)
        actions = self._actions(observation, epsilon)
        result = self.env.step_tensors(actions)
        self._store(run.buffer, observation, actions, result)
        done = result.terminated | result.truncated
        run.running += result.reward
        run.finished += torch.stack([(run.running * done).sum(), done.sum()])
        run.running = run.running.masked_fill(done, 0.0)
        self.num_timesteps += batch
        if self.num_timesteps >= c.learning_starts:
            for _ in range(c.gradient_steps):
                run.losses.append(self._update(run.buffer))
                run.updates += 1
                if run.updates % c.target_update_interval == 0:
                    self.q_net_target.load_state_dict(self.q_net.state_dict())
        if step % 50 == 0 or step == run.n_iterations - 1:
            if log is not None:
                log.scalars(self.num_timesteps, self._scalars(run.finished, run.losses, epsilon))
            run.losses, run.finished = [], torch.zeros_like(run.finished)
        return result.observation

    @staticmethod
    def _scalars(finished: torch.Tensor, losses: list[torch.Tensor], epsilon: float) -> dict[str, float]:
        """SB3's tags; ep_rew_mean averages the episodes finished since the last log."""
        total, count = finished.tolist()
        scalars = {"rollout/exploration_rate": epsilon}
        if count:
            scalars["rollout/ep_rew_mean"] = total / count
        if losses:
            scalars["train/loss"] = float(torch.stack(losses).mean())
        return scalars
