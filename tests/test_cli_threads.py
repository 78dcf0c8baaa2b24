"""`--threads` on every command line: the count the command runs at, taken from the line, else
$OMP_NUM_THREADS, else recgym's default; a bad count is a one-line error; --help names it."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
import torch

from recgym.agents.studies.training_run import RunConfig
from recgym.experiments.common import DEFAULT_THREADS, parse, run_cli, take_threads


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_line_then_the_environment_then_the_default_choose_the_count(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert take_threads(["agent:slateq", "--threads", "3", "--seed", "1"]) == (
        3,
        ["agent:slateq", "--seed", "1"],
    )
    assert take_threads(["--threads=2"]) == (2, [])
    assert take_threads(["--seed", "1"]) == (DEFAULT_THREADS, ["--seed", "1"])
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert take_threads([]) == (4, []) and take_threads(["--threads", "2"])[0] == 2


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--threads", "two"], ["--threads"], ["--threads=-1"]])
def test_a_count_that_is_no_positive_integer_is_a_one_line_error(argv, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        take_threads(argv)
    assert stop.value.code == 2 and "--threads must be a positive whole number" in capsys.readouterr().err


def test_a_command_runs_at_the_count_it_was_given(monkeypatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(sys, "argv", ["dqn", "--threads", "2", "--total-timesteps", "10"])
    run_cli(lambda args: seen.append(torch.get_num_threads()), RunConfig)
    monkeypatch.setattr(sys, "argv", ["dqn"])
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    run_cli(lambda args: seen.append(torch.get_num_threads()), RunConfig)
    assert seen == [2, DEFAULT_THREADS]


def test_help_names_the_options_every_command_shares() -> None:
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        parse(RunConfig, ["--help"])
    text = " ".join(shown.getvalue().split())
    assert "--threads N" in text and "--import MODULE" in text
