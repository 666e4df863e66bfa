"""The analysis views of :class:`~spineh5.reader.HDF5Reader`: ``arrays``, ``iterate``, ``columns``, ``enum_names``.

A mixin of thin methods over :mod:`spineh5.views`, which is imported only when one is called, so
``import spineh5`` never loads awkward or pandas.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["AnalysisViews"]


class AnalysisViews:
    """``HDF5Reader``'s analysis methods (awkward, numpy and pandas views, chunked iteration)."""

    def arrays(
        self,
        keys: str | Sequence[str] | None = None,
        entry_start: int | None = None,
        entry_stop: int | None = None,
        columns: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        library: str = "ak",
    ) -> Any:
        """Return products of many entries as one awkward Array, numpy columns or pandas DataFrames.

        Parameters
        ----------
        keys : str or sequence of str, optional
            Products (default: :attr:`keys`).
        entry_start, entry_stop : int, optional
            Reader positions ``entry_start:entry_stop``, clipped and
            negative-aware as a Python slice (default: all). Positions run
            over every file of the reader.
        columns : sequence of str or mapping, optional
            Columns of object products: a sequence applies to every object
            product, a mapping ``{key: columns}`` to each product (default: all).
        library : {'ak', 'np', 'pd'}, default 'ak'
            ``'ak'``: an ``awkward.Array`` of one record per entry, one field
            per product (objects as lists of records, or a record for
            single-object products; variable-length columns and arrays as
            nested lists; lists of arrays as lists of lists, ``jagged`` ones
            as a tuple of lists; enums as integer codes with their names in the
            ``spineh5_enum_members`` parameter).
            ``'np'``: ``{key: (rows, offsets)}`` as :meth:`table` returns them
            (object rows restricted to the schema's columns), and
            :class:`spineh5.views.ListColumns` for ``flat``/``jagged`` products.
            ``'pd'``: a DataFrame per object product indexed by
            ``(entry, subentry)`` with SPINE's ``scalar_dict`` column names
            (:mod:`spineh5.views.pandas_view`); one DataFrame when ``keys`` is
            a string, else ``{key: DataFrame}``.

        Raises
        ------
        KeyError
            When no file holds a product, or a column is not stored.
        ValueError
            For an unknown library, or ``'pd'`` of a product that is not an object product.
        """
        from .views.reading import arrays

        return arrays(self, keys, entry_start, entry_stop, columns, library)

    def iterate(
        self,
        keys: str | Sequence[str] | None = None,
        step_size: int | str = 1000,
        library: str = "ak",
        columns: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        entry_start: int | None = None,
        entry_stop: int | None = None,
        progress: bool = False,
    ) -> Iterator[Any]:
        """Yield the entries in bounded chunks, across file boundaries, as :class:`spineh5.views.Chunk` objects.

        Each chunk has ``entry_start``/``entry_stop`` (its reader positions)
        and ``data`` (what :meth:`arrays` returns for those entries).

        Parameters
        ----------
        step_size : int or str, default 1000
            Entries per chunk, or a memory size such as ``"100 MB"`` (the
            entries per chunk are then estimated from the first 100 entries).
        progress : bool, default False
            Show a tqdm progress bar over the entries.
        keys, library, columns, entry_start, entry_stop
            As for :meth:`arrays`.
        """
        from .views.reading import iterate

        return iterate(self, keys, step_size, library, columns, entry_start, entry_stop, progress)

    def table(
        self,
        key: str,
        entries: Sequence[int] | Any = None,
        columns: Sequence[str] | None = None,
        fixed_only: bool = False,
    ) -> tuple[Any, Any]:
        """Return the rows of a product for many entries, reading each dataset once per file.

        Parameters
        ----------
        key : str
            An object product, an array product or a scalar product.
        entries : sequence of int, optional
            Positions in this reader (default: all), any order, repeats allowed.
        columns : sequence of str, optional
            Columns to read, for object products (default: all).
        fixed_only : bool, default False
            For object products, read only the fixed-size columns (numbers,
            bools, enums, fixed arrays): strings and variable-length arrays
            (V2's pools) are never read. Ignored when ``columns`` is given.

        Returns
        -------
        rows : spineh5.views.TableColumns or numpy.ndarray
            The rows of every selected entry, concatenated in the order of
            ``entries``. For an object product a
            :class:`spineh5.views.TableColumns`, read like the structured array
            of its rows (``len``, ``dtype``, ``rows[name]``, ``rows[[names]]``,
            ``rows[i]``, ``rows[a:b]``, masks, iteration, ``numpy.asarray``):
            a fixed column is a numpy array, a variable-length one (arrays,
            strings) a :class:`spineh5.views.VarColumn` of flat ``.values``
            and int64 ``.offsets`` (V2 pools sliced in bulk, no array per
            row) that indexes and iterates as per-row arrays (``str`` for
            strings); ``rows.to_rows()`` gives the structured array with one
            array per row. For other products a numpy array: one row per
            entry for scalar products, strings decoded for string products.
        offsets : numpy.ndarray
            int64 of ``len(entries) + 1``: entry ``i``'s rows are
            ``rows[offsets[i]:offsets[i + 1]]``.
        """
        from .views.columns import product_kind

        if not product_kind(self, key).holds_objects:
            return self._table_rows(key, entries, columns, fixed_only)
        from .views.pooled import object_table

        rows = object_table(self, key, self._positions(entries), columns, fixed_only)
        return rows, rows.offsets

    def columns(
        self,
        key: str,
        entries: Sequence[int] | Any = None,
        columns: Sequence[str] | None = None,
        fixed_only: bool = False,
    ) -> Any:
        """Return an object product of many entries with variable-length columns as values plus offsets.

        The same rows and columns as :meth:`table`, but each variable-length
        column (arrays, strings) is one :class:`spineh5.views.VarColumn`
        (flat ``values``, int64 ``offsets``) instead of one array per row: V2
        pools are sliced in bulk, V1 columns concatenated once.

        Parameters
        ----------
        key, entries, columns, fixed_only
            As for :meth:`table` (``key`` must be an object product).

        Returns
        -------
        spineh5.views.TableColumns
            ``fixed`` (compound rows of the fixed columns), ``variable``
            (``{name: VarColumn}``), ``offsets`` (entries + 1) and ``names``;
            ``result[name]`` gives either kind of column, ``to_rows()`` the
            rows :meth:`table` returns.
        """
        from .views.pooled import pooled_columns

        return pooled_columns(self, key, self._positions(entries), columns, fixed_only)

    def enum_names(self, key: str, field: str) -> dict[int, str]:
        """Return ``{code: name}`` of an enumerated column of an object product (empty for other columns)."""
        from .views.columns import enum_names

        return enum_names(self, key, field)
