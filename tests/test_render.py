"""The `rgb_array` render mode (envs/render.py): fixed-size uint8 frames that show the recent steps, their
clicks and the session's progress where the module docstring says, through `gym.make` too, as CleanRL's
evaluation and Gymnasium's `RecordVideo` use them."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from fakes import FixedSimulator
from gymnasium.utils import env_checker

import recgym.envs  # noqa: F401  (registers the recgym/ env ids)
from recgym.envs import CandidateEnv, RecEnv, SlateEnv
from recgym.envs.render import BAR, BAR_RUNNING, CLICKED, COLOURS, EMPTY, LEFT, SHOWN, SessionPicture
from recgym.simulators.choice import ChoiceConfig

pytestmark = pytest.mark.filterwarnings("ignore:.*infinity:UserWarning")

TINY = {"n_users": 20, "n_items": 15, "n_topics": 3, "dim": 4, "seed": 0}  # TINY_WORLD's fields
MAKE = {"horizon": 5, "history_len": 3, "simulator_kwargs": TINY}
SINGLE_USER_IDS = [
    ("recgym/SyntheticWorld-v0", {}),
    ("recgym/SyntheticWorld-Dense-v0", {}),
    ("recgym/SyntheticWorld-Candidates-v0", {"k": 5}),
    ("recgym/SyntheticWorld-Slate-v0", {"choice": ChoiceConfig(slate_size=3)}),
]


def cell(frame: np.ndarray, picture: SessionPicture, row: int, position: int = 0) -> np.ndarray:
    """The colour at the top-left pixel of the strip's cell (row from the top, slate position)."""
    return frame[row * picture.row_height, position * picture.cell_width]


def bar(frame: np.ndarray, picture: SessionPicture) -> np.ndarray:
    """[width, 3] the middle line of the progress bar."""
    return frame[picture.bar_top + BAR // 2]


def test_frames_keep_one_shape_and_dtype_across_steps_and_resets(fixed_sim) -> None:
    env = RecEnv(fixed_sim, horizon=4, history_len=3, render_mode="rgb_array")
    env.action_space.seed(0)
    frames = [env.render()]  # blank before the first reset
    for seed in range(3):
        env.reset(seed=seed)
        frames.append(env.render())
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            frames.append(env.render())
            done = terminated or truncated
    shape = SessionPicture(3, 1).shape
    assert all(isinstance(frame, np.ndarray) and frame.dtype == np.uint8 for frame in frames)
    assert {frame.shape for frame in frames} == {shape} and shape[2] == 3
    assert shape[0] % 16 == 0 and shape[1] % 16 == 0  # as video encoders want


def test_a_click_lights_the_newest_row_and_the_history_moves_up(fixed_sim) -> None:
    """User 0 clicks even items and leaves after three steps (conftest)."""
    env = RecEnv(fixed_sim, horizon=10, history_len=3, render_mode="rgb_array")
    picture = SessionPicture(3, 1)
    env.reset(seed=0, options={"user": 0})
    frame = env.render()
    assert [cell(frame, picture, row).tolist() for row in range(3)] == [COLOURS[EMPTY].tolist()] * 3
    env.step(2)  # a click
    frame = env.render()
    np.testing.assert_array_equal(cell(frame, picture, 2), COLOURS[CLICKED])
    np.testing.assert_array_equal(cell(frame, picture, 1), COLOURS[EMPTY])
    env.step(3)  # no click
    frame = env.render()
    np.testing.assert_array_equal(cell(frame, picture, 1), COLOURS[CLICKED])
    np.testing.assert_array_equal(cell(frame, picture, 2), COLOURS[SHOWN])


def test_the_bar_shows_progress_and_turns_red_when_the_user_leaves() -> None:
    env = RecEnv(FixedSimulator([[0, 0]], [2]), horizon=4, history_len=3, render_mode="rgb_array")
    picture = SessionPicture(3, 1)
    env.reset(seed=0)
    assert not (bar(env.render(), picture) == BAR_RUNNING).all(axis=1).any()  # nothing filled at step 0
    env.step(0)
    line = bar(env.render(), picture)
    filled = (line == BAR_RUNNING).all(axis=1)
    assert filled.sum() == picture.shape[1] // 4 and filled[: picture.shape[1] // 4].all()  # step 1 of 4
    _, _, terminated, _, _ = env.step(1)  # no click, and the user leaves
    assert terminated
    frame = env.render()
    np.testing.assert_array_equal(cell(frame, picture, 2), COLOURS[LEFT])
    np.testing.assert_array_equal(bar(frame, picture)[0], COLOURS[LEFT])
    env.reset(seed=1)
    frame = env.render()
    np.testing.assert_array_equal(cell(frame, picture, 2), COLOURS[EMPTY])  # a new session is blank


def test_the_slate_picture_marks_each_steps_chosen_position(tiny_world) -> None:
    k, history_len = 3, 4
    env = SlateEnv(
        tiny_world,
        horizon=8,
        history_len=history_len,
        choice=ChoiceConfig(slate_size=k),
        render_mode="rgb_array",
    )
    picture = SessionPicture(history_len, k)
    env.reset(seed=0, options={"user": 3})
    env.action_space.seed(0)
    chosen = []
    for _ in range(6):
        *_, info = env.step(env.action_space.sample())
        chosen.append(info["chosen"])
    assert set(chosen) - {k}, "the seed should give at least one click"
    frame = env.render()
    for row, position in enumerate(chosen[-history_len:]):  # the oldest recent step on top
        expected = [COLOURS[CLICKED if j == position else SHOWN].tolist() for j in range(k)]
        assert [cell(frame, picture, row, j).tolist() for j in range(k)] == expected


@pytest.mark.parametrize(("env_id", "kwargs"), SINGLE_USER_IDS)
def test_registered_single_user_ids_render_frames_through_gym_make(env_id, kwargs) -> None:
    env = gym.make(f"recgym.envs:{env_id}", render_mode="rgb_array", **MAKE, **kwargs)
    assert env.render_mode == "rgb_array"
    env.reset(seed=0)
    env.action_space.seed(0)
    frames = [env.render()]
    for _ in range(3):
        env.step(env.action_space.sample())
        frames.append(env.render())
    assert all(frame.dtype == np.uint8 and frame.shape == frames[0].shape for frame in frames)
    assert frames[0].ndim == 3 and frames[0].shape[2] == 3
    assert not np.array_equal(frames[0], frames[-1])  # the steps show
    env.close()


def test_the_candidate_wrapper_passes_the_render_mode_through() -> None:
    env = gym.make("recgym/SyntheticWorld-Candidates-v0", render_mode="rgb_array", k=5, **MAKE)
    assert isinstance(env.unwrapped, RecEnv) and env.render_mode == "rgb_array"
    wrapper = env
    while not isinstance(wrapper, CandidateEnv):
        wrapper = wrapper.env
    assert wrapper.render_mode == "rgb_array" and "rgb_array" in wrapper.metadata["render_modes"]


def test_an_unknown_render_mode_is_refused_naming_the_modes(fixed_sim) -> None:
    with pytest.raises(ValueError, match=r"render_mode must be None or one of \['ansi', 'rgb_array'\]"):
        RecEnv(fixed_sim, render_mode="human")
    with pytest.raises(RuntimeError, match="render_mode='ansi' or 'rgb_array'"):
        RecEnv(fixed_sim).render()


def test_gymnasium_check_env_passes_with_the_rgb_array_render_mode() -> None:
    env = gym.make("recgym/SyntheticWorld-v0", render_mode="rgb_array", **MAKE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env_checker.check_env(env.unwrapped)  # renders in every declared mode, through the spec too
    assert not [w for w in caught if "render" in str(w.message).lower()]


def test_what_record_video_relies_on_holds_in_cleanrls_flow() -> None:
    """CleanRL's evaluation: `gym.make(id, render_mode="rgb_array")`, wrapped in `RecordVideo` (which needs
    moviepy): it refuses other modes, reads `render_fps` and keeps every frame `render()` returns after
    reset and each step, so they must share one shape and not be overwritten later."""
    env = gym.wrappers.RecordEpisodeStatistics(
        gym.make("recgym.envs:recgym/SyntheticWorld-Dense-v0", render_mode="rgb_array", **MAKE)
    )
    assert env.render_mode not in {None, "human", "ansi"}
    fps = env.metadata["render_fps"]
    assert isinstance(fps, int | float) and fps > 0
    env.reset(seed=0)
    env.action_space.seed(0)
    frames = [env.render()]
    copies = [frames[0].copy()]
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frames.append(env.render())
        copies.append(frames[-1].copy())
        done = terminated or truncated
    env.reset(seed=1)
    env.render()
    assert len({frame.shape for frame in frames}) == 1 and len(frames) > 2
    assert all(np.array_equal(frame, kept) for frame, kept in zip(frames, copies, strict=True))
