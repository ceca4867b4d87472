"""Atomic netCDF save and load."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import xarray as xr

__all__ = ["save", "load", "save_groups", "load_groups", "atomic_write_text"]

_ENGINE = "netcdf4"


def _atomic(path: Path, write: Callable[[str], object]) -> Path:
    """Run ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to a netCDF file atomically (a temporary file renamed into place)."""
    return _atomic(Path(path), lambda tmp: ds.to_netcdf(tmp, engine=_ENGINE))


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a result written by :func:`save` fully into memory."""
    with xr.open_dataset(path, engine=_ENGINE) as ds:
        return ds.load()


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file atomically."""
    return _atomic(Path(path), lambda tmp: Path(tmp).write_text(text))


def save_groups(groups: dict[str, xr.Dataset], path: str | os.PathLike) -> Path:
    """Write several datasets as netCDF groups of one file, atomically."""
    tree = xr.DataTree.from_dict(dict(groups))
    return _atomic(Path(path), lambda tmp: tree.to_netcdf(tmp, engine=_ENGINE))


def load_groups(path: str | os.PathLike) -> dict[str, xr.Dataset]:
    """Read the groups written by :func:`save_groups`."""
    with xr.open_datatree(path, engine=_ENGINE) as tree:
        return {
            name.lstrip("/"): node.to_dataset().load()
            for name, node in tree.subtree_with_keys
            if name not in ("", ".", "/")
        }
