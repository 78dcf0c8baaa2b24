"""experiments.dqn end to end, in-process, on a tiny world and budget."""

from __future__ import annotations

import json

import pytest

from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.studies.training_run import RunConfig
from recgym.agents.studies.training_run import train_and_evaluate as main
from recgym.agents.zoo import AGENTS
from recgym.data.sources import SyntheticLogs
from recgym.data.synthetic import LoggingConfig
from recgym.evaluation import EvalConfig  # noqa: F401  (schema documented beside it)
from recgym.models.fitted import UserModelConfig
from recgym.models.training import TrainConfig
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.world import GroundTruthConfig
from recgym.world import HandSetDynamics


def tiny_args(tmp_path) -> RunConfig:
    return RunConfig(
        agent=DQNConfig(),
        total_timesteps=600,
        eval_users=30,
        horizon=10,
        history_len=4,
        out=str(tmp_path / "runs"),
        cache_dir=str(tmp_path / "cache"),
        progress=False,
        data=SyntheticLogs(
            LoggingConfig(
                world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4),
                sessions_per_user=6,
                horizon=10,
            )
        ),
        user_model=UserModelConfig(train=TrainConfig(epochs=2)),
    )


def test_main_writes_results_config_table_and_tensorboard(tmp_path) -> None:
    results = main(tiny_args(tmp_path))
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("neumf-synthetic__sb3-dqn__0__")
    on_disk = json.loads((run_dir / "results.json").read_text())
    assert set(on_disk["policies"]) == {"sb3-dqn", "greedy", "popular", "random"}
    for metrics in on_disk["policies"].values():
        low, high = metrics["return_ci95"]
        assert low <= metrics["return_mean"] <= high
        assert 0.0 <= metrics["ctr"] <= 1.0 and 0.0 < metrics["coverage"] <= 1.0
        assert metrics["n_users"] == 30
        assert {"session_length", "diversity"} <= set(metrics)
    assert on_disk["config"]["total_timesteps"] == 600
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 0
    assert "| sb3-dqn |" in (run_dir / "results.md").read_text()
    for folder in ("train", "fit", "eval_sb3-dqn", "eval_greedy", "eval_popular", "eval_random"):
        assert any(path.name.startswith("events.out.tfevents") for path in (run_dir / folder).iterdir())
    assert results["policies"] == on_disk["policies"]


@pytest.mark.slow
def test_second_run_loads_the_cached_user_model(tmp_path, monkeypatch) -> None:
    main(tiny_args(tmp_path))
    import recgym.models.fitted as fitted_module

    def refit(*args, **kwargs):
        raise AssertionError("the user model was fitted again instead of loaded from the cache")

    monkeypatch.setattr(fitted_module, "train_user_model", refit)
    main(tiny_args(tmp_path))


def test_main_with_the_on_device_dqn(tmp_path) -> None:
    args = tiny_args(tmp_path)
    args.agent, args.n_envs = AGENTS["gpu-dqn"](), 16
    results = main(args)
    assert set(results["policies"]) == {"gpu-dqn", "greedy", "popular", "random"}
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert "__gpu-dqn__" in run_dir.name
    assert any(path.name.startswith("events.out.tfevents") for path in (run_dir / "train").iterdir())


@pytest.mark.slow
def test_every_reward_runs_end_to_end_with_learned_dynamics(tmp_path) -> None:
    for reward in ("engagement", "session_length", "retention"):
        args = tiny_args(tmp_path / reward)
        args.reward = reward
        results = main(args)
        assert results["dynamics"]["return"] is not None
        for metrics in results["policies"].values():
            if reward == "session_length":
                assert metrics["return_mean"] == pytest.approx(metrics["session_length"])
            elif reward == "retention":  # the return model's probability when the session ended
                assert 0.0 <= metrics["return_mean"] <= 1.0
            else:
                assert 0.0 <= metrics["return_mean"] <= metrics["session_length"]


def test_no_learn_dynamics_keeps_the_hand_rule(tmp_path) -> None:
    args = tiny_args(tmp_path)
    args.dynamics = HandSetDynamics()
    assert main(args)["dynamics"] is None


@pytest.mark.parametrize("agent", ["sb3-ppo", "sb3-a2c", "sb3-qrdqn"])
@pytest.mark.slow
def test_the_other_sb3_agents_run_the_same_pipeline(tmp_path, agent) -> None:
    args = tiny_args(tmp_path)
    args.agent = AGENTS[agent]()
    results = main(args)
    name = agent
    assert set(results["policies"]) == {name, "greedy", "popular", "random"}
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith(f"neumf-synthetic__{name}__0__")


@pytest.mark.parametrize("agent", ["slateq", "topk-reinforce", "sb3-dqn"])
def test_slates_run_the_same_pipeline(tmp_path, agent) -> None:
    args = tiny_args(tmp_path)
    args.agent, args.n_envs, args.choice = (
        AGENTS[agent](),
        (16 if agent != "sb3-dqn" else None),
        ChoiceConfig(slate_size=3),
    )
    results = main(args)
    name = agent
    assert set(results["policies"]) == {name, "greedy", "popular", "random"}
    assert results["config"]["choice"]["slate_size"] == 3
    for metrics in results["policies"].values():
        assert 0.0 <= metrics["ctr"] <= 1.0 and metrics["novelty"] > 0
