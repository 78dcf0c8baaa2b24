"""Plug-in simulators: the example of docs/custom_simulator.md runs as written, through the envs, an
agent, every CLI and the comparison; `check_simulator` names each broken promise."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch
from test_experiment_compare import tiny_compare
from test_experiment_dqn import tiny_args

from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.agents.zoo import AGENTS
from recgym.envs import RecEnv
from recgym.experiments import compare
from recgym.experiments.common import run_cli
from recgym.simulators.check import SimulatorCheckError, check_simulator
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.plugin import PluginSimulator
from recgym.simulators.protocol import Response
from recgym.simulators.registry import make_simulator

DOC = Path(__file__).parents[1] / "docs" / "custom_simulator.md"
PLUGIN = "my_simulators:BoredomWorld"


@pytest.fixture
def doc_module(tmp_path, monkeypatch) -> list[str]:
    """The doc's simulator saved as my_simulators.py on the path; returns the doc's Python blocks."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    (tmp_path / "my_simulators.py").write_text(blocks[0])
    monkeypatch.syspath_prepend(str(tmp_path))
    return blocks


@pytest.mark.slow
def test_the_doc_example_runs_as_written_and_its_agent_beats_random(doc_module) -> None:
    namespace: dict = {}
    exec(compile(doc_module[1], str(DOC), "exec"), namespace)  # check, env checkers, DQN, evaluation
    returns = {name: row["return_mean"] for name, row in namespace["results"]["policies"].items()}
    assert returns["dqn"] > returns["random"]
    assert type(namespace["vector_env"].simulator).__name__ == "BoredomWorld"


@pytest.mark.parametrize(("agent", "slate_size"), [("sb3-dqn", 1), ("slateq", 3), ("topk-reinforce", 3)])
def test_every_kind_of_agent_trains_in_a_plugin_simulator(doc_module, tmp_path, agent, slate_size) -> None:
    args = tiny_args(tmp_path)
    args.data, args.agent, args.n_envs = PluginSimulator(PLUGIN), AGENTS[agent](), 16
    args.choice = ChoiceConfig(slate_size=slate_size)
    results = train_and_evaluate(args)
    assert results["policies"][agent]["n_users"] == args.eval_users


def test_dqn_cli_trains_and_evaluates_in_a_plugin_simulator(doc_module, tmp_path) -> None:
    args = tiny_args(tmp_path)
    args.data, args.agent = PluginSimulator(PLUGIN, '{"n_items": 30}'), AGENTS["gpu-dqn"]()
    results = train_and_evaluate(args)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("boredomworld__gpu-dqn__0__")
    assert set(results["policies"]) == {"gpu-dqn", "greedy", "popular", "random"}
    assert results["policies"]["random"]["coverage"] > 0.5  # 30 items, every one reachable
    assert results["dynamics"] is None


def test_compare_runs_agents_and_zoo_baselines_in_a_plugin_simulator(doc_module, tmp_path) -> None:
    args = tiny_compare(tmp_path, agents=("gpu-dqn",), greedy_models=("mf",), seeds=(0,))
    args.run.data = PluginSimulator(PLUGIN)
    summary = compare.main(args)
    (folder,) = (tmp_path / "compare").iterdir()
    assert folder.name.startswith("boredomworld__k1__")
    assert set(summary["policies"]) == {"gpu-dqn", "greedy-mf", "popular", "random"}


def test_a_plugin_is_named_by_import_path_with_clear_errors() -> None:
    assert type(make_simulator("recgym.simulators.world:GroundTruthWorld")).__name__ == "GroundTruthWorld"
    with pytest.raises(ValueError, match="cannot import module 'no_such_module'"):
        make_simulator("no_such_module:Sim")
    with pytest.raises(ValueError, match="has no attribute 'Missing'"):
        make_simulator("recgym.simulators.world:Missing")
    with pytest.raises(TypeError, match="does not follow the UserSimulator protocol"):
        make_simulator("recgym.simulators.world:GroundTruthConfig")
    with pytest.raises(ValueError, match="module.path:ClassName"):
        make_simulator("no-such-name")
    with pytest.raises(ValueError, match="JSON object"):
        PluginSimulator("world", "n_items=3")


def test_an_ended_session_stays_ended_until_reset(tiny_world) -> None:
    env = RecEnv(tiny_world, horizon=2)
    env.reset(seed=0)
    ended = False
    while not ended:
        _, _, terminated, truncated, _ = env.step(0)
        ended = terminated or truncated
    with pytest.raises(RuntimeError, match="session has ended"):
        env.step(1)
    env.reset()
    env.step(1)


class CountingSim:
    """A correct tiny simulator written from scratch; the variants below break one promise each."""

    def __init__(self) -> None:
        self.n_users, self.n_items, self.device = 5, 4, torch.device("cpu")

    def initial_state(self, users, rng):
        return {"user": users, "clicks": torch.zeros(len(users))}

    def respond(self, state, items, rng):
        click = rng.uniform() < 0.5
        return Response(click=click, reward=click.float())

    def transition(self, state, items, response, rng):
        return {"user": state["user"], "clicks": state["clicks"] + response.click.float()}

    def leaves(self, state, rng):
        return rng.uniform() < 0.1


class GlobalRandom(CountingSim):
    def respond(self, state, items, rng):
        click = torch.rand(len(items)) < 0.5
        return Response(click=click, reward=click.float())


class NaNReward(CountingSim):
    def respond(self, state, items, rng):
        response = super().respond(state, items, rng)
        return Response(click=response.click, reward=response.reward / 0.0 * 0.0)


class WrongRewardShape(CountingSim):
    def respond(self, state, items, rng):
        response = super().respond(state, items, rng)
        return Response(click=response.click, reward=response.reward[:, None])


class InPlace(CountingSim):
    def transition(self, state, items, response, rng):
        state["clicks"] += response.click.float()
        return state


class ChangingLayout(CountingSim):
    def transition(self, state, items, response, rng):
        return super().transition(state, items, response, rng) | {"extra": torch.zeros(len(items))}


class FloatLeaves(CountingSim):
    def leaves(self, state, rng):
        return rng.uniform()


class MixedRows(CountingSim):
    def respond(self, state, items, rng):
        click = rng.uniform() < rng.uniform().mean()
        return Response(click=click, reward=click.float())


class NoItems(CountingSim):
    def __init__(self) -> None:
        super().__init__()
        self.n_items = 0


@pytest.mark.parametrize(
    ("simulator", "message"),
    [
        (GlobalRandom(), "behaves differently alone than in a batch|not deterministic"),
        (NaNReward(), r"respond\(\).reward holds NaN"),
        (WrongRewardShape(), r"respond\(\).reward has shape \(4, 1\), expected \(4,\)"),
        (InPlace(), r"transition modified state\['clicks'\] in place"),
        (ChangingLayout(), "transition changed the state's layout"),
        (FloatLeaves(), r"leaves\(\) has dtype torch.float32, expected torch.bool"),
        (MixedRows(), "behaves differently alone than in a batch"),
        (NoItems(), "n_items must be a positive int, got 0"),
    ],
)
def test_check_simulator_names_the_broken_promise(simulator, message: str) -> None:
    with pytest.raises(SimulatorCheckError, match=message):
        check_simulator(simulator)


def test_check_simulator_passes_correct_simulators(tiny_world, fixed_sim) -> None:
    for simulator in (CountingSim(), tiny_world, fixed_sim):
        check_simulator(simulator)


def test_plugin_kwargs_reach_the_simulator(doc_module) -> None:
    simulator = PluginSimulator(PLUGIN, json.dumps({"n_items": 7, "n_users": 3})).build()
    assert (simulator.n_users, simulator.n_items) == (3, 7)


def test_fidelity_fit_and_sim_to_real_take_a_plugin_as_their_world(doc_module, tmp_path) -> None:
    from recgym.agents.studies.sim_to_real import SimToRealConfig
    from recgym.experiments import fidelity, fit_user_model, sim_to_real
    from recgym.models.fitted import UserModelConfig
    from recgym.models.mf import MFConfig

    tiny = tiny_args(tmp_path)
    logging = tiny.data.logging
    plugin = PluginSimulator(
        PLUGIN, '{"n_users": 30, "n_items": 20}', logging.sessions_per_user, logging.horizon
    )
    common = {"data": plugin, "out": str(tmp_path / "runs"), "progress": False}
    fit = fit_user_model.main(fit_user_model.Args(user_model=UserModelConfig(MFConfig()), epochs=1, **common))
    assert (fit["data"], fit["n_items"]) == ("boredomworld", 20)
    report = fidelity.main(fidelity.Args(user_model=tiny.user_model, cache_dir=tiny.cache_dir, **common))
    assert report["data"] == "boredomworld" and report["held_out_sessions"] > 0
    run = dataclasses.replace(tiny, data=plugin, agent=AGENTS["gpu-dqn"]())
    assert (
        "greedy" in sim_to_real.main(SimToRealConfig(seeds=(0,), train_in_truth=False, run=run))["policies"]
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["data:plugin", "--data.name", "my_simulators:Nope", "--seed", "1"], "has no attribute 'Nope'"),
        (["data:plugin", "--data.name", "my_simulators:Nope"], "has no attribute 'Nope'"),
        (["data:plugin", "--data.name", "nosuchmod:X"], "cannot import module 'nosuchmod'"),
        (["data:plugin", "--data.name", "world", "--data.kwargs", "{bad"], "must be a JSON object"),
        (
            ["data:plugin", "--data.name", "my_simulators:BoredomWorld", "--data.kwargs", '{"n_itemz": 3}'],
            "n_itemz",
        ),
        (
            ["data:plugin", "--data.name", "world", "--data.kwargs", '{"n_itemz": 3}'],
            "unexpected keyword argument 'n_itemz'",
        ),
    ],
)
def test_a_bad_simulator_on_the_command_line_is_one_line_not_a_traceback(
    doc_module, tmp_path, monkeypatch, capsys, flags, message
) -> None:
    monkeypatch.setattr("sys.argv", ["dqn", "--out", str(tmp_path / "runs"), *flags])
    with pytest.raises(SystemExit) as exit_:
        run_cli(train_and_evaluate, RunConfig)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert message in " ".join(error.split()) and "Traceback" not in error
    assert not (tmp_path / "runs").exists()
