"""A non-editable install maps envs/, agents/ and experiments/ into recgym, so a user's other top-level
`agents` (the OpenAI Agents SDK installs one) keeps its name and recgym still works beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USE_BOTH = textwrap.dedent(
    """
    import agents, recgym
    from recgym.agents.zoo import AGENTS
    from recgym.envs import RecEnv
    from recgym.simulators.registry import make_simulator

    assert agents.NAME == "someone else's agents", agents.__file__
    assert recgym.__file__.startswith(INSTALLED), recgym.__file__
    env = RecEnv(make_simulator("world", n_users=20, n_items=30), horizon=5)
    observation, info = env.reset(seed=0)
    env.step(int(info["action_mask"].argmax()))
    assert "slateq" in AGENTS and recgym.RecEnv is RecEnv
    print("ok")
    """
)


@pytest.mark.slow
def test_an_installed_recgym_lives_beside_another_top_level_agents_package(tmp_path) -> None:
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.split():
        if name.startswith(("recgym/", "envs/", "agents/", "experiments/")) or name in (
            "pyproject.toml",
            "README.md",
        ):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    installed = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--target", str(installed), str(source)],
        check=True,
    )
    assert {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")} >= {"recgym"}
    assert not (installed / "agents").exists() and not (installed / "envs").exists()
    other = tmp_path / "other" / "agents"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text('NAME = "someone else\'s agents"\n')
    environment = os.environ | {"PYTHONPATH": f"{installed}{os.pathsep}{other.parent}"}
    code = f"INSTALLED = {str(installed)!r}\n{USE_BOTH}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_console_script_lists_and_runs_the_experiments(capsys, monkeypatch) -> None:
    from recgym.experiments.cli import COMMANDS, main

    with pytest.raises(SystemExit) as listed:
        main(["--help"])
    assert listed.value.code == 0
    listing = capsys.readouterr().out
    assert all(f"  {command} " in listing for command in COMMANDS)
    with pytest.raises(SystemExit) as unknown:
        main(["nope"])
    assert unknown.value.code == 2 and "unknown command 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as helped:
        main(["fit-user-model", "--help"])
    assert helped.value.code == 0 and "--preset" in capsys.readouterr().out
