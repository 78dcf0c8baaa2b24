"""Training feedback: a progress bar with the recent episode return, and learning-curve points."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from tqdm.auto import tqdm

from recgym.curves import LearningCurve
from recgym.policy import Policy


class ProgressCallback(BaseCallback):
    """tqdm bar over timesteps with the mean return of the last 100 episodes.

    Unlike SB3's rich bar it also prints periodic lines when stdout is not a terminal (CI, logs).

    :param total_timesteps: the `learn` budget, for the bar's length.
    :param enabled: False to train silently.
    """

    def __init__(self, total_timesteps: int, enabled: bool = True):
        super().__init__()
        self.total, self.enabled = total_timesteps, enabled
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(
            total=self.total,
            initial=self.model.num_timesteps,  # where a resumed run starts
            desc="train agent",
            unit="step",
            disable=not self.enabled,
            mininterval=2.0,
        )

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.update(self.training_env.num_envs)
        episodes = self.model.ep_info_buffer
        if episodes and self.n_calls % 200 == 0:
            self.bar.set_postfix(ep_return=f"{np.mean([e['r'] for e in episodes]):.2f}", refresh=False)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


class CurveCallback(BaseCallback):
    """Feeds an SB3 model's training steps to a `LearningCurve`.

    :param curve: the curve to record.
    :param policy: builds the model's current servable `Policy`.
    """

    def __init__(self, curve: LearningCurve, policy: Callable[[], Policy]):
        super().__init__()
        self.curve, self.policy = curve, policy

    def _on_step(self) -> bool:
        return self.curve.observe(self.num_timesteps, self.policy)
