"""The `render_mode="rgb_array"` picture of a single-user session: what was shown, what was clicked, and
how far the session has gone; one fixed-size frame per call, for Gymnasium's `RecordVideo` (CleanRL's
`--capture-video` and `--save-model` evaluation) and for anyone watching.

The frame is uint8 [height, width, 3], its size fixed by the env's history length H and slate size k
(height and width multiples of 16, as video encoders want). From the top:

- the strip: one row per recent step, the oldest at the top and the newest at the bottom (the order of
  the observation's history), one cell per slate position (a single cell for `RecEnv`), position 0 on
  the left. Grey: shown; green: the position the user clicked (the step's `chosen`); red: shown at the
  step after which the user left (a clicked cell stays green); dark: an empty slot, the session not yet
  that long.
- the bar: the session's progress, steps taken / horizon (the ansi line's "step t of T"), blue while the
  session runs or ended at the horizon, red once the user has left. The simulator's own state (a
  user's fatigue) is not drawn: the env keeps it hidden from the agent, and so does its picture.

The strip holds the steps the env took since its last `reset` (or `load_state_dict`: the steps before a
restore are not drawn); drawing is NumPy alone, tens of microseconds a frame.
"""

from __future__ import annotations

import numpy as np

EMPTY, SHOWN, CLICKED, LEFT, BACKGROUND = 0, 1, 2, 3, 4
"""The codes of a strip's pixels, indexing `COLOURS`."""
COLOURS = np.array(
    [[48, 48, 48], [150, 150, 150], [46, 204, 113], [220, 60, 60], [16, 16, 16]], dtype=np.uint8
)
BAR_RUNNING = np.array([66, 135, 245], dtype=np.uint8)

WIDTH, ROW, TALL = 256, 16, 512  # strip width and row height aimed at; rows shrink past TALL pixels
MIN_CELL, GAP, BAR = 4, 2, 12  # narrowest cell, pixels between cells, bar height (a GAP above it)


def _round_up(n: int, multiple: int = 16) -> int:
    return -(-n // multiple) * multiple


class SessionPicture:
    """Records each step's clicked position and draws the session's frames (module docstring).

    :param history_len: rows of the strip (the env's H).
    :param slate_size: cells per row (the env's k; 1 for `RecEnv`).
    """

    def __init__(self, history_len: int, slate_size: int):
        self.slate_size = slate_size
        self.cell_width = max(MIN_CELL, WIDTH // slate_size)
        self.row_height = max(MIN_CELL, min(ROW, TALL // history_len))
        self.bar_top = history_len * self.row_height + GAP
        width = _round_up(slate_size * self.cell_width)
        self._background = np.empty((_round_up(self.bar_top + BAR), width, 3), dtype=np.uint8)
        self._background[:] = COLOURS[BACKGROUND]
        x = np.arange(width)
        in_cell = (x < slate_size * self.cell_width) & (x % self.cell_width < self.cell_width - GAP)
        self._columns = np.where(in_cell, x // self.cell_width, slate_size)  # [width]: cell, k for a gap
        self._cells = np.empty((history_len, slate_size + 1), dtype=np.uint8)  # [H, k + 1] codes
        self._left: bool  # whether the user left after the newest step
        self.clear()

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, 3) of every frame."""
        height, width, channels = self._background.shape
        return height, width, channels

    def clear(self) -> None:
        """Forget the steps drawn: a new (or restored) session."""
        self._cells[:, :-1] = EMPTY
        self._cells[:, -1] = BACKGROUND  # the gap column
        self._left = False

    def record(self, chosen: int, left: bool) -> None:
        """Add a step as the newest row: position `chosen` clicked (k or more: none), `left` whether the
        user left after it."""
        cells = self._cells
        cells[:-1] = cells[1:]
        cells[-1, :-1] = LEFT if left else SHOWN
        if chosen < self.slate_size:
            cells[-1, chosen] = CLICKED
        self._left = left

    def frame(self, progress: float) -> np.ndarray:
        """A new frame [height, width, 3] uint8 of the recorded steps and progress (steps / horizon, in
        [0, 1]); a new array each call, since video recorders keep the frames they are given."""
        frame = self._background.copy()
        rows, height = len(self._cells), self.row_height
        pixels = np.take(COLOURS[self._cells], self._columns, axis=1)  # [H, width, 3]
        strip = frame[: rows * height].reshape(rows, height, frame.shape[1], 3)
        strip[:, : height - GAP] = pixels[:, None]
        filled = round(frame.shape[1] * progress)
        frame[self.bar_top : self.bar_top + BAR, :filled] = COLOURS[LEFT] if self._left else BAR_RUNNING
        return frame
