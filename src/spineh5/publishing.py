"""Where an output file lives while it is written, and how it is published under its final name.

A new output file is written under a hidden partial name in its target folder,
``.<name>.partial`` (a ``*.h5`` glob, and a reader listing a folder, never see
it), and is published on ``finalize()``: flushed, fsynced, renamed to its final
name, and the folder fsynced, so that a file under a final name is always a
whole one.

* :func:`partial_path`: the partial name of a final path;
* :func:`final_path`: the final name of a partial path (the inverse);
* :func:`is_partial`: whether a path is a partial name;
* :func:`publish`: fsync a closed partial file and rename it to its final name;
* :func:`creating_path`: where a new file's structure is made (``.<name>.creating``)
  before it is renamed to the name it is written under, so that no name a
  reader or ``recover`` looks at ever holds a file whose structure is not
  wholly on disk.
"""

from __future__ import annotations

import os

__all__ = [
    "CREATING_SUFFIX",
    "PARTIAL_SUFFIX",
    "creating_path",
    "final_path",
    "fsync_directory",
    "is_partial",
    "partial_path",
    "publish",
]

#: Suffix of a file still being written (after a leading dot that hides it).
PARTIAL_SUFFIX = ".partial"
#: Suffix of a file whose structure is being made (never data; removed by the next writer if left).
CREATING_SUFFIX = ".creating"


def partial_path(path: str | os.PathLike) -> str:
    """Return the hidden partial name of ``path``: ``.<name>.partial`` in the same folder."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}{PARTIAL_SUFFIX}")


def creating_path(path: str | os.PathLike) -> str:
    """Return the hidden name a new file ``path`` is made under until its structure is flushed."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}{CREATING_SUFFIX}")


def is_partial(path: str | os.PathLike) -> bool:
    """Return whether ``path`` is a partial name (``.<name>.partial``)."""
    name = os.path.basename(os.fspath(path))
    return name.startswith(".") and name.endswith(PARTIAL_SUFFIX) and len(name) > len(PARTIAL_SUFFIX) + 1


def final_path(path: str | os.PathLike) -> str:
    """Return the final name of a partial path (the inverse of :func:`partial_path`).

    Raises
    ------
    ValueError
        When ``path`` is not a partial name.
    """
    if not is_partial(path):
        raise ValueError(f"{os.fspath(path)} is not a partial output file name (.<name>{PARTIAL_SUFFIX})")
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, name[1 : -len(PARTIAL_SUFFIX)])


def fsync_directory(folder: str | os.PathLike) -> None:
    """Fsync a folder so that a rename inside it survives a power loss (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(os.fspath(folder) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(partial: str | os.PathLike, final: str | os.PathLike) -> None:
    """Fsync the closed file ``partial``, rename it to ``final`` (atomically) and fsync their folder."""
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, final)
    fsync_directory(os.path.dirname(os.fspath(final)))
