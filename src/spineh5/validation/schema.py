"""Checks against the schema of :mod:`spineh5.generated`: ``class_name`` and the compound columns.

Both layouts store object rows as compounds (V1: the product dataset; V2:
``fixed`` plus the pool fields, see :func:`spineh5.format.v2.logical_dtype`).
What their SPINE readers tolerate differs a little; each layout passes its
:class:`SchemaTolerance`. V1 spec sections 2.4 and 3.6.
"""

from __future__ import annotations

import difflib
from typing import Any

import attrs
import h5py
import numpy as np

from ..format.common import CLASS_NAME, attr_text
from ..types.dtypes import describe_dtype
from ..types.registry import REGISTRY
from .context import Context
from .problems import ERROR, WARNING
from .rules import rule
from .spine_release import LATER_CLASSES, LATER_COLUMNS
from .text import describe_value, names_text

__all__ = ["SchemaTolerance", "check_class", "check_columns", "column_dtype_problem"]

CLASS_MISSING = rule("class.missing", "a compound dataset has no 'class_name' attribute")
CLASS_TYPE = rule("class.type", "class_name is not a variable-length string")
CLASS_UNKNOWN = rule("class.unknown", "class_name names no class of the schema")
CLASS_LATER = rule("class.later", "class_name names a class added by a later SPINE release")
COLUMN_UNKNOWN = rule("column.unknown", "a compound column is not in the schema of its class")
COLUMN_LATER = rule("column.later", "a compound column was added by a later SPINE release")
COLUMN_DTYPE = rule("column.dtype", "a compound column's dtype does not fit the schema")


@attrs.frozen
class SchemaTolerance:
    """How one layout's SPINE reader treats class names and columns.

    Attributes
    ----------
    decodes_fixed_class_name : bool
        The reader decodes a fixed-length (bytes) ``class_name``.
    class_name_type : str
        What the reader requires ``class_name`` to be, for messages.
    later_columns : str
        What happens to columns of later SPINE releases.
    unknown_column_severity : str
        Severity of a column the schema does not know.
    unknown_column : str
        What happens to such a column.
    """

    decodes_fixed_class_name: bool
    class_name_type: str
    later_columns: str
    unknown_column_severity: str
    unknown_column: str


def check_class(ctx: Context, where: str, node: Any, dtype: np.dtype, tolerance: SchemaTolerance) -> type | None:
    """Check ``class_name``; return the schema class to check the columns against (None to skip)."""
    if CLASS_NAME not in node.attrs:
        ctx.error(where, CLASS_MISSING, "no 'class_name' attribute: SPINE's reader cannot tell which class to rebuild")
        return None
    name = node.attrs[CLASS_NAME]
    if tolerance.decodes_fixed_class_name and isinstance(name, (bytes, np.bytes_)):
        name = attr_text(name)
    if not isinstance(name, str):
        ctx.error(
            where,
            CLASS_TYPE,
            f"class_name is {describe_value(name)}: SPINE's reader requires {tolerance.class_name_type}",
        )
        name = attr_text(name)
    if name == "Meta":
        return _resolve_meta(dtype)
    if name in REGISTRY:
        return REGISTRY[name]
    if name in LATER_CLASSES:
        ctx.warning(
            where,
            CLASS_LATER,
            f"class {name!r} was added by a later SPINE release: the schema (SPINE 0.14.1) has no columns to check "
            "and spineh5 and SPINE 0.14.1 cannot rebuild it",
        )
        return None
    close = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    ctx.error(where, CLASS_UNKNOWN, f"class_name {name!r} is not a class of the schema{hint}")
    return None


def _resolve_meta(dtype: np.dtype) -> type:
    """Resolve the legacy ``Meta`` class name as SPINE does: by the length of ``count``."""
    count = dtype.fields.get("count") if dtype.fields else None
    if count is not None and count[0].subdtype is not None and count[0].subdtype[1] == (2,):
        return REGISTRY["ImageMeta2D"]
    return REGISTRY["ImageMeta3D"]


def check_columns(ctx: Context, where: str, dtype: np.dtype, cls: type, tolerance: SchemaTolerance) -> None:
    """Check each column of a compound against the schema of ``cls``."""
    columns = {column.name: column for column in cls.COLUMNS}
    later = LATER_COLUMNS.get(cls.__name__, frozenset())
    unknown, newer = [], []
    for name in dtype.names:
        column = columns.get(name)
        if column is None:
            (newer if name in later else unknown).append(name)
            continue
        verdict = column_dtype_problem(column, dtype[name])
        if verdict is not None:
            severity, text = verdict
            ctx.report(severity, where, COLUMN_DTYPE, f"column {name!r}: {text}")
    if newer:
        ctx.warning(
            where,
            COLUMN_LATER,
            f"{names_text(newer, 'column')} not in the {cls.__name__} schema (SPINE 0.14.1) but added by later "
            f"SPINE releases: {tolerance.later_columns}",
        )
    for name in unknown:
        close = difflib.get_close_matches(name, list(columns), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        ctx.report(
            tolerance.unknown_column_severity,
            where,
            COLUMN_UNKNOWN,
            f"column {name!r} is not a {cls.__name__} column{hint}: {tolerance.unknown_column}",
        )


def _member(dt: np.dtype) -> tuple[str, str, tuple]:
    """Return ``(storage, kind, shape)`` of a compound member: kind is ``str`` or a numpy kind letter."""
    if h5py.check_string_dtype(dt) is not None:
        return "scalar", "str", ()
    vlen = h5py.check_vlen_dtype(dt)
    if vlen is not None:
        kind = "str" if h5py.check_string_dtype(np.dtype(vlen)) is not None else np.dtype(vlen).kind
        return "vlen", kind, ()
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        kind = "str" if h5py.check_string_dtype(base) is not None else base.kind
        return "fixed", kind, shape
    return "scalar", dt.kind, ()


_KIND_NAMES = {"str": "strings", "b": "booleans", "i": "integers", "u": "integers", "f": "floats"}


def column_dtype_problem(column: Any, dt: np.dtype) -> tuple[str, str] | None:
    """Compare a column's dtype on disk with the schema, following the readers' tolerance (V1 spec 3.6).

    Accepted silently: other widths of the same kind (float32 for float64,
    int32 for int64), bools stored as integers, enums as plain integers and
    plain integers as enums, fixed-length strings. A warning: integers where
    the schema has floats, bools where it has integers (they load as another
    Python type). An error: another storage (scalar, fixed array, vlen), a
    fixed array of another length, floats where integers or bools are
    expected, strings for numbers or numbers for strings.

    Returns
    -------
    tuple of (str, str) or None
        ``(severity, message)``, or None when the dtype is acceptable.
    """
    storage, kind, shape = _member(dt)
    expected = f"the schema has {column.describe()}"
    found = describe_dtype(dt, brief=True)
    if storage != column.storage:
        return ERROR, f"stored as {found}, {expected}"
    if storage == "fixed" and shape != (column.length,):
        return ERROR, f"stored as {found}, {expected}: SPINE's classes require exactly {column.length} values"
    want = "str" if column.dtype == "str" else column.numpy_dtype.kind
    if kind == want or {kind, want} <= {"i", "u"}:
        return None
    if want == "b" and kind in "iu":
        return None
    if want in "iu" and kind == "b" or want == "f" and kind in ("i", "u"):
        return WARNING, f"stored as {found}, {expected}: values load as {_KIND_NAMES[kind]}"
    have, need = _KIND_NAMES.get(kind, kind), _KIND_NAMES.get(want, want)
    return ERROR, f"stored as {found}, {expected}: {have} where SPINE expects {need}"
