"""Check a file against the SPINE V1 contract and the schema, with h5py alone: ``spineh5 validate``.

:func:`validate` returns every :class:`Problem` it finds; an empty list (or
only warnings) means SPINE's readers open the file and rebuild its objects.
The rules follow ``spine-v1-format.md`` section 3.5 (what HEAD's reader needs)
and 3.6 (what the readers tolerate), plus the schema of ``spineh5.generated``:

* errors: what makes SPINE's f31056c8 *and* later readers fail, or return
  wrong data (missing ``cfg``/``version``/``scalar``/``class_name``, fixed-length
  string attributes, references outside their dataset, an incomplete file...);
* warnings: what only the f31056c8 reader refuses (columns and classes added
  by later SPINE releases) or what loads with a different Python type
  (integers stored where the schema has floats).

Nothing here uses the writer or the reader; see :data:`RULES` for every check.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from .generated import REGISTRY, SCHEMA_VERSION
from .inspect_file import FileOpenError, attr_text, open_file, truthy

__all__ = ["ERROR", "RULES", "WARNING", "Problem", "is_sound", "validate"]

ERROR = "error"
WARNING = "warning"

#: Every rule :func:`validate` checks, by id.
RULES: dict[str, str] = {
    "file.unreadable": "the path is not a readable HDF5 file (missing, not HDF5, truncated)",
    "read.failed": "part of the file cannot be read (damaged data)",
    "info.missing": "there is no root 'info' group",
    "info.cfg.missing": "info has no 'cfg' attribute",
    "info.cfg.type": "info.cfg is not a variable-length string",
    "info.cfg.yaml": "info.cfg is not valid YAML",
    "info.version.missing": "info has neither 'version' nor 'spine_version'",
    "info.version.type": "info.version / info.spine_version is not a variable-length string",
    "info.version.spine_only": "info has 'spine_version' but not 'version' (SPINE 0.14.1 needs 'version')",
    "info.incomplete": "info.complete is false: the writer was not finalized",
    "info.format_version": "info.format_version is neither absent nor 1",
    "info.schema_version": "written with a newer schema than this spineh5 knows",
    "format.v2": "the file uses SPINE's V2 offset layout, which validate does not check yet",
    "events.missing": "there is no root 'events' dataset",
    "events.type": "events is not a 1-D compound dataset with named fields",
    "events.field": "an events field is not a dataset-region reference",
    "events.key_missing": "an events field names no root object",
    "root.extra": "a root object is not an event product (nor info/events)",
    "product.type": "an event product is neither a 1-D/2-D dataset nor a list group",
    "product.scalar.missing": "a product dataset has no 'scalar' attribute",
    "product.scalar.type": "a 'scalar' attribute is not a bool or 0/1",
    "class.missing": "a compound dataset has no 'class_name' attribute",
    "class.type": "class_name is not a variable-length string",
    "class.unknown": "class_name names no class of the schema",
    "class.later": "class_name names a class added by a later SPINE release",
    "column.unknown": "a compound column is not in the schema of its class",
    "column.later": "a compound column was added by a later SPINE release",
    "column.dtype": "a compound column's dtype does not fit the schema",
    "value.units": "a 'units' value is neither 'cm' nor 'px'",
    "value.meta": "an ImageMeta row has upper != lower + size * count",
    "group.index": "a list group has no region-reference 'index' dataset",
    "group.elements": "a list group lacks 'elements' (flat) or an 'element_<i>' (jagged)",
    "ref.null": "a region reference is null",
    "ref.unresolved": "a region reference cannot be resolved",
    "ref.target": "a region reference points into another dataset",
    "ref.outside": "a region reference selects rows past the end of its dataset",
    "ref.scalar_empty": "an entry of a scalar=True product selects no row",
    "run_info.columns": "run_info lacks the run/subrun/event columns the run map needs",
    "run_info.rows": "run_info does not hold exactly one row per entry",
    "run_info.duplicate": "(run, subrun, event) triplets repeat",
}

#: Classes that later SPINE releases store but this schema (f31056c8) does not know.
LATER_CLASSES = frozenset({"ParticleLabel", "FlashHypothesis"})

#: Columns that later SPINE releases write (spec section 6), by class.
LATER_COLUMNS: dict[str, frozenset[str]] = {
    "Particle": frozenset({"first_step_t", "last_step_t"}),
    "RecoFragment": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap"}),
    "RecoParticle": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap"}),
    "RecoInteraction": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap", "flash_hypothesis_ids"}),
    "TruthFragment": frozenset({"first_step_t", "last_step_t", "best_match_id", "best_match_overlap"}),
    "TruthParticle": frozenset({"first_step_t", "last_step_t", "best_match_id", "best_match_overlap"}),
    "TruthInteraction": frozenset({"best_match_id", "best_match_overlap", "flash_hypothesis_ids", "time"}),
}

UNITS = frozenset({"cm", "px"})
CHUNK_ROWS = 65536
SHOWN = 5


@attrs.frozen
class Problem:
    """One thing wrong with a file.

    Attributes
    ----------
    severity : str
        ``error`` (readers fail or return wrong data) or ``warning``.
    where : str
        HDF5 path of the object concerned (``/info``, ``/reco_particles``...),
        or ``file``.
    rule : str
        Id of the rule broken, a key of :data:`RULES`.
    message : str
        What is wrong and why it matters.
    """

    severity: str
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.rule}]"


def is_sound(problems: Iterable[Problem], strict: bool = False) -> bool:
    """Return whether a file with these problems is sound (no errors; no warnings either if ``strict``)."""
    return not any(p.severity == ERROR or strict for p in problems)


@attrs.define
class _Context:
    """The open file and the problems found so far."""

    file: h5py.File
    problems: list[Problem] = attrs.Factory(list)
    entries: int | None = None
    keys: list[str] = attrs.Factory(list)
    fields: tuple[str, ...] = ()
    rows: np.ndarray | None = None

    def error(self, where: str, rule: str, message: str) -> None:
        self.problems.append(Problem(ERROR, where, rule, message))

    def warning(self, where: str, rule: str, message: str) -> None:
        self.problems.append(Problem(WARNING, where, rule, message))

    def guarded(self, where: str, check: Callable[..., Any], *args: Any) -> Any:
        """Run one check; a read failure becomes a ``read.failed`` problem instead of a traceback."""
        try:
            return check(self, *args)
        except (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError) as err:
            text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            self.error(where, "read.failed", f"cannot be read: {text}")
            return None


def validate(path: str | os.PathLike) -> list[Problem]:
    """Check one file; return every problem found (empty for a sound file).

    Parameters
    ----------
    path : str or path-like
        The file to check.

    Returns
    -------
    list of Problem
        Errors and warnings, in the order the checks ran.
    """
    try:
        h5file = open_file(path)
    except FileOpenError as err:
        return [Problem(ERROR, "file", "file.unreadable", str(err))]
    with h5file:
        ctx = _Context(h5file)
        layout = ctx.guarded("/info", _check_info)
        if layout == "V2":
            return ctx.problems
        if ctx.guarded("/events", _check_events):
            ctx.guarded("/", _check_root)
            for key in sorted(ctx.keys):
                if key in h5file:
                    ctx.guarded(f"/{key}", _check_product, key)
            ctx.guarded("/run_info", _check_run_info)
        return ctx.problems


# -- info ---------------------------------------------------------------------------------------------


def _describe_value(value: Any) -> str:
    if isinstance(value, np.bytes_):
        return f"a fixed-length string ({len(value)} bytes)"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    return f"a {type(value).__name__}"


def _check_info(ctx: _Context) -> str | None:
    """Check ``info`` and its attributes; return ``"V2"`` for a V2 file (nothing more is checked)."""
    info = ctx.file.get("info")
    if info is None:
        ctx.error("/info", "info.missing", "no 'info' group: SPINE's reader asserts it exists in the first file")
        return None
    attributes = info.attrs
    version = attributes.get("format_version")
    if version is not None:
        if _equals(version, 2) and isinstance(ctx.file.get("products"), h5py.Group):
            ctx.error(
                "/",
                "format.v2",
                "SPINE V2 layout (format_version=2, /products offset tables): validate checks V1 files only; "
                "V2 is not supported yet",
            )
            return "V2"
        if not _equals(version, 1):
            ctx.error(
                "/info",
                "info.format_version",
                f"format_version is {attr_text(version)!r} on a V1 file: SPINE's later reader only reads V1 files "
                "with format_version absent or 1 (2 makes it look for /products)",
            )
    _check_cfg(ctx, attributes)
    _check_version(ctx, attributes)
    if "complete" in attributes and not truthy(attributes["complete"]):
        ctx.error(
            "/info",
            "info.incomplete",
            "info.complete is False: the writer was not finalized (crashed or not closed); "
            "SPINE's reader refuses the file unless ignore_incomplete=True",
        )
    schema = attributes.get("schema_version")
    if schema is not None and _as_int(schema) is not None and _as_int(schema) > SCHEMA_VERSION:
        ctx.warning(
            "/info",
            "info.schema_version",
            f"written with schema version {attr_text(schema)}; this spineh5 knows version {SCHEMA_VERSION}, "
            "so newer columns are reported as unknown",
        )
    return None


def _equals(value: Any, number: int) -> bool:
    return _as_int(value) == number


def _as_int(value: Any) -> int | None:
    try:
        array = np.asarray(value)
        if array.shape != () or array.dtype.kind not in "iub":
            return None
        return int(array)
    except (TypeError, ValueError):
        return None


def _check_cfg(ctx: _Context, attributes: h5py.AttributeManager) -> None:
    if "cfg" not in attributes:
        ctx.error(
            "/info",
            "info.cfg.missing",
            "no 'cfg' attribute: SPINE's reader asserts it exists (write yaml.dump({}) = '{}\\n' if there is none)",
        )
        return
    cfg = attributes["cfg"]
    if not isinstance(cfg, str):
        ctx.error(
            "/info",
            "info.cfg.type",
            f"cfg is {_describe_value(cfg)}: SPINE's reader requires a variable-length string",
        )
        return
    try:
        yaml.safe_load(cfg)
    except yaml.parser.ParserError as err:
        ctx.warning(
            "/info",
            "info.cfg.yaml",
            f"cfg is not valid YAML ({_one_line(err)}): SPINE's reader warns and ignores the configuration",
        )
    except yaml.YAMLError as err:
        ctx.error("/info", "info.cfg.yaml", f"cfg is not valid YAML ({_one_line(err)}): SPINE's reader raises")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:120]


def _check_version(ctx: _Context, attributes: h5py.AttributeManager) -> None:
    present = [name for name in ("version", "spine_version") if name in attributes]
    if not present:
        ctx.error(
            "/info",
            "info.version.missing",
            "no 'version' attribute: SPINE's reader asserts it exists (later releases accept 'spine_version')",
        )
        return
    for name in present:
        value = attributes[name]
        if not isinstance(value, str):
            ctx.error(
                "/info",
                "info.version.type",
                f"{name} is {_describe_value(value)}: SPINE's reader requires a variable-length string",
            )
    if "version" not in present:
        ctx.warning(
            "/info",
            "info.version.spine_only",
            "only 'spine_version' is set: SPINE 0.14.1's reader requires 'version'",
        )


# -- events and root -----------------------------------------------------------------------------------


def _check_events(ctx: _Context) -> bool:
    """Check the ``events`` table; record the entry count and usable keys; return whether it is usable."""
    events = ctx.file.get("events")
    if events is None:
        ctx.error("/events", "events.missing", "no 'events' dataset: SPINE's reader asserts it exists")
        return False
    dtype = events.dtype if isinstance(events, h5py.Dataset) else None
    if dtype is None or events.ndim != 1 or not dtype.names:
        shape = "a group" if dtype is None else f"a {events.ndim}-D {dtype} dataset"
        ctx.error(
            "/events",
            "events.type",
            f"events is {shape}: it must be a 1-D compound dataset with one region-reference field per product",
        )
        return False
    ctx.entries = int(events.shape[0])
    ctx.fields = dtype.names
    for key in dtype.names:
        kind = h5py.check_ref_dtype(dtype[key])
        if kind is h5py.RegionReference:
            ctx.keys.append(key)
        elif kind is h5py.Reference:
            ctx.error(
                "/events",
                "events.field",
                f"field {key!r} holds object references: SPINE's readers index with dataset-region references",
            )
        else:
            ctx.error(
                "/events",
                "events.field",
                f"field {key!r} is {dtype[key]}, not a dataset-region reference",
            )
    if ctx.keys:
        ctx.rows = events.fields(ctx.keys)[:] if ctx.entries else np.empty(0, dtype=[(k, object) for k in ctx.keys])
    return True


def _check_root(ctx: _Context) -> None:
    names = set(ctx.file)
    for key in ctx.keys:
        if key not in names:
            ctx.error(f"/{key}", "events.key_missing", f"events has a field {key!r} but there is no root object /{key}")
    for name in sorted(names - {"info", "events"} - set(ctx.fields)):
        ctx.error(
            f"/{name}",
            "root.extra",
            f"root object {name!r} is not an event product: SPINE tooling expects every root object other than "
            "info and events to be a field of events",
        )


# -- products ---------------------------------------------------------------------------------------------


def _check_product(ctx: _Context, key: str) -> None:
    obj = ctx.file[key]
    where = f"/{key}"
    if isinstance(obj, h5py.Group):
        _check_group(ctx, key, obj)
        return
    if not isinstance(obj, h5py.Dataset) or obj.ndim not in (1, 2):
        what = f"a {obj.ndim}-D dataset" if isinstance(obj, h5py.Dataset) else "neither a group nor a dataset"
        ctx.error(where, "product.type", f"{key} is {what}: products are 1-D or 2-D datasets or list groups")
        return
    scalar = _check_scalar_attr(ctx, where, obj)
    dtype = obj.dtype
    if dtype.names:
        cls = _check_class(ctx, where, obj, dtype)
        if cls is not None:
            _check_columns(ctx, where, dtype, cls)
            ctx.guarded(where, _check_values, obj, dtype.names, cls)
    _check_event_refs(ctx, key, obj, scalar=bool(scalar))


def _check_scalar_attr(ctx: _Context, where: str, dataset: h5py.Dataset) -> bool | None:
    if "scalar" not in dataset.attrs:
        ctx.error(
            where,
            "product.scalar.missing",
            "no 'scalar' attribute: SPINE's reader reads it for every dataset (KeyError)",
        )
        return None
    value = dataset.attrs["scalar"]
    number = _as_int(value)
    if number not in (0, 1):
        ctx.error(where, "product.scalar.type", f"scalar is {_describe_value(value)}, not a bool (or 0/1)")
        return None
    return bool(number)


def _check_class(ctx: _Context, where: str, dataset: h5py.Dataset, dtype: np.dtype) -> type | None:
    """Check ``class_name``; return the schema class to check the columns against (None to skip)."""
    if "class_name" not in dataset.attrs:
        ctx.error(
            where,
            "class.missing",
            "compound dataset without 'class_name': SPINE's reader cannot tell which class to rebuild",
        )
        return None
    name = dataset.attrs["class_name"]
    if not isinstance(name, str):
        ctx.error(
            where,
            "class.type",
            f"class_name is {_describe_value(name)}: SPINE's reader requires a variable-length string",
        )
        name = attr_text(name)
    if name == "Meta":
        return _resolve_meta(dtype)
    if name in REGISTRY:
        return REGISTRY[name]
    if name in LATER_CLASSES:
        ctx.warning(
            where,
            "class.later",
            f"class {name!r} was added by a later SPINE release: SPINE 0.14.1 cannot rebuild it and the schema "
            "has no columns to check",
        )
        return None
    close = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    ctx.error(where, "class.unknown", f"class_name {name!r} is not a class of the schema{hint}")
    return None


def _resolve_meta(dtype: np.dtype) -> type:
    """Resolve the legacy ``Meta`` class name as SPINE does: by the length of ``count``."""
    count = dtype.fields.get("count") if dtype.fields else None
    if count is not None and count[0].subdtype is not None and count[0].subdtype[1] == (2,):
        return REGISTRY["ImageMeta2D"]
    return REGISTRY["ImageMeta3D"]


def _check_columns(ctx: _Context, where: str, dtype: np.dtype, cls: type) -> None:
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
            report = ctx.error if severity == ERROR else ctx.warning
            report(where, "column.dtype", f"column {name!r}: {text}")
    if newer:
        ctx.warning(
            where,
            "column.later",
            f"{_names_text(newer, 'column')} not in the {cls.__name__} schema (SPINE 0.14.1) but added by later "
            "SPINE releases: SPINE 0.14.1's reader rejects them unless skip_unknown_attrs=True",
        )
    for name in unknown:
        close = difflib.get_close_matches(name, list(columns), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        ctx.error(
            where,
            "column.unknown",
            f"column {name!r} is not a {cls.__name__} column{hint}: SPINE's reader raises TypeError on it "
            "unless skip_unknown_attrs=True",
        )


def _names_text(names: Sequence[str], noun: str) -> str:
    quoted = ", ".join(repr(name) for name in names)
    return f"{noun} {quoted} is" if len(names) == 1 else f"{noun}s {quoted} are"


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
    """Compare a column's dtype on disk with the schema, following the readers' tolerance (spec 3.6).

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
    found = _describe_member(storage, kind, shape, dt)
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


def _describe_member(storage: str, kind: str, shape: tuple, dt: np.dtype) -> str:
    if storage == "vlen":
        return f"vlen<{h5py.check_vlen_dtype(dt)}>"
    if storage == "fixed":
        return f"{dt.subdtype[0]}[{','.join(map(str, shape))}]"
    return "str" if kind == "str" else str(dt)


def _iter_column(dataset: h5py.Dataset, name: str) -> Iterable[tuple[int, np.ndarray]]:
    for start in range(0, dataset.shape[0], CHUNK_ROWS):
        yield start, dataset.fields(name)[start : start + CHUNK_ROWS]


def _check_values(ctx: _Context, dataset: h5py.Dataset, names: tuple[str, ...], cls: type) -> None:
    """Check the row values SPINE's ``__post_init__`` checks: units and ImageMeta consistency."""
    where = dataset.name
    if "units" in names and any(column.name == "units" for column in cls.COLUMNS):
        _check_units(ctx, where, dataset)
    if cls.__name__ in ("ImageMeta2D", "ImageMeta3D") and {"lower", "upper", "size", "count"} <= set(names):
        _check_meta(ctx, where, dataset)


def _check_units(ctx: _Context, where: str, dataset: h5py.Dataset) -> None:
    bad: list[int] = []
    seen: set[str] = set()
    for start, values in _iter_column(dataset, "units"):
        for offset, value in enumerate(values):
            text = attr_text(value)
            if text not in UNITS:
                bad.append(start + offset)
                seen.add(text)
    if bad:
        ctx.error(
            where,
            "value.units",
            f"units {', '.join(map(repr, sorted(seen)))} in {_rows_text(bad)}: SPINE's classes accept 'cm' or 'px'",
        )


def _check_meta(ctx: _Context, where: str, dataset: h5py.Dataset) -> None:
    bad: list[int] = []
    for start in range(0, dataset.shape[0], CHUNK_ROWS):
        rows = dataset[start : start + CHUNK_ROWS]
        lower, upper = rows["lower"].astype(np.float64), rows["upper"].astype(np.float64)
        size, count = rows["size"].astype(np.float64), rows["count"].astype(np.float64)
        unset = np.isnan(lower).all(axis=1) & np.isnan(upper).all(axis=1) & (count == -1).all(axis=1)
        with np.errstate(invalid="ignore"):
            close = np.isclose(upper, lower + size * count).all(axis=1)
        bad.extend((start + np.flatnonzero(~(unset | close))).tolist())
    if bad:
        ctx.error(
            where,
            "value.meta",
            f"upper != lower + size * count in {_rows_text(bad)}: SPINE's ImageMeta refuses inconsistent metadata",
        )


def _rows_text(rows: Sequence[int], noun: str = "row") -> str:
    shown = ", ".join(map(str, rows[:SHOWN]))
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    if len(rows) > 1:
        noun = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{noun} {shown}{more}"


def _check_group(ctx: _Context, key: str, group: h5py.Group) -> None:
    where = f"/{key}"
    index = group.get("index")
    if not isinstance(index, h5py.Dataset) or h5py.check_ref_dtype(index.dtype) is not h5py.RegionReference:
        ctx.error(
            where,
            "group.index",
            "list group without a region-reference 'index' dataset: SPINE's reader cannot decode it",
        )
        return
    if index.ndim == 1:
        targets = {0: "elements"}
    elif index.ndim == 2:
        targets = {position: f"element_{position}" for position in range(index.shape[1])}
    else:
        ctx.error(where, "group.index", f"index is {index.ndim}-D: 1-D for flat lists, 2-D for jagged lists")
        return
    present = True
    for name in targets.values():
        if not isinstance(group.get(name), h5py.Dataset):
            layout = "flat" if index.ndim == 1 else "jagged"
            ctx.error(where, "group.elements", f"{layout} list group without its {name!r} dataset")
            present = False
    if present:
        _check_index_refs(ctx, group, index, targets)
    _check_event_refs(ctx, key, index, scalar=False, name=f"/{key}/index")


# -- references ----------------------------------------------------------------------------------------------


@attrs.define
class _RefScan:
    """Outcome of resolving many region references that should point into one dataset."""

    counts: np.ndarray
    null: list[int] = attrs.Factory(list)
    unresolved: list[int] = attrs.Factory(list)
    elsewhere: dict[str, list[int]] = attrs.Factory(dict)
    outside: list[int] = attrs.Factory(list)


def _scan_refs(h5file: h5py.File, refs: np.ndarray, target: h5py.Dataset) -> _RefScan:
    """Resolve each reference: its dataset must be ``target`` and its rows within ``target``'s extent."""
    scan = _RefScan(counts=np.zeros(len(refs), dtype=np.int64))
    extent = target.shape[0]
    width = target.shape[1] if target.ndim == 2 else 1
    expected = target.name
    for position, ref in enumerate(refs):
        if not ref:
            scan.null.append(position)
            continue
        try:
            name = h5py.h5r.get_name(ref, h5file.id)
            space = h5py.h5r.get_region(ref, h5file.id)
        except (OSError, ValueError, KeyError, RuntimeError):
            name = None
        if name is None:
            scan.unresolved.append(position)
            continue
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if name != expected:
            scan.elsewhere.setdefault(name, []).append(position)
            continue
        points = space.get_select_npoints()
        scan.counts[position] = points // max(width, 1)
        if points and space.get_select_type() != h5py.h5s.SEL_NONE:
            bounds = space.get_select_bounds()
            if bounds is not None and bounds[1][0] >= extent:
                scan.outside.append(position)
    return scan


def _report_scan(ctx: _Context, where: str, scan: _RefScan, target: str, noun: str) -> None:
    if scan.null:
        ctx.error(where, "ref.null", f"null region references in {_rows_text(scan.null, noun)}")
    if scan.unresolved:
        ctx.error(where, "ref.unresolved", f"unresolvable region references in {_rows_text(scan.unresolved, noun)}")
    for name, positions in scan.elsewhere.items():
        ctx.error(
            where,
            "ref.target",
            f"references into {name} instead of {target} in {_rows_text(positions, noun)}",
        )
    if scan.outside:
        ctx.error(
            where,
            "ref.outside",
            f"references past the end of {target} in {_rows_text(scan.outside, noun)}: "
            "the dataset is shorter than its references say",
        )


def _check_event_refs(ctx: _Context, key: str, target: h5py.Dataset, scalar: bool, name: str | None = None) -> None:
    """Check the ``events`` field of ``key``: every entry references rows of ``target``."""
    scan = _scan_refs(ctx.file, ctx.rows[key], target)
    _report_scan(ctx, f"/{key}", scan, name or f"/{key}", "entry")
    if scalar:
        resolved = set(scan.null) | set(scan.unresolved) | {p for ps in scan.elsewhere.values() for p in ps}
        empty = [position for position in np.flatnonzero(scan.counts == 0).tolist() if position not in resolved]
        if empty:
            ctx.error(
                f"/{key}",
                "ref.scalar_empty",
                f"scalar=True but no row in {_rows_text(empty, 'entry')}: SPINE's reader returns the first row "
                "and raises IndexError",
            )


def _check_index_refs(ctx: _Context, group: h5py.Group, index: h5py.Dataset, targets: dict[int, str]) -> None:
    """Check that each ``index`` reference of a list group points into its ``elements``/``element_<i>``."""
    rows = index[:]
    for position, name in targets.items():
        refs = rows if index.ndim == 1 else rows[:, position]
        scan = _scan_refs(ctx.file, refs, group[name])
        _report_scan(ctx, f"{group.name}/index", scan, f"{group.name}/{name}", "index row")


# -- run info ------------------------------------------------------------------------------------------------


def _check_run_info(ctx: _Context) -> None:
    dataset = ctx.file.get("run_info")
    if dataset is None or "run_info" not in ctx.keys or ctx.entries is None:
        return
    triplet = ("run", "subrun", "event")
    if not isinstance(dataset, h5py.Dataset) or not dataset.dtype.names or not set(triplet) <= set(dataset.dtype.names):
        ctx.warning(
            "/run_info",
            "run_info.columns",
            "run_info is not a compound dataset with run, subrun and event columns: SPINE's run map cannot use it",
        )
        return
    if dataset.shape[0] != ctx.entries:
        ctx.error(
            "/run_info",
            "run_info.rows",
            f"run_info has {dataset.shape[0]} rows for {ctx.entries} entries: SPINE's run map needs exactly one "
            "per entry, in entry order",
        )
    values = np.stack([dataset.fields(name)[:].astype(np.int64) for name in triplet], axis=1)
    unique, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse.reshape(-1)] > 1).tolist()
    if repeated:
        shown = ", ".join(str(tuple(int(v) for v in values[row])) for row in repeated[:SHOWN])
        ctx.error(
            "/run_info",
            "run_info.duplicate",
            f"{len(repeated)} rows share a (run, subrun, event) triplet, e.g. {shown}: "
            "SPINE's run map requires unique triplets",
        )
