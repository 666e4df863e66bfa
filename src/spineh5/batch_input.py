"""What a batch handed to ``HDF5Writer`` becomes before it is validated: one value per entry, all stored keys.

The writer's batch input (a mixin of :class:`~spineh5.writer.HDF5Writer`): source provenance copies,
``dummy_ds`` products, the stored key set (SPINE's ``get_stored_keys``), entry counts and key checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import MissingProductError, ProductError
from .products import is_scalar
from .types.collection import SchemaCollection
from .types.registry import REGISTRY

__all__ = ["BatchInput", "dummy_instance", "take_entries"]


class BatchInput:
    """The batch-normalizing methods of the writer.

    They read the writer's ``source_index_keys``, ``dummy_ds``, ``input_keys``, ``skip_keys`` and,
    after the first batch, ``keys``.
    """

    source_index_keys: dict[str, str]
    dummy_ds: dict[str, Any]
    input_keys: list[str] | None
    skip_keys: list[str]
    keys: list[str]

    def with_source_provenance(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return ``data`` with ``source_file_index``/``source_file_entry_index`` copies added."""
        out = dict(data)
        for key, source_key in self.source_index_keys.items():
            if key in out and source_key not in out:
                out[source_key] = out[key]
        return out

    def get_stored_keys(self, data: dict[str, Any]) -> set[str]:
        """Return the set of products stored for data like ``data`` (a set, as SPINE's writer returns).

        Raises
        ------
        KeyError
            When a key of ``keys`` or ``skip_keys`` is not in the data.
        """
        if self.input_keys is None:
            keys = set(data)
        else:
            missing = [key for key in self.input_keys if key not in data]
            if missing:
                raise KeyError(f"keys {missing} are not in the data (has: {sorted(data)})")
            keys = set(self.input_keys) | {"index"}
        keys |= set(self.dummy_ds)
        # the source provenance copies of file_index/file_entry_index, whether already added or not (as SPINE)
        keys |= {copy for key, copy in self.source_index_keys.items() if key in data or copy in data}
        keys.add("index")
        for key in self.skip_keys:
            if key not in keys:
                raise KeyError(f"skip_keys: {key!r} is not a stored key (stored: {sorted(keys)})")
            keys.discard(key)
        return keys

    def _with_dummies(self, data: dict[str, Any], n_entries: int) -> dict[str, Any]:
        for key, dummy in self.dummy_ds.items():
            if key in data:
                raise ProductError(key, f"dummy_ds key conflicts with a real product of the data ({dummy.CLASS_NAME})")
        if not self.dummy_ds:
            return data
        out = dict(data)
        for key in self.dummy_ds:
            out[key] = [[] for _ in range(n_entries)]
        return out

    @staticmethod
    def _batch(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Return the batch with every value per entry, and its entry count."""
        if "index" not in data:
            raise MissingProductError("index", "every batch needs an 'index' (one value per entry)")
        index = data["index"]
        if is_scalar(index):
            return {key: [value] for key, value in data.items()}, 1
        return data, len(index)

    @staticmethod
    def _count(data: dict[str, Any]) -> int:
        index = data.get("index")
        return 1 if index is None or is_scalar(index) else len(index)

    def _normalize(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Return the batch with source provenance and dummies added, every value per entry, and its entry count."""
        return self._batch(self._with_dummies(self.with_source_provenance(data), self._count(data)))

    def _check_keys(self, batch: dict[str, Any]) -> None:
        missing = [key for key in self.keys if key not in batch]
        if missing:
            raise MissingProductError(
                missing[0], f"is stored in the file but missing from this batch (missing: {missing})"
            )
        if self.input_keys is None:
            ignored = set(self.skip_keys)
            extra = sorted(set(batch) - set(self.keys) - ignored)
            if extra:
                raise ProductError(
                    extra[0], f"was not in the first batch, so the file has no place for it (new keys: {extra})"
                )

    def _check_entry_counts(self, batch: dict[str, Any], n_entries: int) -> None:
        """Refuse per-entry values whose length is not the batch's entry count (before any is split by entry)."""
        for key in self.keys:
            value = batch[key]
            if is_scalar(value):
                continue
            if not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
                raise ProductError(key, f"expected one value per entry, got {type(value).__name__}")
            if len(value) != n_entries:
                raise ProductError(key, f"has {len(value)} entries, the batch has {n_entries} (see 'index')")


def take_entries(value: Any, rows: np.ndarray) -> Any:
    """Return the items of a per-entry value at ``rows`` (a global scalar is kept, a collection's rows taken)."""
    if is_scalar(value):
        return value
    if isinstance(value, SchemaCollection):
        return value if len(rows) == len(value) and np.array_equal(rows, np.arange(len(value))) else value.take(rows)
    return [value[int(row)] for row in rows]


def dummy_instance(key: str, kind: Any) -> Any:
    """Return the default object a ``dummy_ds`` entry stands for (SPINE keeps instances of the named classes).

    ``kind`` is a class name (as in SPINE's configuration), a generated class or an object of one (SPINE's own
    objects are taken by their class name).
    """
    if isinstance(kind, str):
        name = kind
    else:
        cls = kind if isinstance(kind, type) else type(kind)
        name = getattr(cls, "CLASS_NAME", cls.__name__)
    if name not in REGISTRY:
        raise ValueError(f"dummy_ds[{key!r}]: unknown class {name!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[name]()
