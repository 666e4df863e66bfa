"""Output file names, following SPINE's ``HDF5Writer.get_file_names`` rules."""

from __future__ import annotations

import os


def get_file_names(
    file_name: str | None = None,
    prefix: str | list[str] | None = None,
    suffix: str = "spine",
    split: bool = False,
    directory: str | None = None,
) -> list[str]:
    """Return the output file names.

    Rules (those of SPINE's writer):

    * With ``file_name`` (not empty): ``[file_name]``; with ``split`` and several prefixes,
      one ``<file_name stem>_<i>.h5`` per prefix.
    * Without ``file_name``: from the input ``prefix``:
      ``<prefix stem>_<suffix>.h5``, in the folder of the (first) prefix;
      with ``split``, one such name per prefix (all in the folder of the first).
    * ``directory``, when given, replaces the folder of every name.

    Parameters
    ----------
    file_name : str, optional
        Explicit output file name.
    prefix : str or list of str, optional
        Input file path(s) to derive names from; a list is required with ``split``.
    suffix : str, default 'spine'
        Appended to the prefix stem.
    split : bool, default False
        One output file per input prefix.
    directory : str, optional
        Output folder.

    Raises
    ------
    ValueError
        When the arguments cannot name a file.
    """
    if split and not isinstance(prefix, (list, tuple)):
        raise ValueError("split=True needs one prefix per input file (a list) to know how many files to write")
    if not file_name:  # SPINE treats an empty name like no name
        if prefix is None or (not split and isinstance(prefix, (list, tuple))):
            raise ValueError("without file_name, give the input file prefix (one string) to build it from")
        prefixes = list(prefix) if split else [prefix]
        folder = os.path.dirname(prefixes[0])
        names = [os.path.join(folder, f"{os.path.splitext(os.path.basename(p))[0]}_{suffix}.h5") for p in prefixes]
    elif split and len(prefix) > 1:
        stem = os.path.splitext(file_name)[0]
        names = [f"{stem}_{i}.h5" for i in range(len(prefix))]
    else:
        names = [file_name]
    if directory is not None:
        names = [os.path.join(directory, os.path.basename(name)) for name in names]
    return names
