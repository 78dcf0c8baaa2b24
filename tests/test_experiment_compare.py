"""experiments.compare end to end on a tiny world: every output, the tests, and resuming."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest
from test_experiment_dqn import tiny_args

import recgym.experiments.compare as compare
from recgym.agents.slateq import SlateQConfig
from recgym.agents.studies.comparison import AgentOptions, CompareConfig, comparison_dir
from recgym.agents.topk_reinforce import TopKReinforceConfig
from recgym.experiments.compare import main
from recgym.reports.comparison import holm
from recgym.simulators.choice import ChoiceConfig


def tiny_compare(tmp_path, **overrides) -> CompareConfig:
    run = dataclasses.replace(tiny_args(tmp_path), agent=SlateQConfig(gradient_steps=2), n_envs=16)
    options = AgentOptions({"topk-reinforce": TopKReinforceConfig(rollout_steps=5, batch_size=64)})
    defaults = {
        "agents": ("gpu-dqn", "topk-reinforce"),
        "greedy_models": ("neumf", "mf"),
        "seeds": (0, 1),
        "workers": 1,
        "curve_every": 300,
        "curve_users": 20,
        "out": str(tmp_path / "compare"),
        "agent_options": options,
        "run": run,
    }
    return CompareConfig(**(defaults | overrides))


@pytest.mark.slow
def test_compare_writes_every_output_with_intervals_and_tests(tmp_path) -> None:
    args = tiny_compare(tmp_path)
    summary = main(args)
    (folder,) = (tmp_path / "compare").iterdir()
    assert folder.name.startswith("neumf-synthetic__k1__")
    names = {"gpu-dqn", "topk-reinforce", "greedy-neumf", "greedy-mf", "popular", "random"}
    assert set(summary["policies"]) == names
    for policy in summary["policies"].values():
        assert policy["seeds"] == [0, 1]
        for metric in ("return_mean", "session_length", "ctr", "coverage", "diversity", "novelty"):
            low, high = policy[metric]["ci95"]
            assert low <= policy[metric]["mean"] <= high and len(policy[metric]["values"]) == 2
    assert summary["best_baseline"] in {"greedy-neumf", "greedy-mf", "popular", "random"}
    for agent in ("gpu-dqn", "topk-reinforce"):
        test = summary["tests"][agent]
        assert test["against"] == summary["best_baseline"] and test["n_seeds"] == 2
        curve = summary["curves"][agent]
        assert curve["timesteps"][-1] >= args.run.total_timesteps and len(curve["timesteps"]) >= 2
    rows = list(csv.DictReader((folder / "results.csv").open()))
    assert {row["policy"] for row in rows} == names
    assert json.loads((folder / "results.json").read_text())["policies"].keys() == names
    assert "| gpu-dqn |" in (folder / "results.md").read_text()
    for figure in ("learning_curves.png", "returns.png", "return_vs_ctr.png"):
        assert (folder / figure).stat().st_size > 1000
    for name in names:
        for seed in (0, 1):
            run = folder / "tensorboard" / name / f"seed{seed}"
            assert any(path.name.startswith("events.out.tfevents") for path in run.iterdir())


@pytest.mark.slow
def test_a_rerun_resumes_without_running_finished_cells(tmp_path, monkeypatch) -> None:
    args = tiny_compare(tmp_path, agents=("gpu-dqn",), seeds=(0,))
    first = main(args)
    ran = []
    original = compare.run_cell
    monkeypatch.setattr(
        compare, "run_cell", lambda cell: ran.append((cell.agent, cell.seed)) or original(cell)
    )
    second = main(tiny_compare(tmp_path, agents=("gpu-dqn", "topk-reinforce"), seeds=(0, 1)))
    assert sorted(ran, key=str) == sorted(
        [("topk-reinforce", 0), (None, 1), ("gpu-dqn", 1), ("topk-reinforce", 1)], key=str
    )
    assert (
        second["policies"]["gpu-dqn"]["return_mean"]["values"][0]
        == first["policies"]["gpu-dqn"]["return_mean"]["mean"]
    )


def test_other_settings_go_to_another_comparison_folder(tmp_path) -> None:
    slates = tiny_compare(tmp_path)
    slates.run.choice = ChoiceConfig(slate_size=3)
    assert comparison_dir(slates) != comparison_dir(tiny_compare(tmp_path))
    reseeded = tiny_compare(tmp_path)
    reseeded.run.seed = 7
    assert comparison_dir(reseeded) == comparison_dir(tiny_compare(tmp_path))


def test_holm_adjusts_the_smallest_p_value_most() -> None:
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}) == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})


def test_a_comparison_refuses_a_run_agent_it_would_not_train(tmp_path) -> None:
    run = dataclasses.replace(tiny_args(tmp_path), agent=TopKReinforceConfig())
    with pytest.raises(ValueError, match="a comparison trains --agents"):
        tiny_compare(tmp_path, run=run)


def test_agent_options_change_the_comparison_folder(tmp_path) -> None:
    other = AgentOptions({"topk-reinforce": TopKReinforceConfig(rollout_steps=6, batch_size=64)})
    assert comparison_dir(tiny_compare(tmp_path, agent_options=other)) != comparison_dir(
        tiny_compare(tmp_path)
    )
