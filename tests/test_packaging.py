"""What `pip install .` gives a user, not what the editable checkout gives the tests: the built wheel holds
every module (envs/, agents/ and experiments/ mapped into recgym, new subpackages found without a
listing to keep up to date), installs beside a foreign top-level `agents` (the OpenAI Agents SDK installs
one), and its console script runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ROOTS = {
    "recgym": "recgym",
    "envs": "recgym/envs",
    "agents": "recgym/agents",
    "experiments": "recgym/experiments",
}
"""Each source folder of the checkout and where its files lie in the wheel (pyproject's package-dir)."""

IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import agents, recgym

    failed = {}
    names = ["recgym"] + [
        info.name
        for info in pkgutil.walk_packages(recgym.__path__, "recgym.", onerror=lambda name: None)
        if not info.name.endswith(".__main__")
    ]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
    assert not failed, "modules that do not import from the wheel: " + repr(failed)
    outside = {
        name: module.__file__
        for name, module in sys.modules.items()
        if name.split(".")[0] == "recgym" and not (module.__file__ or INSTALLED).startswith(INSTALLED)
    }
    assert not outside, f"imported from outside {INSTALLED}: {outside}"
    assert agents.NAME == "someone else's agents", agents.__file__

    from recgym.envs import RecEnv
    from recgym.simulators.registry import make_simulator

    env = RecEnv(make_simulator("world", n_users=20, n_items=30), horizon=5)
    observation, info = env.reset(seed=0)
    env.step(int(info["action_mask"].argmax()))
    print(len(names), "modules")
    """
)


def _copy_checkout(target: Path) -> Path:
    """The files git sees (tracked or not ignored), so the build leaves no build/ or stale module in
    the checkout and cannot pick up a virtual environment or run folder lying in it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is still listed
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _builds_without_isolation() -> bool:
    """pyproject asks for setuptools>=68, and a wheel needs bdist_wheel (setuptools>=70.1, or `wheel`);
    a fresh CI venv may carry an older setuptools, and then pip builds in isolation (PyPI)."""
    try:
        major, minor = (int(part) for part in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    try:
        metadata.version("wheel")
        has_wheel = True
    except metadata.PackageNotFoundError:
        has_wheel = False
    return (major, minor) >= (70, 1) or (major >= 68 and has_wheel)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command and fail with its stderr, which says what broke, rather than its exit code."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def _build_wheel(source: Path, out: Path) -> Path:
    isolation = ["--no-build-isolation"] if _builds_without_isolation() else []
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation]
    _run([*command, "--wheel-dir", str(out), str(source)], cwd=source)
    (wheel,) = out.glob("recgym-*.whl")
    return wheel


def _fresh_venv(path: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel's recgym, which borrows torch and the other dependencies from
    the running interpreter instead of downloading them: a plain path in a .pth file appends that
    site-packages to sys.path without running its .pth files, so the editable recgym's finder stays out."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)], cwd=path.parent)
    python = str(path / "bin" / "python")
    # pip runs as the new interpreter, before the .pth exists, so it never sees the editable recgym.
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps"]
    _run([*install, "--no-index", str(wheel)], cwd=path.parent)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], path).strip())
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "_borrowed_dependencies.pth").write_text("".join(f"{folder}\n" for folder in borrowed))
    return site


def _expected_files(source: Path) -> set[str]:
    """Every module of the source folders, as the wheel should name it."""
    return {
        f"{installed}/{path.relative_to(source / folder).as_posix()}"
        for folder, installed in ROOTS.items()
        for path in (source / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_the_built_wheel_holds_every_module_and_its_console_script_runs(tmp_path) -> None:
    source = _copy_checkout(tmp_path / "source")
    wheel = _build_wheel(source, tmp_path / "wheel")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if ".dist-info/" not in name} == {"recgym"}, names
    missing = _expected_files(source) - set(names)
    assert not missing, f"the wheel lacks {sorted(missing)}"

    site = _fresh_venv(tmp_path / "venv", wheel)
    other = tmp_path / "other" / "agents"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text('NAME = "someone else\'s agents"\n')
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(other.parent)
    bin_dir = tmp_path / "venv" / "bin"
    assert "compare" in _run([str(bin_dir / "recgym"), "--help"], tmp_path, env)
    assert "usage:" in _run([str(bin_dir / "recgym"), "compare", "--help"], tmp_path, env)
    code = f"INSTALLED = {str(site / 'recgym')!r}\n{IMPORT_EVERYTHING}"
    assert "modules" in _run([str(bin_dir / "python"), "-c", code], tmp_path, env)


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
