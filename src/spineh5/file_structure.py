"""What a new output file holds before its first rows, and what an appending session adds to ``info``.

* :func:`info_attrs`: the ``info`` attributes of a new file (SPINE's, then the layout's);
* :func:`initialize`: a new file's ``info`` (with the stored class schemas), products and empty ``events``;
* :func:`schema_differences`: how the classes a file records differ from the data's (appends);
* :func:`record_cfg`: an appending session's configuration in ``info.cfg_history``.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import h5py
import numpy as np
import yaml

from . import __version__
from .format.common import CFG, CFG_HISTORY, COMPLETE, INFO, cfg_history, read_info
from .format.schema import read_class_schemas, write_class_schemas
from .generated import SCHEMA_VERSION
from .products import ProductSpec
from .types.class_schema import column_changes, records_of

__all__ = ["SPINE_VERSION", "WRITER", "info_attrs", "initialize", "record_cfg", "schema_differences"]

#: SPINE release whose V1 format and classes the schema describes (written as ``info.version``).
SPINE_VERSION = "0.14.1"
#: Name and version of this writer (written as ``info.writer``).
WRITER = f"spineh5 {__version__}"


def info_attrs(layout: type, cfg: dict | None) -> dict[str, Any]:
    """Return the ``info`` attributes of a new file, in creation order.

    Parameters
    ----------
    layout : type
        The layout class (it adds its own attributes with ``info_attrs``).
    cfg : dict or None
        The configuration, stored as YAML (``{}`` when None).

    Returns
    -------
    dict
        ``version``, ``complete`` (False), ``cfg``, ``writer``,
        ``schema_version`` and the layout's attributes.
    """
    return {
        "version": SPINE_VERSION,
        COMPLETE: np.bool_(False),
        CFG: yaml.dump(cfg if cfg is not None else {}),
        "writer": WRITER,
        "schema_version": np.int64(SCHEMA_VERSION),
        **layout.info_attrs(SPINE_VERSION),
    }


def initialize(
    h5file: h5py.File,
    layout: type,
    specs: dict[str, ProductSpec],
    cfg: dict | None,
    options: dict[str, dict],
    checksum: bool = False,
) -> None:
    """Create ``info``, every product, the empty ``events`` table and the stored schema in a new, empty file.

    Parameters
    ----------
    h5file : h5py.File
        The open file, with nothing in it yet.
    layout : type
        The layout class the file is written in.
    specs : dict
        ``{key: ProductSpec}`` of the products.
    cfg : dict or None
        The configuration stored in ``info.cfg``.
    options : dict
        ``{key: dataset options}`` (compression, fletcher32, chunks).
    checksum : bool, default False
        Write the layout's own datasets (``events``, V2 offsets) with the
        Fletcher-32 filter too.
    """
    layout(h5file).create(specs, info_attrs(layout, cfg), options, checksum=checksum)
    write_class_schemas(h5file, records_of(_class_names(specs)))


def _class_names(specs: dict[str, ProductSpec]) -> set[str]:
    """Return the classes the object products of ``specs`` hold."""
    return {spec.class_name for spec in specs.values() if spec.class_name}


def schema_differences(h5file: h5py.File, specs: dict[str, ProductSpec]) -> list[str]:
    """Return, per class, how the schema stored in the file differs from the classes of ``specs`` (append problems).

    Classes the file has no record of (files of earlier writers) are left to the layout's checks.
    """
    stored = read_class_schemas(h5file)
    problems = []
    for name, current in records_of(_class_names(specs)).items():
        if name in stored:
            changes = column_changes(stored[name], current)
            if changes:
                problems.append(f"class {name}: the file's schema differs from the data's: " + "; ".join(changes))
    return problems


def record_cfg(h5file: h5py.File, cfg: dict, first_entry: int) -> None:
    """Record an appending session's configuration in ``info.cfg_history`` when it differs from the latest one."""
    text = yaml.dump(cfg)
    info = h5file[INFO]
    sessions = cfg_history(read_info(h5file, h5file.filename))
    if sessions and sessions[-1]["cfg"] == text:
        return
    later = sessions[1:] + [
        {
            "first_entry": int(first_entry),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "writer": WRITER,
            "cfg": text,
        }
    ]
    info.attrs[CFG_HISTORY] = json.dumps(later)
