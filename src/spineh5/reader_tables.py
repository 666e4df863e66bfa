"""The row tables of :class:`~spineh5.reader.HDF5Reader`: a product's stored rows for many entries, one read per file.

A mixin: what :meth:`HDF5Reader.table` and the analysis views build on
(:meth:`_table_rows`, compound rows with one array per variable-length cell),
each file's part read by its read layout under the schema's evolution rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .decode import LEGACY_META, concatenate_rows, resolve_class, spec_class
from .types import evolution

__all__ = ["RowTables"]


class RowTables:
    """``HDF5Reader``'s bulk row reads (see :meth:`_table_rows`)."""

    def _table_rows(
        self,
        key: str,
        entries: Sequence[int] | np.ndarray | None = None,
        columns: Sequence[str] | None = None,
        fixed_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows of a product for many entries as one array, reading its dataset once per file.

        :meth:`table` for a product that is not an object product; for object
        products the compound rows with one array per row and variable-length
        column (what :func:`spineh5.views.object_columns` builds on), where
        :meth:`table` pools them.

        Parameters
        ----------
        key : str
            An object product (compound rows), an array product or a scalar product.
        entries : sequence of int, optional
            Positions in this reader (default: all), any order.
        columns : sequence of str, optional
            Compound columns to read, for object products (default: all).
        fixed_only : bool, default False
            For object products, read only the fixed-size columns (numbers,
            bools, enums, fixed arrays): strings and variable-length arrays
            (V2's pools) are never read. Ignored when ``columns`` is given.

        Returns
        -------
        rows : numpy.ndarray
            The stored rows of every selected entry, concatenated in the
            order of ``entries``: compound rows as stored (every column,
            strings as bytes) for objects, one row per entry for scalar and
            single-object products, strings decoded for string products.
        offsets : numpy.ndarray
            int64 of ``len(entries) + 1``: entry ``i``'s rows are
            ``rows[offsets[i]:offsets[i + 1]]``.
        """
        positions = self._positions(entries)
        file_ids, file_entries = self._locations(positions)
        if fixed_only and columns is None and len(file_ids):
            columns = self._fixed_columns(key, int(file_ids[0]))
        parts: list[np.ndarray] = []
        part_offsets: dict[int, tuple[int, np.ndarray]] = {}
        base = 0
        for file_id in np.unique(file_ids).tolist():
            rows, offsets = self._file_table(file_id, key, file_entries[file_ids == file_id], columns)
            parts.append(rows)
            part_offsets[file_id] = (base, offsets)
            base += len(rows)
        if not parts:
            return self._empty_table(key, columns), np.zeros(1, dtype=np.int64)
        if len(parts) == 1:
            return parts[0], part_offsets[int(file_ids[0])][1]
        rows = concatenate_rows(parts, self._table_class(key))
        if np.all(np.diff(file_ids) >= 0):
            lengths = np.concatenate([np.diff(offsets) for _, offsets in part_offsets.values()])
        else:
            starts = np.empty(len(positions), dtype=np.int64)
            lengths = np.empty(len(positions), dtype=np.int64)
            for file_id, (part_base, offsets) in part_offsets.items():
                mask = file_ids == file_id
                starts[mask] = part_base + offsets[:-1]
                lengths[mask] = np.diff(offsets)
            gather = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
            rows = rows[gather + np.arange(int(lengths.sum()), dtype=np.int64)]
        offsets = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return rows, offsets

    def _table_class(self, key: str) -> type | None:
        return spec_class(self.spec(key, self._first_file_with(key)))

    def _file_table(
        self, file_id: int, key: str, entries: np.ndarray, columns: Sequence[str] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return one file's table of a product under the schema's evolution rules (:mod:`.types.evolution`)."""
        layout = self._open_file(file_id)
        if not layout.has_product(key):
            raise KeyError(f"{self.file_paths[file_id]}: no product {key!r}")
        class_name = layout.stored_class(key)
        legacy = class_name == LEGACY_META  # resolved from the rows' dtype; any other name by name alone
        cls = resolve_class(class_name, np.empty(0, layout.spec(key).dtype if legacy else None))
        if cls is None:
            return layout.read_table(key, entries, columns)
        stored = (
            None if columns is None else evolution.read_names(cls, columns, layout.stored_dtype(key, columns).names)
        )
        rows, offsets = layout.read_table(key, entries, stored)
        return evolution.evolve_table(cls, rows, columns, key, self.file_paths[file_id]), offsets

    def _fixed_columns(self, key: str, file_id: int) -> list[str] | None:
        """Return the fixed-size columns of an object product (``fixed_only``), under the schema's names.

        Only the fixed-size columns' storage is inspected (V2's pools stay unparsed), unless the schema has
        fixed-size columns the file does not store there: then every column is looked at, as a full read does.
        """
        layout = self._open_file(file_id)
        stored = layout.fixed_dtype(key)
        if stored.names is None:
            return None
        names = list(stored.names)
        cls = resolve_class(layout.stored_class(key), np.empty(0, stored))
        if cls is None:
            return names
        plan = evolution.plan_for(cls, stored, key, self.file_paths[file_id])
        added = [c.name for c in plan.missing if c.storage != "vlen" and c.dtype != "str"]
        if added:  # not in the fixed columns: maybe stored elsewhere (a change of storage the full plan refuses)
            full = layout.spec(key).dtype
            names = [name for name in full.names if full.fields[name][0].kind != "O"]
            plan = evolution.plan_for(cls, full, key, self.file_paths[file_id])
            added = [c.name for c in plan.missing if c.storage != "vlen" and c.dtype != "str"]
        return [plan.renames.get(name, name) for name in names] + added

    def _empty_table(self, key: str, columns: Sequence[str] | None) -> np.ndarray:
        rows, _ = self._file_table(self._first_file_with(key), key, np.empty(0, dtype=np.int64), columns)
        return rows
