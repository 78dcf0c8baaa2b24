"""Every experiment is a command: `python -m experiments.<name>` in a checkout, `recgym <name>` installed;
its `--help` prints its options and exits 0."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
COMMANDS = sorted(p.stem for p in EXPERIMENTS.glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def test_the_commands_the_readme_names_are_there() -> None:
    assert {"dqn", "compare", "fit_user_model", "fidelity", "ppo", "slateq"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_prints_its_help(name: str, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", [f"recgym {name}", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module(f"recgym.experiments.{name}", run_name="__main__", alter_sys=True)
    assert exit_info.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_the_command_line_default_is_the_quick_run() -> None:
    from recgym.agents.slateq import SlateQConfig
    from recgym.agents.studies.training_run import RunConfig

    assert RunConfig().agent == SlateQConfig(gradient_steps=2) and RunConfig().total_timesteps == 300_000
