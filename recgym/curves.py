"""Learning curves: a policy evaluated on the same users at regular points of its training.

Training-time episode returns mix in exploration; a curve of the policy as it would be served
(greedy, masked) on a fixed user sample and random streams measures what was learned so far, and
lines up with the final evaluation and the baselines.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recgym.evaluation import EvalConfig, evaluate
from recgym.policy import Policy
from recgym.simulators.protocol import UserSimulator


class LearningCurve:
    """Evaluates a policy every `every` training steps (and when asked at the end).

    :param simulator: where the policy is evaluated.
    :param config: users, horizon and seed of each evaluation (the same at every point).
    :param every: training steps between points.
    :param item_popularity: optional logged popularity, for novelty.
    """

    def __init__(
        self,
        simulator: UserSimulator,
        config: EvalConfig,
        every: int,
        item_popularity: np.ndarray | None = None,
    ):
        if every < 1:
            raise ValueError(f"a learning curve needs every >= 1 step, got {every}")
        self.simulator, self.config, self.every = simulator, config, every
        self.item_popularity = item_popularity
        self.points: list[dict] = []
        self._next = every

    def observe(self, timesteps: int, policy: Callable[[], Policy], force: bool = False) -> bool:
        """Record a point when timesteps reached the next one (or `force`); True (go on training)."""
        if timesteps >= self._next or force:
            self._next = (timesteps // self.every + 1) * self.every
            summary = evaluate(self.simulator, {"policy": policy()}, self.config, self.item_popularity)
            self.points.append({"timesteps": int(timesteps), **summary["policies"]["policy"]})
        return True

    def finish(self, timesteps: int, policy: Callable[[], Policy]) -> None:
        """Record the trained policy at timesteps unless the last point is already there."""
        if not self.points or self.points[-1]["timesteps"] < timesteps:
            self.observe(timesteps, policy, force=True)
