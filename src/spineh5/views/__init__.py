"""Analysis views of a reader: numpy columns, awkward arrays, pandas DataFrames and chunked iteration.

The modules of this package import awkward and pandas only when their view is
asked for (``pip install 'spineh5[analysis]'``): ``import spineh5`` stays
free of them. :class:`spineh5.reader.HDF5Reader` exposes the views as
:meth:`~spineh5.reader.HDF5Reader.arrays`,
:meth:`~spineh5.reader.HDF5Reader.iterate` and
:meth:`~spineh5.reader.HDF5Reader.enum_names`.

* :mod:`.columns` - every product of many entries as numpy columns plus entry offsets (``library="np"``);
* :mod:`.awkward_view` - those columns turned into awkward layouts (``library="ak"``);
* :mod:`.pandas_view` - object products as DataFrames with SPINE's ``scalar_dict`` column names (``library="pd"``);
* :mod:`.varcolumn` - variable-length columns as values plus offsets (:class:`VarColumn`, :class:`TableColumns`);
* :mod:`.pooled` - an object product, variable-length columns pooled (:meth:`~spineh5.reader.HDF5Reader.columns`);
* :mod:`.iteration` - step sizes and the chunks of :meth:`~spineh5.reader.HDF5Reader.iterate`;
* :mod:`.export` - one product written out as Parquet or CSV (:func:`export`, ``spineh5 export``).
"""

from __future__ import annotations

from .columns import LIBRARIES, ListColumns, enum_names, object_columns, product_columns, select_positions
from .export import ExportError, export
from .iteration import Chunk, parse_step_size
from .varcolumn import TableColumns, VarColumn

__all__ = [
    "LIBRARIES",
    "Chunk",
    "ExportError",
    "ListColumns",
    "TableColumns",
    "VarColumn",
    "enum_names",
    "export",
    "object_columns",
    "parse_step_size",
    "product_columns",
    "select_positions",
]
