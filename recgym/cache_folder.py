"""Where recgym caches what is slow to make (synthetic logs, fitted user models, learned dynamics): the
one place that decides the folder, from an option, $RECGYM_CACHE or ~/.cache/recgym."""

from __future__ import annotations

import os
from pathlib import Path

from recgym.runs.checkpoint import check_cache_dir


def cache_folder(cache_dir: str | Path | None = None) -> Path:
    """cache_dir, else $RECGYM_CACHE, else ~/.cache/recgym; checked before anything is written.

    :raises ValueError: when the folder names a file (or a path below one), or RECGYM_CACHE is set but
        empty, so that the run stops before it fits anything, naming where the folder came from.
    """
    if cache_dir is not None:
        check_cache_dir(cache_dir, "--cache-dir", write=False)
        return Path(cache_dir)
    value = os.environ.get("RECGYM_CACHE")
    if value is None:
        path, source = Path.home() / ".cache" / "recgym", "the default, as RECGYM_CACHE is not set"
    elif not value.strip():
        raise ValueError("RECGYM_CACHE is set but empty: name a folder, or unset it to use ~/.cache/recgym")
    else:
        path, source = Path(value), "the RECGYM_CACHE environment variable"
    check_cache_dir(path, source, write=False)
    return path
