"""Tianshou's DQN, as its own example sets it up, on a recgym id: nothing recgym-specific but the id.

    python -m venv .venv-tianshou && .venv-tianshou/bin/pip install torch==2.13.0 tianshou==2.0.1 -e .
    OMP_NUM_THREADS=1 .venv-tianshou/bin/python bench/tianshou_dqn.py --steps 100000

Tianshou 2.0.1 pins pandas<3, so it lives in a venv of its own (recgym runs on pandas 2 or 3). The setup
follows Tianshou's `examples/discrete/discrete_dqn.py` (v2.0): `Net` with three hidden layers of 128,
`DiscreteQLearningPolicy` with epsilon 0.1 in training and 0.05 in its tests, `ts.algorithm.DQN` with
gamma 0.9 (`--gamma`, as in the example), 3-step returns and a target network every 320 updates, 10
`DummyVectorEnv` training envs, a `VectorReplayBuffer` of 20,000, one gradient step of 64 per 10 env
steps. Only the task id, the budget, the seed and the discount are ours. The trained policy, greedy and
with no mask as Tianshou acts (and, as `tianshou-dqn, masked`, among unshown items, unless
`--no-masked`), is scored on the same sessions as random and popular, with its return minus popular's
on each session (`bench/clients.py`'s helpers); writes JSON and prints a table. `--env` another id,
e.g. `recgym.envs:recgym/SyntheticWorld-Candidates-v0`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gymnasium as gym
import torch
import tyro

ENV = "recgym.envs:recgym/SyntheticWorld-Dense-v0"


@dataclass
class Args:
    steps: int = 100_000
    """Training env-steps (Tianshou's epochs of 10,000 steps)."""
    seed: int = 1
    gamma: float = 0.9
    """The discount (the example's --gamma, 0.9 by default there too)."""
    episodes: int = 300
    """Evaluated sessions per policy (the same sessions for all)."""
    first_session: int = 10_000
    """The first evaluated session's seed (the others follow it)."""
    env: str = ENV
    """The env id (`recgym.envs:recgym/SyntheticWorld-Candidates-v0`: candidate actions, then --no-masked)."""
    masked: bool = True
    """Also score the Q-network among items not yet shown (`tianshou-dqn, masked`)."""
    out: str = "bench/results/clients-tianshou.json"


def train(args: Args) -> tuple[torch.nn.Module, float]:
    """Tianshou's example DQN trained on args.env for args.steps; its Q-network and the seconds it took."""
    import tianshou as ts
    from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy
    from tianshou.algorithm.optim import AdamOptimizerFactory
    from tianshou.data import CollectStats
    from tianshou.trainer import OffPolicyTrainerParams
    from tianshou.utils.net.common import Net
    from tianshou.utils.space_info import SpaceInfo

    torch.manual_seed(args.seed)
    train_envs = ts.env.DummyVectorEnv([lambda: gym.make(args.env) for _ in range(10)])
    test_envs = ts.env.DummyVectorEnv([lambda: gym.make(args.env) for _ in range(10)])
    train_envs.seed(args.seed)
    test_envs.seed(args.seed + 1000)
    env = gym.make(args.env)
    space_info = SpaceInfo.from_env(env)
    net = Net(
        state_shape=space_info.observation_info.obs_shape,
        action_shape=space_info.action_info.action_shape,
        hidden_sizes=[128, 128, 128],
    )
    policy = DiscreteQLearningPolicy(
        model=net, action_space=env.action_space, eps_training=0.1, eps_inference=0.05
    )
    algorithm = ts.algorithm.DQN(
        policy=policy,
        optim=AdamOptimizerFactory(lr=1e-3),
        gamma=args.gamma,
        n_step_return_horizon=3,
        target_update_freq=320,
    )
    train_collector = ts.data.Collector[CollectStats](
        algorithm, train_envs, ts.data.VectorReplayBuffer(20_000, 10), exploration_noise=True
    )
    test_collector = ts.data.Collector[CollectStats](algorithm, test_envs, exploration_noise=True)
    start = time.perf_counter()
    algorithm.run_training(
        OffPolicyTrainerParams(
            training_collector=train_collector,
            test_collector=test_collector,
            max_epochs=max(1, args.steps // 10_000),
            epoch_num_steps=min(args.steps, 10_000),
            collection_step_num_env_steps=10,
            test_step_num_episodes=10,
            batch_size=64,
            update_step_num_gradient_steps_per_sample=0.1,
            test_in_training=False,
            show_progress=False,
        )
    )
    return net, time.perf_counter() - start


def main(args: Args) -> list[dict]:
    from clients import Sessions, baseline_rows, client_rows, print_table, versus_popular

    from recgym.runs.checkpoint import atomic_write_json

    torch.set_num_threads(1)
    net, seconds = train(args)

    def q_values(observations: torch.Tensor) -> torch.Tensor:  # Tianshou's Net returns (q, state)
        return net(observations)[0]

    sessions = Sessions(args.env, args.episodes, args.first_session)
    rows = baseline_rows(sessions)
    rows += client_rows("tianshou-dqn", args.steps, args.seed, seconds, q_values, sessions, args.masked)
    print_table(rows)
    rows = versus_popular(rows)
    atomic_write_json(args.out, {"settings": vars(args), "rows": rows})
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
