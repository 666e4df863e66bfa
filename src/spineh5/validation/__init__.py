"""Check a file against the SPINE V1 or V2 contract and the schema, with h5py alone: ``spineh5 validate``.

:func:`validate` returns every :class:`Problem` it finds; an empty list (or
only warnings) means SPINE's readers open the file and rebuild its objects.
The layout is told from ``info.format_version`` (2 with a ``products`` group:
V2; absent or 1: V1). The rules follow ``spine-v1-format.md`` section 3.5
(what HEAD's reader needs) and 3.6 (what the readers tolerate),
``spine-v2-format.md`` sections 2 and 4.8 (product groups, offsets, pools), plus
the schema of ``spineh5.generated``:

* errors: what makes SPINE's f31056c8 *and* later readers fail, or return
  wrong data (missing ``cfg``/``version``/``scalar``/``class_name``, fixed-length
  string attributes, references outside their dataset, an incomplete file,
  V2 offsets that decrease, leave their dataset or do not have one boundary
  more than the items they delimit...);
* warnings: what only the f31056c8 reader refuses (columns and classes added
  by later SPINE releases), what loads with a different Python type
  (integers stored where the schema has floats), or what departs from the V2
  contract without changing what readers return (offsets not starting at 0,
  values no offset reaches).

Nothing here uses the writer or the reader; see :data:`RULES` for every check.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from ..describe import FileOpenError, attr_text, open_file, truthy
from ..generated import REGISTRY, SCHEMA_VERSION

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
    "info.format_version": "info.format_version is neither absent nor 1 (V1) nor 2 with a products group (V2)",
    "info.schema_version": "written with a newer schema than this spineh5 knows",
    "events.missing": "there is no root 'events' dataset",
    "events.type": "events is not a 1-D compound dataset with named fields",
    "events.field": "an events field is not a dataset-region reference",
    "events.key_missing": "an events field names no root object",
    "root.extra": "a root object is not an event product (nor info/events)",
    "product.type": "an event product is neither a 1-D/2-D dataset nor a list group",
    "product.scalar.missing": "a product (V1 dataset; V2 array, string or objects group) has no 'scalar' attribute",
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
    # V2 (offset-based product groups)
    "v2.format_version.type": "V2: info.format_version means 2 only through int() (not an integer 2)",
    "v2.format_version.missing": "a products group (V2 layout) but no info.format_version: read as V1",
    "v2.info.format": "V2: info.format is missing or not 'spine_hdf5'",
    "v2.events.type": "V2: events is not a dataset (its length is the entry count)",
    "v2.events.values": "V2: events is not a 1-D integer dataset holding 0..N-1",
    "v2.products.missing": "V2: there is no root 'products' group",
    "v2.product.type": "V2: a member of a product tree is not a group where a product group is expected",
    "v2.kind": "V2: a product group has no 'kind' attribute, or not one of array, string, objects, list, multi_list",
    "v2.dataset.missing": "V2: a product group lacks a dataset its kind needs (values, event_offsets, fixed...)",
    "v2.values.type": "V2: a values/fixed dataset has the wrong rank or dtype for its kind",
    "v2.vlen": "V2: a dataset under products holds variable-length or reference types",
    "v2.offsets.type": "V2: an offsets dataset is not 1-D int64",
    "v2.events.count": "V2: a product's event_offsets does not have one row more than the entries (len(events) + 1)",
    "v2.offsets.count": "V2: element_offsets does not have one boundary more than the list elements the entries hold",
    "v2.offsets.start": "V2: offsets do not start at 0",
    "v2.offsets.order": "V2: offsets decrease",
    "v2.offsets.range": "V2: offsets point outside the dataset they index",
    "v2.offsets.cover": "V2: the last offset is not the length of its dataset (rows no entry reaches)",
    "v2.scalar.rows": "V2: a scalar=True product has an entry without exactly one row",
    "v2.string.utf8": "V2: string bytes are not UTF-8, or a boundary cuts a character",
    "v2.variables": "V2: an objects group has no 'variables' group",
    "v2.pool": "V2: a variable pool is malformed (name, kind, fields, values)",
    "v2.pool.column": "V2: a pool has no _var_offsets_<i> column of len(fields) + 1 offsets (or a column has no pool)",
    "v2.elements": "V2: a multi_list group has malformed or no element_<j> subgroups",
    "v2.product_metadata": "V2: product_metadata is not a mapping of a known product_type, or lacks a child it needs",
}

#: V2 product kinds (spec section 2).
V2_KINDS = ("array", "string", "objects", "list", "multi_list")
#: SPINE's typed products (``product_metadata``) and the child groups each needs (spec section 2.8).
TYPED_PRODUCTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "tensor": (("meta", "has_meta"),),
    "cluster_label": (("particles", "has_particles"), ("meta", "has_meta")),
    "index": (("spans", None),),
    "index_list": (("spans", None),),
    "edge_index": (("spans", None),),
    "object_list": (("index_shifts", None),),
}
#: Prefix of the helper columns of ``fixed`` that index the pools.
VAR_OFFSETS = "_var_offsets_"

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
            _validate_v2(ctx)
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
    """Check ``info`` and its attributes; return ``"V2"`` when the file is checked as V2, else None."""
    events = ctx.file.get("events")
    v1_events = isinstance(events, h5py.Dataset) and events.dtype.names is not None
    has_products = isinstance(ctx.file.get("products"), h5py.Group)
    info = ctx.file.get("info")
    if info is None:
        ctx.error("/info", "info.missing", "no 'info' group: SPINE's reader asserts it exists in the first file")
        return "V2" if has_products and not v1_events else None
    attributes = info.attrs
    version = attributes.get("format_version")
    layout = None
    if version is None:
        if has_products and not v1_events:
            ctx.error(
                "/info",
                "v2.format_version.missing",
                "no format_version, but a /products group and no V1 events table: SPINE's readers take the file "
                "for V1 and fail on every entry; write info.format_version = 2 (int64)",
            )
            layout = "V2"
    elif _spine_int(version) == 2 and (has_products or not v1_events):
        layout = "V2"
        if not _equals(version, 2):
            ctx.warning(
                "/info",
                "v2.format_version.type",
                f"format_version is {_describe_value(version)} {attr_text(version)!r}: SPINE's reader takes int() of "
                "it and reads V2, but the contract is an int64 2 (other tools compare it with 2)",
            )
    elif not _equals(version, 1):
        ctx.error(
            "/info",
            "info.format_version",
            f"format_version is {attr_text(version)!r} on a V1 file: SPINE's later reader only reads V1 files "
            "with format_version absent or 1 (2 makes it look for /products)",
        )
    _check_cfg(ctx, attributes)
    _check_version(ctx, attributes, layout)
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
    if layout == "V2":
        fmt = attributes.get("format")
        if fmt is None or attr_text(fmt) != "spine_hdf5":
            found = "missing" if fmt is None else f"{attr_text(fmt)!r}"
            ctx.warning(
                "/info",
                "v2.info.format",
                f"info.format is {found}: SPINE writes 'spine_hdf5' (its reader does not read it; tools may)",
            )
    return layout


def _spine_int(value: Any) -> int | None:
    """Return ``int(value)`` as SPINE's reader computes the format version (None when it raises)."""
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value).decode("utf-8", "replace")
    try:
        return int(value)
    except (TypeError, ValueError):
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


def _check_version(ctx: _Context, attributes: h5py.AttributeManager, layout: str | None = None) -> None:
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
    if "version" not in present and layout != "V2":  # SPINE 0.14.1 cannot read V2 files anyway
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


def _check_class(ctx: _Context, where: str, dataset: Any, dtype: np.dtype, layout: str = "V1") -> type | None:
    """Check ``class_name``; return the schema class to check the columns against (None to skip)."""
    if "class_name" not in dataset.attrs:
        ctx.error(
            where,
            "class.missing",
            "no 'class_name' attribute: SPINE's reader cannot tell which class to rebuild",
        )
        return None
    name = dataset.attrs["class_name"]
    if layout == "V2" and isinstance(name, (bytes, np.bytes_)):
        name = attr_text(name)  # SPINE's V2 reader decodes fixed-length class names
    if not isinstance(name, str):
        needed = "a variable-length string" if layout == "V1" else "a string"
        ctx.error(where, "class.type", f"class_name is {_describe_value(name)}: SPINE's reader requires {needed}")
        name = attr_text(name)
    if name == "Meta":
        return _resolve_meta(dtype)
    if name in REGISTRY:
        return REGISTRY[name]
    if name in LATER_CLASSES:
        ctx.warning(
            where,
            "class.later",
            f"class {name!r} was added by a later SPINE release: the schema (SPINE 0.14.1) has no columns to check "
            "and spineh5 and SPINE 0.14.1 cannot rebuild it",
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


def _check_columns(ctx: _Context, where: str, dtype: np.dtype, cls: type, layout: str = "V1") -> None:
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
        consequence = (
            "SPINE 0.14.1's reader rejects them unless skip_unknown_attrs=True"
            if layout == "V1"
            else "spineh5 leaves them out of the objects (they stay readable raw)"
        )
        ctx.warning(
            where,
            "column.later",
            f"{_names_text(newer, 'column')} not in the {cls.__name__} schema (SPINE 0.14.1) but added by later "
            f"SPINE releases: {consequence}",
        )
    for name in unknown:
        close = difflib.get_close_matches(name, list(columns), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if layout == "V1":
            ctx.error(
                where,
                "column.unknown",
                f"column {name!r} is not a {cls.__name__} column{hint}: SPINE's reader raises TypeError on it "
                "unless skip_unknown_attrs=True",
            )
        else:
            ctx.warning(
                where,
                "column.unknown",
                f"column {name!r} is not a {cls.__name__} column{hint}: SPINE's V2 reader ignores it silently "
                "and spineh5 leaves it out of the objects",
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
    texts = (
        (start + offset, attr_text(value))
        for start, values in _iter_column(dataset, "units")
        for offset, value in enumerate(values)
    )
    _report_units(ctx, where, texts, "")


def _report_units(ctx: _Context, where: str, texts: Iterable[tuple[int, str]], note: str) -> None:
    """Report the rows whose ``units`` text is not one SPINE's classes accept."""
    bad: list[int] = []
    seen: set[str] = set()
    for row, text in texts:
        if text not in UNITS:
            bad.append(row)
            seen.add(text)
    if bad:
        ctx.error(
            where,
            "value.units",
            f"units {', '.join(map(repr, sorted(seen)))} in {_rows_text(bad)}: SPINE's classes accept 'cm' or 'px'"
            + note,
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
    _check_run_triplets(ctx, "/run_info", dataset, dataset.shape[0] if isinstance(dataset, h5py.Dataset) else 0)


def _check_run_triplets(ctx: _Context, where: str, dataset: Any, rows: int, one_per_entry: bool = True) -> None:
    """Check the run/subrun/event columns SPINE's run map reads: present, one row per entry, unique."""
    triplet = ("run", "subrun", "event")
    if not isinstance(dataset, h5py.Dataset) or not dataset.dtype.names or not set(triplet) <= set(dataset.dtype.names):
        ctx.warning(
            where,
            "run_info.columns",
            "run_info is not a compound dataset with run, subrun and event columns: SPINE's run map cannot use it",
        )
        return
    if rows != ctx.entries or not one_per_entry:
        ctx.error(
            where,
            "run_info.rows",
            f"run_info has {rows} rows for {ctx.entries} entries"
            + ("" if one_per_entry else ", not one per entry")
            + ": SPINE's run map needs exactly one per entry, in entry order",
        )
    values = np.stack([dataset.fields(name)[:].astype(np.int64) for name in triplet], axis=1)
    if not len(values):
        return
    unique, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse.reshape(-1)] > 1).tolist()
    if repeated:
        shown = ", ".join(str(tuple(int(v) for v in values[row])) for row in repeated[:SHOWN])
        ctx.error(
            where,
            "run_info.duplicate",
            f"{len(repeated)} rows share a (run, subrun, event) triplet, e.g. {shown}: "
            "SPINE's run map requires unique triplets",
        )


# -- V2: product groups, offsets and pools ---------------------------------------------------------------------


def _validate_v2(ctx: _Context) -> None:
    """Check the V2 layout (spec sections 1-2, 4.8): events, every product group, its offsets and pools."""
    ctx.entries = ctx.guarded("/events", _check_events_v2)
    ctx.guarded("/", _check_root_v2)
    products = ctx.file.get("products")
    if not isinstance(products, h5py.Group):
        found = "missing" if products is None else "a dataset"
        ctx.error(
            "/products",
            "v2.products.missing",
            f"the 'products' group is {found}: SPINE's V2 reader finds no product (KeyError at the first entry)",
        )
        return
    for name in sorted(products):
        ctx.guarded(f"/products/{name}", _check_product_v2, products, name)
    run_info = products.get("run_info")
    if isinstance(run_info, h5py.Group) and _text_attr(run_info, "kind") == "objects":
        ctx.guarded("/products/run_info", _check_run_info_v2, run_info)


def _check_events_v2(ctx: _Context) -> int | None:
    """Check ``events``; return the entry count (its length), None when it has none."""
    events = ctx.file.get("events")
    if events is None:
        ctx.error("/events", "events.missing", "no 'events' dataset: SPINE's reader asserts it exists")
        return None
    if not isinstance(events, h5py.Dataset) or events.ndim == 0:
        what = "a group" if not isinstance(events, h5py.Dataset) else "a scalar dataset"
        ctx.error("/events", "v2.events.type", f"events is {what}: SPINE's reader needs a dataset, its length is N")
        return None
    count = int(events.shape[0])
    if events.ndim != 1 or events.dtype.kind not in "iu":
        ctx.warning(
            "/events",
            "v2.events.values",
            f"events is a {events.ndim}-D {events.dtype} dataset: SPINE's reader uses only its length, "
            "SPINE's writer stores int64 0..N-1",
        )
        return count
    for start in range(0, count, CHUNK_ROWS):
        values = events[start : start + CHUNK_ROWS]
        expected = np.arange(start, start + len(values))
        if not np.array_equal(values, expected):
            first = start + int(np.flatnonzero(values != expected)[0])
            ctx.warning(
                "/events",
                "v2.events.values",
                f"events row {first} is {int(values[first - start])}, not {first}: SPINE's writer stores the row "
                "numbers 0..N-1 (its reader uses only the length)",
            )
            break
    return count


def _check_root_v2(ctx: _Context) -> None:
    for name in sorted(set(ctx.file) - {"info", "events", "products"}):
        ctx.warning(
            f"/{name}",
            "root.extra",
            f"root object {name!r} is not part of the V2 layout (info, events, products): SPINE's reader ignores it",
        )


def _text_attr(node: Any, name: str) -> str | None:
    """Return a string attribute (vlen or fixed-length), None when absent or not a string."""
    value = node.attrs.get(name)
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (str, np.str_)):
        return str(value)
    return None


def _check_product_v2(ctx: _Context, parent: h5py.Group, name: str, where: str | None = None) -> None:
    """Check one product group (or a typed product's child group) and everything under it."""
    where = where or f"{parent.name}/{name}"
    node = parent.get(name)
    if not isinstance(node, h5py.Group):
        ctx.error(
            where,
            "v2.product.type",
            f"{name!r} is a {type(node).__name__.lower()}, not a product group: SPINE's reader raises on every "
            "entry unless keys= leaves it out",
        )
        return
    if "kind" not in node.attrs:
        ctx.error(where, "v2.kind", "no 'kind' attribute: SPINE's reader does not recognize the product group")
        return
    kind = _text_attr(node, "kind")
    if kind is None:
        ctx.error(where, "v2.kind", f"'kind' is {_describe_value(node.attrs['kind'])}, not a string")
        return
    if kind not in V2_KINDS:
        ctx.error(where, "v2.kind", f"kind {kind!r} is none of {', '.join(V2_KINDS)}: SPINE's reader raises")
        return
    scalar = False
    if kind in ("array", "string", "objects"):
        scalar = bool(_check_scalar_attr(ctx, where, node))
    check = {
        "array": _check_array_v2,
        "string": _check_string_v2,
        "objects": _check_objects_v2,
        "list": _check_list_v2,
        "multi_list": _check_multi_list_v2,
    }[kind]
    ctx.guarded(where, check, node, where, scalar)
    ctx.guarded(where, _check_typed_v2, node, where)
    for child, member in sorted(node.items()):
        if isinstance(member, h5py.Group) and "kind" in member.attrs and child != "variables":
            _check_product_v2(ctx, node, child, f"{where}/{child}")


def _dataset(ctx: _Context, group: h5py.Group, name: str, where: str) -> h5py.Dataset | None:
    node = group.get(name)
    if isinstance(node, h5py.Dataset):
        return node
    found = "missing" if node is None else "a group"
    ctx.error(where, "v2.dataset.missing", f"'{name}' is {found}: SPINE's reader raises KeyError reading the product")
    return None


def _values_dataset(ctx: _Context, group: h5py.Group, where: str, kind: str) -> h5py.Dataset | None:
    """Return the ``values`` dataset of an array/string/list product if its rank and dtype fit the kind."""
    values = _dataset(ctx, group, "values", where)
    if values is None:
        return None
    if kind == "string":
        if values.ndim != 1 or values.dtype.itemsize != 1 or values.dtype.kind not in "iuS":
            ctx.error(
                where,
                "v2.values.type",
                f"string values are a {values.ndim}-D {values.dtype} dataset: they must be 1-D UTF-8 bytes (uint8)",
            )
            return None
        return values
    if values.ndim not in (1, 2) or values.dtype.kind not in "biuf":
        ctx.error(
            where,
            "v2.values.type",
            f"values is a {values.ndim}-D {values.dtype} dataset: {kind} values are 1-D or 2-D numbers "
            "(no variable-length or string types)",
        )
        return None
    return values


@attrs.define
class _Offsets:
    """The offsets of one dataset, read and checked."""

    values: np.ndarray
    usable: bool


def _check_offsets(
    ctx: _Context,
    where: str,
    dataset: h5py.Dataset | None,
    target: int,
    target_name: str,
    items: int | None = None,
    items_rule: str = "v2.events.count",
    items_text: str = "entries",
) -> _Offsets | None:
    """Check one offsets dataset: dtype, one boundary more than ``items``, start, order, range and cover.

    ``target`` is the length of the dataset the offsets index. Returns the
    offsets (``usable`` when they are ordered and in range), None when they
    cannot be read as offsets.
    """
    if dataset is None:
        return None
    name = dataset.name.rsplit("/", 1)[-1]
    if dataset.ndim != 1 or dataset.dtype.kind not in "iuf":
        ctx.error(where, "v2.offsets.type", f"{name} is a {dataset.ndim}-D {dataset.dtype} dataset, not 1-D int64")
        return None
    if dataset.dtype != np.int64:
        ctx.warning(where, "v2.offsets.type", f"{name} is {dataset.dtype}: SPINE writes int64 offsets")
    offsets = np.asarray(dataset[()], dtype=np.int64)
    if items is not None and len(offsets) != items + 1:
        if items_rule == "v2.offsets.count":
            consequence = "elements no entry holds, or entries whose elements are missing"
        elif len(offsets) < items + 1:
            consequence = "the last entries cannot be read (SPINE: 'not enough values to unpack')"
        else:
            consequence = "boundaries past the last entry: a misaligned or half-written append"
        ctx.error(
            where,
            items_rule,
            f"{name} has {len(offsets)} rows for {items} {items_text}: exactly {items + 1} are needed; {consequence}",
        )
    usable = _check_offset_values(ctx, where, name, offsets, target, target_name)
    return _Offsets(offsets, usable)


@attrs.define
class _OffsetScan:
    """Offsets checked block by block: where they decrease or leave ``[0, target]``, their first and last value.

    Positions are counted in offsets and reported in ``unit`` (offsets per
    reported item: 1 for event and element offsets, ``len(fields) + 1`` per row
    for a pool's helper column).
    """

    target: int
    unit: int = 1
    first: int | None = None
    last: int | None = None
    count: int = 0
    decreasing: list[int] = attrs.Factory(list)
    outside: list[int] = attrs.Factory(list)

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.int64).reshape(-1)
        if not len(block):
            return
        run = block if self.last is None else np.concatenate(([self.last], block))
        base = self.count - (0 if self.last is None else 1)
        for position in (np.flatnonzero(np.diff(run) < 0) + 1 + base).tolist():
            self._note(self.decreasing, position)
        for position in (np.flatnonzero((block < 0) | (block > self.target)) + self.count).tolist():
            self._note(self.outside, position)
        if self.first is None:
            self.first = int(block[0])
        self.last = int(block[-1])
        self.count += len(block)

    def _note(self, found: list[int], position: int) -> None:
        item = position // self.unit
        if (not found or found[-1] != item) and len(found) <= 1000:
            found.append(item)


def _report_offsets(ctx: _Context, where: str, name: str, scan: _OffsetScan, target_name: str, noun: str) -> bool:
    """Report start, order, range and cover of scanned offsets; return whether they are ordered and in range.

    ``target_name`` names the items the offsets index (``rows of values``,
    ``list elements``...); ``noun`` the positions reported (``boundary``, ``row``).
    """
    if scan.first is None:
        ctx.error(where, "v2.offsets.count", f"{name} is empty: offsets hold at least the boundary 0")
        return False
    if scan.decreasing:
        ctx.error(
            where,
            "v2.offsets.order",
            f"{name} decreases at {_rows_text(scan.decreasing, noun)}: SPINE's reader returns wrong or empty values",
        )
    if scan.outside:
        ctx.error(
            where,
            "v2.offsets.range",
            f"{name} points past the {scan.target} {target_name} at {_rows_text(scan.outside, noun)}: "
            "reading them fails",
        )
    usable = not scan.decreasing and not scan.outside
    if usable and scan.first != 0:
        ctx.warning(
            where,
            "v2.offsets.start",
            f"{name} starts at {scan.first}, not 0: the first {scan.first} {target_name} are reached by no entry "
            "(SPINE's writer starts every offsets array at 0)",
        )
    if usable and scan.last != scan.target:
        unreached = scan.target - scan.last
        ctx.warning(
            where,
            "v2.offsets.cover",
            f"{name} ends at {scan.last}, but there are {scan.target} {target_name}: the last {unreached} are "
            "reached by no entry (left over by an interrupted write?)",
        )
    return usable


def _check_offset_values(
    ctx: _Context, where: str, name: str, offsets: np.ndarray, target: int, target_name: str
) -> bool:
    """Check start, order, range and cover of one offsets array; return whether it is ordered and in range."""
    scan = _OffsetScan(target)
    scan.feed(offsets)
    return _report_offsets(ctx, where, name, scan, target_name, "boundary")


def _check_scalar_rows(ctx: _Context, where: str, offsets: _Offsets | None) -> None:
    """Check that a scalar=True product has one row per entry (none fails in SPINE's reader, more are ignored)."""
    if offsets is None or not offsets.usable or ctx.entries is None or len(offsets.values) != ctx.entries + 1:
        return
    counts = np.diff(offsets.values)
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        ctx.error(
            where,
            "v2.scalar.rows",
            f"scalar=True but no row in {_rows_text(empty, 'entry')}: SPINE's reader raises IndexError",
        )
    several = np.flatnonzero(counts > 1).tolist()
    if several:
        ctx.warning(
            where,
            "v2.scalar.rows",
            f"scalar=True but several rows in {_rows_text(several, 'entry')}: readers return only the first",
        )


def _check_array_v2(ctx: _Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = _values_dataset(ctx, group, where, "array")
    offsets = _dataset(ctx, group, "event_offsets", where)
    target = values.shape[0] if values is not None else None
    if target is None:
        return
    checked = _check_offsets(ctx, where, offsets, target, "rows of values", ctx.entries)
    if scalar:
        _check_scalar_rows(ctx, where, checked)


def _check_string_v2(ctx: _Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = _values_dataset(ctx, group, where, "string")
    offsets = _dataset(ctx, group, "event_offsets", where)
    if values is None:
        return
    checked = _check_offsets(ctx, where, offsets, values.shape[0], "bytes of values", ctx.entries)
    if checked is not None and checked.usable:
        _check_utf8(ctx, where, np.asarray(values[()]).view(np.uint8), checked.values, "values")


def _check_utf8(ctx: _Context, where: str, data: np.ndarray, bounds: np.ndarray, name: str) -> None:
    """Check that bytes decode as UTF-8 and that no string boundary falls inside a character."""
    try:
        data.tobytes().decode("utf-8")
    except UnicodeDecodeError as err:
        ctx.error(
            where,
            "v2.string.utf8",
            f"{name} bytes are not UTF-8 (byte {err.start}: {err.reason}): SPINE's reader raises UnicodeDecodeError",
        )
        return
    inner = np.unique(bounds[(bounds > 0) & (bounds < len(data))])
    cut = inner[(data[inner] & 0xC0) == 0x80] if len(inner) else inner
    if len(cut):
        ctx.error(
            where,
            "v2.string.utf8",
            f"string boundaries cut a UTF-8 character at {_rows_text(cut.tolist(), 'byte')} of {name}: "
            "SPINE's reader raises UnicodeDecodeError",
        )


def _check_list_v2(ctx: _Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = _values_dataset(ctx, group, where, "list")
    elements = _dataset(ctx, group, "element_offsets", where)
    events = _dataset(ctx, group, "event_offsets", where)
    if elements is None or events is None:
        return
    element_count = max(elements.shape[0] - 1, 0) if elements.ndim == 1 else 0
    checked = _check_offsets(ctx, where, events, element_count, "list elements", ctx.entries)
    referenced = None
    if checked is not None and checked.usable and len(checked.values):
        referenced = int(checked.values[-1])
    if values is not None:
        _check_offsets(
            ctx,
            where,
            elements,
            values.shape[0],
            "rows of values",
            referenced,
            "v2.offsets.count",
            "list elements (the last event offset)",
        )


def _check_multi_list_v2(ctx: _Context, group: h5py.Group, where: str, scalar: bool) -> None:
    positions: list[tuple[int, str]] = []
    for name in group:
        if not name.startswith("element_"):
            continue
        try:
            positions.append((int(name.split("_")[-1]), name))
        except ValueError:
            ctx.error(
                where,
                "v2.elements",
                f"{name!r} has no integer position: SPINE's reader raises ValueError ordering the elements",
            )
    if not positions:
        ctx.warning(where, "v2.elements", "no element_<j> subgroup: every entry reads as an empty list")
        return
    for _, name in sorted(positions):
        element = group[name]
        if not isinstance(element, h5py.Group):
            ctx.error(where, "v2.elements", f"{name!r} is a dataset, not a group with values and event_offsets")
            continue
        inner = f"{where}/{name}"
        values = _values_dataset(ctx, element, inner, "multi_list")
        offsets = _dataset(ctx, element, "event_offsets", inner)
        if values is not None:
            _check_offsets(ctx, inner, offsets, values.shape[0], "rows of values", ctx.entries)


# -- V2 objects -------------------------------------------------------------------------------------------------


@attrs.define
class _Pool:
    """One variable pool of an objects group, as far as it could be read."""

    index: int
    name: str
    is_string: bool
    fields: list[str]
    values: h5py.Dataset


def _check_objects_v2(ctx: _Context, group: h5py.Group, where: str, scalar: bool) -> None:
    fixed = _dataset(ctx, group, "fixed", where)
    offsets = _dataset(ctx, group, "event_offsets", where)
    if fixed is not None and (fixed.ndim != 1 or not fixed.dtype.names):
        ctx.error(
            where,
            "v2.values.type",
            f"fixed is a {fixed.ndim}-D {fixed.dtype} dataset: it must be 1-D compound rows with named columns",
        )
        fixed = None
    if fixed is not None:
        checked = _check_offsets(ctx, where, offsets, fixed.shape[0], "rows of fixed", ctx.entries)
        if scalar:
            _check_scalar_rows(ctx, where, checked)
    pools = _check_pools(ctx, group, where, fixed)
    if fixed is None:
        return
    _check_fixed_vlen(ctx, where, fixed)
    cls = _check_class(ctx, where, group, fixed.dtype, layout="V2")
    logical = _logical_dtype(ctx, where, fixed.dtype, pools)
    if cls is not None and logical is not None:
        _check_columns(ctx, where, logical, cls, layout="V2")
        if cls.__name__ in ("ImageMeta2D", "ImageMeta3D") and {"lower", "upper", "size", "count"} <= set(
            fixed.dtype.names
        ):
            ctx.guarded(where, _check_meta, where, fixed)
        if any(column.name == "units" for column in cls.COLUMNS):
            ctx.guarded(where, _check_units_v2, where, fixed, pools)


def _check_fixed_vlen(ctx: _Context, where: str, fixed: h5py.Dataset) -> None:
    vlen = [
        name
        for name in fixed.dtype.names
        if h5py.check_vlen_dtype(fixed.dtype[name]) is not None
        or h5py.check_string_dtype(fixed.dtype[name]) is not None
        or h5py.check_ref_dtype(fixed.dtype[name]) is not None
    ]
    if vlen:
        ctx.warning(
            where,
            "v2.vlen",
            f"fixed has variable-length or reference columns ({', '.join(vlen)}): SPINE's V2 reader tolerates them, "
            "but V2 keeps variable-length fields in pools and its writer never stores these",
        )


def _check_pools(ctx: _Context, group: h5py.Group, where: str, fixed: h5py.Dataset | None) -> list[_Pool]:
    """Check ``variables`` and each pool (attributes, values, helper column, offsets); return the usable pools."""
    variables = group.get("variables")
    helpers = [name for name in (fixed.dtype.names if fixed is not None else ()) if name.startswith(VAR_OFFSETS)]
    if not isinstance(variables, h5py.Group):
        found = "missing" if variables is None else "a dataset"
        ctx.error(
            where,
            "v2.variables",
            f"'variables' is {found}: SPINE's reader needs the group (even empty) unless fixed_only=True",
        )
        return []
    pools: list[_Pool] = []
    seen: dict[int, str] = {}
    for name, node in sorted(variables.items()):
        pool = _check_pool(ctx, f"{where}/variables/{name}", name, node)
        if pool is None:
            continue
        if pool.index in seen:
            ctx.error(where, "v2.pool", f"pools {seen[pool.index]!r} and {name!r} share the number {pool.index}")
            continue
        seen[pool.index] = name
        pools.append(pool)
    if fixed is None:
        return pools
    usable = [pool for pool in pools if ctx.guarded(f"{where}/variables/{pool.name}", _check_pool_offsets, fixed, pool)]
    numbers = {_helper_index(f"{VAR_OFFSETS}{name.split('_')[-1]}") for name in variables}
    orphans = [name for name in helpers if _helper_index(name) not in numbers]
    if orphans:
        ctx.warning(
            where,
            "v2.pool.column",
            f"fixed has {', '.join(orphans)} but 'variables' has no pool of that number: the column indexes nothing",
        )
    return usable


def _helper_index(name: str) -> int | None:
    try:
        return int(name[len(VAR_OFFSETS) :])
    except ValueError:
        return None


def _check_pool(ctx: _Context, where: str, name: str, node: Any) -> _Pool | None:
    if not isinstance(node, h5py.Group):
        ctx.error(where, "v2.pool", f"pool {name!r} is a dataset: every member of 'variables' must be a pool group")
        return None
    try:
        index = int(name.split("_")[-1])
    except ValueError:
        ctx.error(where, "v2.pool", f"pool name {name!r} has no numeric suffix (pool_<i>): SPINE's reader raises")
        return None
    problems = []
    kind = _text_attr(node, "kind")
    if kind is None:
        problems.append("no string 'kind' attribute")
    text = _text_attr(node, "fields")
    fields: Any = None
    if text is None:
        problems.append("no string 'fields' attribute")
    else:
        try:
            fields = yaml.safe_load(text)
        except yaml.YAMLError:
            fields = None
        if not isinstance(fields, list) or not all(isinstance(field, str) for field in fields):
            problems.append(f"'fields' is not a YAML list of field names ({text[:40]!r})")
        elif len(set(fields)) != len(fields):
            problems.append("'fields' names a field twice")
    values = node.get("values")
    if not isinstance(values, h5py.Dataset):
        problems.append("no 'values' dataset")
    elif values.ndim != 1 or values.dtype.kind not in "biuf" + ("S" if kind == "string" else ""):
        problems.append(f"'values' is a {values.ndim}-D {values.dtype} dataset, not 1-D numbers")
    elif kind == "string" and values.dtype.itemsize != 1:
        problems.append(f"a string pool holds {values.dtype}, not UTF-8 bytes (uint8)")
    if problems:
        ctx.error(where, "v2.pool", f"pool {name!r}: {'; '.join(problems)}: SPINE's reader fails or misreads it")
        return None
    return _Pool(index, name, kind == "string", fields, values)


def _check_pool_offsets(ctx: _Context, fixed: h5py.Dataset, pool: _Pool) -> bool:
    """Check a pool's ``_var_offsets_<i>`` column: width, order and range over all rows, cover, UTF-8."""
    where = fixed.parent.name
    column = f"{VAR_OFFSETS}{pool.index}"
    member = fixed.dtype.fields.get(column)
    width = len(pool.fields) + 1
    shape = member[0].shape if member is not None else None
    if member is None or member[0].base.kind not in "iu" or shape != (width,):
        found = "no such column" if member is None else f"{_dtype_describe(member[0])}"
        ctx.error(
            where,
            "v2.pool.column",
            f"pool {pool.name!r} has {len(pool.fields)} fields, so fixed needs a column {column} of {width} integers "
            f"(found: {found}): SPINE's reader fails, or leaves fields at their defaults",
        )
        return False
    rows = fixed.shape[0]
    size = pool.values.shape[0]
    if rows == 0:
        if size:
            ctx.warning(
                where,
                "v2.offsets.cover",
                f"pool {pool.name!r} holds {size} values but fixed has no rows: no object reaches them",
            )
        return True
    scan = _OffsetScan(size, unit=width)
    for start in range(0, rows, CHUNK_ROWS):
        scan.feed(fixed.fields(column)[start : start + CHUNK_ROWS])
    name = f"{column} (pool {pool.name!r})"
    usable = _report_offsets(ctx, where, name, scan, f"values of pool {pool.name!r}", "row")
    if usable and pool.is_string:
        data = np.asarray(pool.values[()]).view(np.uint8)
        bounds = np.asarray(fixed.fields(column)[()], dtype=np.int64).reshape(-1)
        _check_utf8(ctx, where, data, bounds, f"pool {pool.name!r}")
    return usable


def _dtype_describe(dt: np.dtype) -> str:
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return f"{base}[{','.join(map(str, shape))}]"
    return str(dt)


def _logical_dtype(ctx: _Context, where: str, fixed: np.dtype, pools: list[_Pool]) -> np.dtype | None:
    """Return the V1-style compound of an objects group: fixed columns, then pool fields (str / vlen)."""
    columns: dict[str, Any] = {name: fixed[name] for name in fixed.names if not name.startswith(VAR_OFFSETS)}
    for pool in pools:
        for field in pool.fields:
            if field in columns:
                ctx.error(
                    where,
                    "v2.pool",
                    f"field {field!r} of pool {pool.name!r} is also a fixed column or a field of another pool",
                )
                return None
            columns[field] = h5py.string_dtype() if pool.is_string else h5py.vlen_dtype(pool.values.dtype)
    return np.dtype(list(columns.items())) if columns else None


def _check_units_v2(ctx: _Context, where: str, fixed: h5py.Dataset, pools: list[_Pool]) -> None:
    pool = next((pool for pool in pools if pool.is_string and "units" in pool.fields), None)
    if pool is None or fixed.shape[0] == 0:
        return
    position = pool.fields.index("units")
    column = f"{VAR_OFFSETS}{pool.index}"
    data = np.asarray(pool.values[()]).view(np.uint8).tobytes()

    def texts() -> Iterator[tuple[int, str]]:
        for start in range(0, fixed.shape[0], CHUNK_ROWS):
            bounds = np.asarray(fixed.fields(column)[start : start + CHUNK_ROWS], dtype=np.int64)
            for offset, (low, high) in enumerate(bounds[:, position : position + 2].tolist()):
                yield start + offset, data[low:high].decode("utf-8", "replace")

    _report_units(ctx, where, texts(), " (its V2 reader does not check)")


def _check_typed_v2(ctx: _Context, group: h5py.Group, where: str) -> None:
    """Check SPINE's typed products: ``product_metadata`` a mapping with a known type, its child groups present."""
    if "product_metadata" not in group.attrs:
        return
    text = _text_attr(group, "product_metadata")
    try:
        metadata = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        metadata = None
    if not isinstance(metadata, dict):
        ctx.error(where, "v2.product_metadata", "product_metadata is not a YAML mapping: SPINE's reader raises")
        return
    product_type = metadata.get("product_type")
    if product_type not in TYPED_PRODUCTS:
        ctx.error(
            where,
            "v2.product_metadata",
            f"product_type {product_type!r} is none of {', '.join(TYPED_PRODUCTS)}: SPINE's reader raises ValueError",
        )
        return
    for child, flag in TYPED_PRODUCTS[product_type]:
        if (flag is None or metadata.get(flag)) and not isinstance(group.get(child), h5py.Group):
            ctx.error(
                where,
                "v2.product_metadata",
                f"a {product_type} product needs the child product group {child!r}: SPINE's reader raises KeyError",
            )


def _check_run_info_v2(ctx: _Context, group: h5py.Group) -> None:
    fixed = group.get("fixed")
    offsets = group.get("event_offsets")
    if ctx.entries is None or not isinstance(fixed, h5py.Dataset) or not isinstance(offsets, h5py.Dataset):
        return
    bounds = np.asarray(offsets[()], dtype=np.int64) if offsets.ndim == 1 else np.empty(0, np.int64)
    one_per_entry = np.array_equal(bounds, np.arange(ctx.entries + 1))
    _check_run_triplets(ctx, "/products/run_info", fixed, int(fixed.shape[0]), one_per_entry)
