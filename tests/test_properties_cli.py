"""Properties of the experiments' command lines (docs/ROBUSTNESS.md): a bad option value stops the run
with a message naming the option, and a missing or malformed --path stops it, before anything is
loaded, fitted or written. Parsed in-process with tyro, as `python -m experiments.<name>` would."""

from __future__ import annotations

import contextlib
import io
import re
import typing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recgym.agents.studies.comparison import CompareConfig
from recgym.agents.studies.training_run import RunConfig
from recgym.agents.studies.training_run import train_and_evaluate as main
from recgym.agents.zoo import AGENTS as AGENT_REGISTRY
from recgym.data import LogError
from recgym.data.sources import MovieLensLogs
from recgym.experiments.common import parse
from recgym.models.zoo import ModelName

BELOW_ONE = st.integers(max_value=0).map(str)
NOT_AN_INT = st.one_of(
    st.floats(allow_nan=True).filter(lambda v: not v.is_integer()).map(str),
    st.text(alphabet="abx.e+- ", max_size=4).filter(lambda t: not re.fullmatch(r"\s*[-+]?\d+\s*", t)),
)
BAD_SEED = (st.integers(max_value=-1) | st.integers(min_value=2**32)).map(str)


def not_one_of(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    text = st.text(alphabet="abcdegpqrstu-0", min_size=1, max_size=8)
    return text.filter(lambda name: name not in names and not name.startswith("-"))  # "-a": an option


AGENTS, MODELS = tuple(AGENT_REGISTRY), typing.get_args(ModelName)
DQN_OPTIONS = {
    "total-timesteps": BELOW_ONE | NOT_AN_INT,
    "n-envs": BELOW_ONE | NOT_AN_INT,
    "eval-users": BELOW_ONE | NOT_AN_INT,
    "horizon": BELOW_ONE | NOT_AN_INT,
    "history-len": BELOW_ONE | NOT_AN_INT,
    "seed": BAD_SEED | NOT_AN_INT,
    "choice.slate-size": BELOW_ONE | NOT_AN_INT,
    "agent": not_one_of(AGENTS),
    "device": st.sampled_from(["gpu", "cdua", "cpu:x", "cuda:-1", "", "tpu0"]),
}
COMPARE_OPTIONS = {
    "workers": BELOW_ONE | NOT_AN_INT,
    "curve-every": BELOW_ONE | NOT_AN_INT,
    "curve-users": BELOW_ONE | NOT_AN_INT,
    "seeds": BAD_SEED | NOT_AN_INT | st.just(""),  # "": no seed at all
    "agents": not_one_of(AGENTS),
    "greedy-models": not_one_of(MODELS),
    "run.total-timesteps": BELOW_ONE | NOT_AN_INT,
    "run.choice.slate-size": BELOW_ONE | NOT_AN_INT,
}

LIST_GOOD = {"seeds": "0", "agents": "gpu-dqn", "greedy-models": "mf"}


def parse_error(cli: type, argv: list[str]) -> str:
    """tyro's message for argv, which must stop the parse with exit status 2 (whitespace removed)."""
    output = io.StringIO()
    with (
        pytest.raises(SystemExit) as stop,
        contextlib.redirect_stderr(output),
        contextlib.redirect_stdout(output),
    ):
        parse(cli, argv)
    assert stop.value.code == 2
    return re.sub(r"[\s│─╭╮╰╯]", "", output.getvalue())


def named(option: str, message: str) -> bool:
    """Whether message names the option, as on the command line or as the field."""
    field = option.rpartition(".")[2]
    return f"--{option}" in message or field.replace("-", "_") in message


@settings(max_examples=100)
@given(option=st.sampled_from(sorted(DQN_OPTIONS)), data=st.data())
@pytest.mark.slow
def test_a_bad_experiment_option_stops_the_run_naming_it(tmp_path_factory, option, data) -> None:
    value = data.draw(DQN_OPTIONS[option], label="value")
    folder = tmp_path_factory.mktemp("cli")
    chosen = f"agent:{value}" if option == "agent" else f"--{option}={value}"  # a typed choice
    argv = [chosen, f"--out={folder / 'runs'}", f"--cache-dir={folder / 'cache'}"]
    assert named(option, parse_error(RunConfig, argv))
    assert not any(folder.iterdir())


@settings(max_examples=60)
@given(option=st.sampled_from(sorted(COMPARE_OPTIONS)), data=st.data())
@pytest.mark.slow
def test_a_bad_comparison_option_stops_the_run_naming_it(tmp_path_factory, option, data) -> None:
    value = data.draw(COMPARE_OPTIONS[option], label="value")
    folder = tmp_path_factory.mktemp("cli")
    argv = [f"--{option}={value}"]
    if option in LIST_GOOD:  # a list: one good value and the bad one, or no value at all
        argv = [f"--{option}", LIST_GOOD[option], value] if value else [f"--{option}"]
    message = parse_error(CompareConfig, [*argv, f"--out={folder}"])
    assert named(option, message) or (option == "seeds" and "atleastoneseed" in message)
    assert not any(folder.iterdir())


BAD_FILES = st.one_of(
    st.sampled_from([b"", b"\n", b"1,2,3,4\n", b"1\t2\t3\n", b"a\tb\tc\td\n", b"1\t2\tnan\t4\n"]),
    st.binary(max_size=40).map(lambda junk: junk + b"\xff"),  # never UTF-8
)


@settings(max_examples=60)
@given(content=BAD_FILES, missing=st.booleans())
def test_a_missing_or_malformed_path_stops_the_run_before_writing(tmp_path_factory, content, missing) -> None:
    folder = tmp_path_factory.mktemp("path")
    path = Path(folder / ("nowhere" if missing else "u.data"))
    if not missing:
        path.write_bytes(content)
    out, cache = folder / "runs", folder / "cache"
    args = RunConfig(data=MovieLensLogs(str(path)), out=str(out), cache_dir=str(cache), progress=False)
    with pytest.raises((FileNotFoundError, LogError), match=path.name):
        main(args)
    assert not out.exists() and not cache.exists()
    assert missing or path.read_bytes() == content


@pytest.mark.parametrize(
    ("cli", "field", "value"),
    [
        (RunConfig, "total_timesteps", 0),
        (RunConfig, "seed", -1),
        (RunConfig, "device", "gpu"),
        (CompareConfig, "workers", 0),
    ],
)
def test_a_bad_value_built_in_process_raises_a_value_error_naming_it(cli, field, value) -> None:
    with pytest.raises(ValueError, match=field):
        cli(**{field: value})
