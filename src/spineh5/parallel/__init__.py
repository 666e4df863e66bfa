"""Productions beyond one machine: Dask-parallel shards, a manifest, one logical view, status and merge.

* :mod:`.manifest` (core install): ``production.json``, shard states, the
  consistency check :class:`~spineh5.reader.HDF5Reader` applies to a production;
* :mod:`.shards` (core install): write one shard with ``HDF5Writer`` and describe it;
* :mod:`.production` (``pip install 'spineh5[dask]'``): :func:`write_production`,
  one Dask task per shard, the manifest kept by the driver;
* :mod:`.status` (core install): :func:`production_status`, behind ``spineh5 status``;
* :mod:`.merging` (core install): :func:`merge`, behind ``spineh5 merge``.

Names are imported lazily, so ``import spineh5`` never imports dask.
"""

from __future__ import annotations

import importlib
from typing import Any

from .manifest import MANIFEST_NAME, Manifest, ProductionError, ShardRecord

__all__ = [
    "MANIFEST_NAME",
    "Manifest",
    "MergeResult",
    "ProductionError",
    "ProductionResult",
    "ProductionStatus",
    "ShardRecord",
    "merge",
    "production_status",
    "write_production",
]

_LAZY = {
    "write_production": "production",
    "ProductionResult": "production",
    "production_status": "status",
    "ProductionStatus": "status",
    "merge": "merging",
    "MergeResult": "merging",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
