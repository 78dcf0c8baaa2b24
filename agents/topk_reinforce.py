"""Top-K off-policy-corrected REINFORCE (Chen et al., 2019), with a query-vector policy for large catalogs.

The policy is a softmax over the whole catalog whose logits are a query vector (the user embedding
plus an MLP correction from the recent history) scored against the item embeddings:
`pi(i | s) = softmax_i(<q(s), e_i> + b_i)`. Acting costs one matrix product with the item table, so
the catalog can hold 100,000 items or more (`bench/large_catalog.py`), and items already shown are
masked before sampling. A slate is k items drawn from pi without replacement (Gumbel top-k).

Learning follows the paper: for every step whose slate earned a click on item a, with discounted
return R from that step on,

    loss = - min(pi(a|s) / beta(a|s), cap) * lambda_K(s, a) * R * log pi(a|s),
    lambda_K(s, a) = K * (1 - pi(a|s)) ** (K - 1)

where beta is the policy that collected the step (its probability is stored at collection, so the
correction is exact rather than estimated as in the paper's logged setting) and lambda_K corrects
for the item being one of K in a slate. Each collection is replayed for several updates together
with the previous few, which the capped importance weight makes valid. Probabilities in the
gradient are those of the unmasked softmax (the mask is a serving rule, not part of the policy).
Returns are cut at the end of each collection; with gamma 0.9 and 50 steps the cut costs 0.5%.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from gymnasium import spaces
from torch import nn

from recgym.agents.contract import Embeddings, EnvSpec, TrainOptions
from recgym.agents.device_dqn import as_float
from recgym.agents.training.networks import (
    HistoryExtractor,
    embedding_dim,
    extractor_kwargs,
    on_device,
    query_head,
)
from recgym.agents.training.replay import to_device
from recgym.agents.training.trainer import (
    batched_slate_env,
    env_sizes,
    load_training_state,
    train,
    training_state,
)
from recgym.envs.slate_env import SlateVectorEnv
from recgym.policy import RankingPolicy, top_allowed
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class TopKReinforceConfig:
    """Hyper-parameters of top-K off-policy-corrected REINFORCE."""

    name: ClassVar[str] = "topk-reinforce"

    learning_rate: float = 1e-3
    """Adam learning rate."""
    user_learning_rate: float | None = None
    """Adam learning rate of the user embeddings (None: `learning_rate`). Each user's row is updated
    only on that user's few clicks, while the shared layers are updated on everyone's; on a large
    population a higher rate lets each query become personal before the shared part runs away."""
    rollout_steps: int = 50
    """Batched env steps per collection (returns are cut at its end)."""
    reused_rollouts: int = 4
    """Collections kept for replay: the newest and the previous ones, corrected by importance weights."""
    updates_per_rollout: int = 8
    """Gradient steps after each collection."""
    batch_size: int = 512
    """Clicked steps per gradient step (steps without a click carry no gradient and are not kept)."""
    gamma: float = 0.9
    """Discount of the return."""
    weight_cap: float = 10.0
    """Cap of the importance weight pi / beta (the paper's truncated importance sampling)."""
    top_k_correction: bool = True
    """Multiply by lambda_K; False gives the plain off-policy-corrected REINFORCE (the paper's ablation)."""
    embedding_dim: int = 32
    """User and item embedding size (taken from the initial embeddings when given)."""
    net_arch: tuple[int, ...] = (128,)
    """Hidden layers of the query correction MLP."""
    item_bias: bool = True
    """Learn a bias per item (its popularity). With a catalog too large for each item to be drawn
    often, a few lucky clicks inflate single items' biases; turn it off there."""
    max_grad_norm: float = 10.0
    """Gradient clipping."""

    def __post_init__(self) -> None:
        if self.user_learning_rate is not None and not self.user_learning_rate > 0:
            raise ValueError(f"user_learning_rate must be > 0 or None, got {self.user_learning_rate}")

    def build(
        self,
        simulator: UserSimulator,
        spec: EnvSpec,
        seed: int = 0,
        initial_embeddings: Embeddings | None = None,
    ) -> TopKReinforce:
        """The agent on `batched_slate_env(simulator, spec)`."""
        env = batched_slate_env(simulator, spec)
        return TopKReinforce(env, self, seed, initial_embeddings)


class QueryPolicyNetwork(nn.Module):
    """Softmax policy logits [B, n_items] = <user embedding + MLP(features), e_i> + b_i."""

    def __init__(
        self,
        observation_space: spaces.Dict,
        embedding_dim: int,
        net_arch: tuple[int, ...],
        initial_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        item_bias: bool = True,
    ):
        super().__init__()
        self.extractor = HistoryExtractor(
            observation_space, **extractor_kwargs(embedding_dim, initial_embeddings)
        )
        self.query_correction = query_head(
            self.extractor.features_dim, self.extractor.embedding_dim, net_arch
        )
        n_items = int(observation_space["recent_items"].high[0])
        self.item_bias = nn.Parameter(torch.zeros(n_items), requires_grad=item_bias)

    def query(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B, d] the query vector."""
        features = self.extractor(observation)
        return features[:, : self.extractor.embedding_dim] + self.query_correction(features)

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.query(observation) @ self.extractor.item_vectors().T + self.item_bias


def parameter_groups(network: QueryPolicyNetwork, config: TopKReinforceConfig) -> list[dict[str, Any]]:
    """The trained parameters, the user embeddings in a group of their own learning rate."""
    users = network.extractor.user_embedding.weight
    shared = [p for p in network.parameters() if p.requires_grad and p is not users]
    user_rate = config.learning_rate if config.user_learning_rate is None else config.user_learning_rate
    return [{"params": shared}, {"params": [users], "lr": user_rate}]


def sample_slates(
    logits: torch.Tensor, action_mask: torch.Tensor, k: int, generator: torch.Generator
) -> torch.Tensor:
    """[B, k] items drawn without replacement from softmax(logits) restricted to the items action_mask
    allows (Gumbel top-k); others fill the slate only when too few are allowed."""
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device).clamp_min(1e-20)
    perturbed = logits - torch.log(-torch.log(uniform))
    return top_allowed(perturbed, action_mask, k)


@dataclass
class ReinforceRun:
    """A training run between two collections: with the network, optimizer, generator and env,
    everything its remaining collections depend on, so a checkpoint of it resumes exactly."""

    total_timesteps: int
    n_iterations: int  # collections of the run
    recent: deque[dict]  # the latest collections, replayed with the next one
    running: torch.Tensor  # [B] return of each user's session so far
    iteration: int = 0  # collections done

    def state_dict(self) -> dict[str, Any]:
        return {
            "total_timesteps": self.total_timesteps,
            "iteration": self.iteration,
            "recent": list(self.recent),
            "running": self.running,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.total_timesteps, self.iteration = state["total_timesteps"], state["iteration"]
        device = self.running.device
        self.recent.clear()
        self.recent.extend(to_device(steps, device) for steps in state["recent"])
        self.running = state["running"].to(device)


class TopKReinforce:
    """Top-K off-policy-corrected REINFORCE on a `SlateVectorEnv`, on the env's device.

    :param env: the batched slate env (slate size K = `env.choice.slate_size`).
    :param config: hyper-parameters.
    :param seed: seed of the network, the sampling and the env.
    :param initial_embeddings: optional (user, item) embeddings (a fitted model's, or item content
        vectors for a large catalog).
    """

    def __init__(
        self, env: SlateVectorEnv, config: TopKReinforceConfig, seed: int = 0, initial_embeddings=None
    ):
        dim = embedding_dim(config.embedding_dim, initial_embeddings)
        self.env, self.config, self.seed = env, dataclasses.replace(config, embedding_dim=dim), seed
        self.device, self.slate_size = env.device, env.choice.slate_size
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.network = QueryPolicyNetwork(
                env.single_observation_space,
                config.embedding_dim,
                config.net_arch,
                initial_embeddings,
                config.item_bias,
            ).to(self.device)
        self.optimizer = torch.optim.Adam(parameter_groups(self.network, config), lr=config.learning_rate)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.num_timesteps = 0
        self.run: ReinforceRun | None = None  # the training run in progress or last finished

    def env_sizes(self) -> dict[str, Any]:
        return env_sizes(self.env)

    def state_dict(self, training: bool = True) -> dict[str, Any]:
        """The network; with `training`, also the optimizer, generator, counters, run and env."""
        state: dict[str, Any] = {"networks": {"network": self.network.state_dict()}}
        return state | (training_state(self) if training else {})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` (of the network only, or of everything)."""
        self.network.load_state_dict(state["networks"]["network"])
        if "optimizer" in state:
            load_training_state(self, state)

    def new_run(self, total_timesteps: int) -> ReinforceRun:
        per_rollout = self.config.rollout_steps * self.env.num_envs
        return ReinforceRun(
            total_timesteps=total_timesteps,
            n_iterations=max(1, total_timesteps // per_rollout),
            recent=deque(maxlen=self.config.reused_rollouts),
            running=torch.zeros(self.env.num_envs, device=self.device),
        )

    def _collect(
        self, observation: dict[str, torch.Tensor]
    ) -> tuple[dict, dict[str, torch.Tensor], torch.Tensor]:
        """One collection of `rollout_steps` batched steps: (its clicked steps with their returns, the
        next observation, [sum, count] of the returns of the sessions that finished)."""
        c, env, run = self.config, self.env, self.run
        assert run is not None
        observations, items, clicked, behaviour, rewards, done = [], [], [], [], [], []  # per step
        finished = torch.zeros(2, device=self.device)
        for _ in range(c.rollout_steps):
            with torch.no_grad():
                logits = self.network(as_float(observation))
            slates = sample_slates(logits, env.action_masks(), self.slate_size, self.generator)
            step = env.step_tensors(slates)
            assert step.chosen is not None, "top-K REINFORCE needs the slate env's choices"
            item = slates.gather(1, step.chosen.clamp_max(self.slate_size - 1)[:, None]).squeeze(1)
            log_probability = torch.log_softmax(logits, dim=1).gather(1, item[:, None]).squeeze(1)
            observations.append(observation)
            items.append(item)
            clicked.append(step.chosen < self.slate_size)
            behaviour.append(log_probability)
            rewards.append(step.reward)
            done.append(step.terminated | step.truncated)
            run.running += step.reward
            ended = done[-1]
            finished += torch.stack([(run.running * ended).sum(), ended.sum()])
            run.running = run.running.masked_fill(ended, 0.0)
            observation = step.observation
            self.num_timesteps += env.num_envs
        returns = torch.zeros_like(rewards[0])
        all_returns = []
        for reward, ended in zip(reversed(rewards), reversed(done), strict=True):
            returns = reward + c.gamma * returns * (~ended).float()
            all_returns.append(returns)
        returns = torch.cat(all_returns[::-1])
        keep = torch.cat(clicked)  # only steps with a click carry a gradient
        steps = {
            "obs": {key: torch.cat([o[key] for o in observations])[keep] for key in observation},
            "item": torch.cat(items)[keep],
            "behaviour_log_prob": torch.cat(behaviour)[keep],
            "return": returns[keep],
        }
        return steps, observation, finished

    def _loss(self, batch: dict) -> torch.Tensor:
        c = self.config
        log_pi = torch.log_softmax(self.network(as_float(batch["obs"])), dim=1)
        log_pi_item = log_pi.gather(1, batch["item"][:, None]).squeeze(1)
        with torch.no_grad():
            pi_item = log_pi_item.exp()
            weight = torch.exp(log_pi_item - batch["behaviour_log_prob"]).clamp_max(c.weight_cap)
            if c.top_k_correction:
                weight = weight * self.slate_size * (1.0 - pi_item) ** (self.slate_size - 1)
        return -(weight * batch["return"] * log_pi_item).mean()

    def learn(self, total_timesteps: int, options: TrainOptions | None = None) -> TopKReinforce:
        """Train for total_timesteps user-steps; `callback(self)` after every collection (checkpoints
        too are checked after each). See `agents.contract.Agent.learn`."""
        train(self, total_timesteps, options or TrainOptions(), unit="collection")
        return self

    def iteration(self, observation: dict[str, torch.Tensor], log: Any) -> dict[str, torch.Tensor]:
        """One collection, replayed with the previous few for `updates_per_rollout` updates."""
        run = self.run
        assert run is not None
        steps, observation, finished = self._collect(observation)
        run.recent.append(steps)
        replay = _concatenate(list(run.recent))  # once per collection, not per update
        losses = [self._update(replay) for _ in range(self.config.updates_per_rollout)]
        if log is not None:
            total, count = finished.tolist()
            scalars = {"train/loss": float(torch.stack(losses).mean())}
            log.scalars(
                self.num_timesteps, scalars | ({"rollout/ep_rew_mean": total / count} if count else {})
            )
        return observation

    def _update(self, replay: dict) -> torch.Tensor:
        size = len(replay["item"])
        if size == 0:
            return torch.zeros((), device=self.device)
        index = torch.randint(size, (self.config.batch_size,), generator=self.generator, device=self.device)
        batch = _rows(replay, index)
        loss = self._loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.network.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return loss.detach()

    def policy(self) -> QueryPolicy:
        return QueryPolicy(self.network)


def _concatenate(parts: list[dict]) -> dict:
    """The parts' fields (tensors, or dicts of them) concatenated in order."""
    return {
        key: _concatenate([part[key] for part in parts])
        if isinstance(parts[0][key], dict)
        else torch.cat([part[key] for part in parts])
        for key in parts[0]
    }


def _rows(fields: dict, index: torch.Tensor) -> dict:
    return {
        key: _rows(value, index) if isinstance(value, dict) else value[index] for key, value in fields.items()
    }


class QueryPolicy(RankingPolicy):
    """A trained query-vector policy as a recgym `Policy`: its k most likely allowed items."""

    def __init__(self, network: QueryPolicyNetwork):
        self.network = network

    @torch.no_grad()
    def scores(self, observation: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return self.network(on_device(observation, self.network))
