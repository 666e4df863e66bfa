"""The element dtypes a schema column may hold: one table for the code generator and the runtime.

A column's *element* is what one scalar value, one slot of a fixed array or one
item of a variable-length array is. The generator (``codegen``) reads this table
to validate schemas and to spell dtypes in the generated code; the runtime
(:mod:`spineh5.types.columns`) reads it to convert and check values.

This module depends on numpy only (no h5py, no other spineh5 module), so that
the generator can load it by path without importing the package it generates.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Element(NamedTuple):
    """One element dtype of the schema language.

    Attributes
    ----------
    name : str
        Name used in the schema files and in :attr:`Column.dtype`.
    kind : str
        ``bool``, ``int``, ``float`` or ``str``.
    numpy_name : str or None
        numpy attribute of the scalar type, as the generated dtype literals spell
        it (``np.<numpy_name>``); ``None`` for ``str`` (h5py's string dtype).
    hint : str
        Python type of a scalar attribute of this element.
    """

    name: str
    kind: str
    numpy_name: str | None
    hint: str


#: Every element dtype, by schema name.
ELEMENTS: dict[str, Element] = {
    element.name: element
    for element in (
        Element("bool", "bool", "bool_", "bool"),
        Element("uint8", "int", "uint8", "int"),
        Element("int32", "int", "int32", "int"),
        Element("int64", "int", "int64", "int"),
        Element("float32", "float", "float32", "float"),
        Element("float64", "float", "float64", "float"),
        Element("str", "str", None, "str"),
    )
}
#: The numeric element names (every element but ``str``), in table order.
NUMERIC_ELEMENTS: tuple[str, ...] = tuple(name for name, element in ELEMENTS.items() if element.kind != "str")
#: numpy dtype of each numeric element.
NUMPY_DTYPES: dict[str, np.dtype] = {name: np.dtype(name) for name in NUMERIC_ELEMENTS}
#: Element on disk of an enumeration column (its members' values).
ENUM_ELEMENT = "int64"
#: ``(min, max)`` of each integer element.
INT_RANGES: dict[str, tuple[int, int]] = {
    name: (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
    for name, dtype in NUMPY_DTYPES.items()
    if ELEMENTS[name].kind == "int"
}
#: Largest finite value of each float element.
FLOAT_MAX: dict[str, float] = {
    name: float(np.finfo(dtype).max) for name, dtype in NUMPY_DTYPES.items() if ELEMENTS[name].kind == "float"
}
