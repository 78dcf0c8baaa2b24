"""CleanRL's DQN loop, as its users run it on any Gymnasium id: nothing recgym-specific but the id.

`cleanrl_dqn` reproduces the training loop of CleanRL's single-file `dqn.py` (github.com/vwxyzjn/cleanrl,
MIT): its Q-network (an MLP of 120 and 84 units sized from the observation's `shape`), its linear
epsilon schedule, a uniform replay buffer, a target network copied every `target_network_frequency`
steps and a gradient step every `train_frequency` steps, with CleanRL's default hyper-parameters. It
is written here in a few dozen lines rather than vendored, with the one change Gymnasium 1.x asks of
every such loop: with next-step autoreset, the step after an episode's end only resets, so it is not
stored as a transition. `episode_returns` scores a policy (`greedy`, `greedy_allowed`, `random_allowed`,
`ranked_allowed`) on sessions of an env.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class CleanRLDQN:
    """CleanRL dqn.py's defaults, except the budget-dependent ones given by the caller."""

    total_timesteps: int = 50_000
    learning_rate: float = 2.5e-4
    buffer_size: int = 10_000
    gamma: float = 0.99
    target_network_frequency: int = 500
    batch_size: int = 128
    start_e: float = 1.0
    end_e: float = 0.05
    exploration_fraction: float = 0.5
    learning_starts: int = 10_000
    train_frequency: int = 10
    seed: int = 1


def q_network(observations: int, actions: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(observations, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, actions)
    )


def cleanrl_dqn(env_id: str, config: CleanRLDQN) -> nn.Module:
    """Train CleanRL's DQN on one env of env_id; returns its Q-network."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    envs = gym.vector.SyncVectorEnv([lambda: gym.wrappers.RecordEpisodeStatistics(gym.make(env_id))])
    n_obs, n_actions = int(np.prod(envs.single_observation_space.shape)), int(envs.single_action_space.n)
    q, target = q_network(n_obs, n_actions), q_network(n_obs, n_actions)
    target.load_state_dict(q.state_dict())
    optimizer = torch.optim.Adam(q.parameters(), lr=config.learning_rate)
    size = config.buffer_size
    buffer = {
        "obs": np.zeros((size, n_obs), np.float32),
        "next": np.zeros((size, n_obs), np.float32),
        "action": np.zeros(size, np.int64),
        "reward": np.zeros(size, np.float32),
        "done": np.zeros(size, np.float32),
    }
    stored = 0
    envs.single_action_space.seed(config.seed)  # as CleanRL's make_env does: exploration repeats
    obs, _ = envs.reset(seed=config.seed)
    just_ended = False
    decay = config.exploration_fraction * config.total_timesteps
    for step in range(config.total_timesteps):
        epsilon = max(config.end_e, config.start_e + (config.end_e - config.start_e) * step / decay)
        if rng.random() < epsilon:
            action = np.array([envs.single_action_space.sample()])
        else:
            with torch.no_grad():
                action = q(torch.as_tensor(obs)).argmax(dim=1).numpy()
        next_obs, reward, terminated, truncated, _ = envs.step(action)
        if not just_ended:  # Gymnasium 1.x: the step after an end only resets
            row = stored % size
            buffer["obs"][row], buffer["next"][row] = obs[0], next_obs[0]
            buffer["action"][row], buffer["reward"][row] = action[0], reward[0]
            buffer["done"][row] = float(terminated[0])
            stored += 1
        just_ended = bool(terminated[0] or truncated[0])
        obs = next_obs
        if step > config.learning_starts and step % config.train_frequency == 0:
            batch = rng.integers(0, min(stored, size), config.batch_size)
            with torch.no_grad():
                best_next = target(torch.as_tensor(buffer["next"][batch])).max(dim=1).values
                td_target = torch.as_tensor(buffer["reward"][batch]) + config.gamma * best_next * (
                    1 - torch.as_tensor(buffer["done"][batch])
                )
            value = q(torch.as_tensor(buffer["obs"][batch])).gather(
                1, torch.as_tensor(buffer["action"][batch])[:, None]
            )
            loss = nn.functional.mse_loss(td_target, value.squeeze(1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if step % config.target_network_frequency == 0:
            target.load_state_dict(q.state_dict())
    envs.close()
    return q


def episode_returns(
    env_id: str, act: Callable[[np.ndarray, dict], int], episodes: int, seed: int
) -> np.ndarray:
    """Returns of `episodes` sessions of env_id under act(observation, info), seeds seed, seed + 1, ..."""
    env = gym.make(env_id)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(act(obs, info))
            returns[episode] += reward
            done = terminated or truncated
    env.close()
    return returns


def greedy(q: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[np.ndarray, dict], int]:
    """The Q-network's best action, as CleanRL's evaluation takes it (no mask)."""

    def act(obs: np.ndarray, info: dict) -> int:
        with torch.no_grad():
            return int(q(torch.as_tensor(obs)[None]).argmax())

    return act


def greedy_allowed(q: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[np.ndarray, dict], int]:
    """The Q-network's best item among those not yet shown (`info["action_mask"]`): what a user who
    adds the mask to CleanRL's evaluation gets."""

    def act(obs: np.ndarray, info: dict) -> int:
        with torch.no_grad():
            values = q(torch.as_tensor(obs)[None])[0]
        values[torch.as_tensor(info["action_mask"]) == 0] = -torch.inf
        return int(values.argmax())

    return act


def random_allowed(seed: int) -> Callable[[np.ndarray, dict], int]:
    """A random item among those not yet shown (the env's `info["action_mask"]`)."""
    rng = np.random.default_rng(seed)
    return lambda obs, info: int(rng.choice(np.flatnonzero(info["action_mask"])))


def ranked_allowed(order: np.ndarray) -> Callable[[np.ndarray, dict], int]:
    """The first item of order not yet shown: most-popular when order ranks by popularity. With
    candidate actions (`info["candidates"]`, envs/candidates.py), the index of the best-ranked candidate."""
    rank = np.argsort(order)  # rank[item]: its place in order

    def act(obs: np.ndarray, info: dict) -> int:
        if "candidates" in info:
            return int(np.argmin(rank[info["candidates"]]))
        return int(next(item for item in order if info["action_mask"][item]))

    return act
