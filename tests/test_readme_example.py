"""The README's Python example runs as written (on a tiny MovieLens-format log), with one import."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The README's Python block that starts with `import recgym`."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    (example,) = [block for block in blocks if block.startswith("import recgym\n")]
    return example


def write_tiny_movielens(folder: Path, n_users: int = 25, n_items: int = 40) -> None:
    """u.data with timed visits (bursts an hour apart, days between visits) so sessions can be cut."""
    rng = np.random.default_rng(0)
    lines = []
    for user in range(1, n_users + 1):
        time = 880_000_000 + int(rng.integers(0, 10**6))
        for _visit in range(4):
            for item in rng.choice(n_items, size=6, replace=False) + 1:
                time += int(rng.integers(30, 300))
                lines.append(f"{user}\t{item}\t{int(rng.integers(1, 6))}\t{time}")
            time += 3 * 86_400
    folder.mkdir()
    (folder / "u.data").write_text("\n".join(lines) + "\n")


def test_the_readme_example_needs_one_import_and_runs(tmp_path, capsys) -> None:
    example = readme_example()
    assert [line for line in example.splitlines() if line.startswith(("import ", "from "))] == [
        "import recgym"
    ]
    write_tiny_movielens(tmp_path / "ml-tiny")
    code = example.replace("../shared/data/ml-100k", str(tmp_path / "ml-tiny"))
    code = code.replace('cache_dir=".cache"', f"cache_dir={str(tmp_path / 'cache')!r}")
    code = code.replace("n_users=500", "n_users=20")
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    results = namespace["results"]["policies"]
    assert set(results) == {"greedy", "popular", "random"}
    assert namespace["env"].observation_space.contains(namespace["env"].reset(seed=0)[0])
    printed = capsys.readouterr().out
    assert "user model sasrec: test HR@10" in printed and "| greedy |" in printed


def test_recgym_names_every_entry_point_it_exports() -> None:
    import recgym

    for name in recgym.__all__:
        assert getattr(recgym, name) is not None, name
    assert "build_world" in dir(recgym)
