"""The "from collections" write rows: the event mix handed to the writer as generated collections.

Every object product of each batch is converted beforehand (outside the timing, as
the floors build their arrays beforehand): a list-of-objects product becomes one
collection of the batch's rows (``RecoParticleCollection.from_columns``, values and
offsets per variable-length field) cut into one view per entry
(``collection.unflatten(counts)``), a one-object product one collection with a row
per entry. Each layout is timed in rounds against its own
floor and against the same write from objects, with the floor's settings
(``measure.FLOOR_SETTINGS``, what issue 14's targets are judged with) and with the
defaults; the files are checked byte-identical to the ones written from objects.

One more run per layout reads every attribute of every object once (``attrgetter``,
nothing else): work a writer from objects cannot skip and the floors do outside
their timing. Its row gives the ratio a writer from objects would reach if it
added that alone to the write from collections (floor / (collections + attribute
reads), per round): the ceiling of the write from objects in this benchmark.
"""

from __future__ import annotations

import filecmp
import operator
import os
import statistics
from collections.abc import Callable
from typing import Any

from . import floor, floor_v2, mix

__all__ = ["add_rows", "as_collections"]


def as_collections(batch: dict[str, Any]) -> dict[str, Any]:
    """Return ``batch`` with every object product as collections, built as a columnar producer hands them.

    Each product of the batch is one collection from :meth:`from_columns` (one array
    per fixed field, ``(values, offsets)`` per variable-length field, taken from the
    objects here, outside any timing), cut into one view per entry with
    :meth:`unflatten`: what a struct-of-arrays producer holds for a batch, with no
    per-row arrays and no per-entry copies.
    """
    from spineh5.types.registry import REGISTRY

    def columnar(collection_cls: Any, objects: list) -> Any:
        built = collection_cls.from_objects(objects)  # a Vlen column is its (values, offsets)
        return collection_cls.from_columns(
            {column.name: built.column(column.name) for column in collection_cls.COLUMNS}
        )

    out = dict(batch)
    for key, class_name in mix.OBJECT_CLASSES.items():
        collection = REGISTRY[class_name].COLLECTION
        if mix.KINDS[key][0] == "object":
            out[key] = columnar(collection, batch[key])
        else:
            flat = columnar(collection, [item for objects in batch[key] for item in objects])
            out[key] = flat.unflatten([len(objects) for objects in batch[key]])
    return out


def add_rows(table: Any, batches: list[dict], folder: str, entries: int, repeat: int, with_v2: bool = True) -> list:
    """Add one "write from collections" row per layout (V1, and V2 unless ``with_v2`` is False).

    Returns the problems found (files written from collections that differ from those written from objects).
    """
    columns = [as_collections(batch) for batch in batches]
    problems = []
    for version in (1, 2) if with_v2 else (1,):
        problems += _add_layout_rows(table, batches, columns, version, folder, entries, repeat)
    return problems


def _add_layout_rows(
    table: Any, batches: list[dict], columns: list[dict], version: int, folder: str, entries: int, repeat: int
) -> list[str]:
    """Time one layout's writes from objects and from collections against its floor, in rounds; add the rows."""
    from . import __main__ as bench  # the timing and table helpers

    names = ("objects", "columns", "objects_fs", "columns_fs", "floor")
    paths = {name: os.path.join(folder, f"coll_v{version}_{name}.h5") for name in names}
    fast = dict(bench.FLOOR_SETTINGS, format_version=version)
    reference = os.path.join(folder, f"coll_v{version}_reference.h5")
    bench.write_spineh5(batches, format_version=version)(reference)
    floor_write, megabytes = _floor(version, batches, reference)
    runs: dict[str, Callable[[], Any]] = {
        "objects": lambda: bench.timed(bench.write_spineh5(batches, format_version=version), paths["objects"]),
        "columns": lambda: bench.timed(bench.write_spineh5(columns, format_version=version), paths["columns"]),
        "objects_fs": lambda: bench.timed(bench.write_spineh5(batches, **fast), paths["objects_fs"]),
        "columns_fs": lambda: bench.timed(bench.write_spineh5(columns, **fast), paths["columns_fs"]),
        "floor": lambda: bench.timed(floor_write, paths["floor"]),
    }
    runs["attributes"] = lambda: bench._timed_call(lambda: read_every_attribute(batches))
    seconds = bench.interleaved(runs, repeat)
    problems = []
    for objects, columns_path in (("objects", "columns"), ("objects_fs", "columns_fs")):
        if not filecmp.cmp(paths[objects], paths[columns_path], shallow=False):
            problems.append(f"V{version}: the file written from collections differs from the one from objects")
    floor_rate = bench.fmt_rate(entries, bench.wall(seconds["floor"]), megabytes)
    prefix = "V2 write" if version == 2 else "write"
    from_objects, from_columns = bench.WRITE_TARGETS[version]
    rows = (
        ("objects_fs", f"{prefix}, generated objects, floor's settings", from_objects),
        ("columns_fs", f"{prefix}, from collections, floor's settings", from_columns),
        ("objects", f"{prefix}, generated objects (defaults)", None),
        ("columns", f"{prefix}, from collections (defaults)", None),
    )
    for name, label, target in rows:
        table.add(
            (bench.with_target(label, target) if target else label) + " (collection rows' run)",
            bench.fmt_rate(entries, bench.wall(seconds[name]), megabytes),
            floor_rate,
            bench.fmt_ratio(bench.paired(seconds["floor"], seconds[name]), target or bench.TARGET)
            + f"; cpu {bench.paired(seconds['floor'], seconds[name], 'cpu'):.2f}",
        )
    ceiling = statistics.median(
        floor_run.wall / (columns_run.wall + read_run.wall)
        for floor_run, columns_run, read_run in zip(seconds["floor"], seconds["columns_fs"], seconds["attributes"])
    )
    table.add(
        f"{prefix}, objects' attributes read once, alone (ratio: floor / (collections + reads))",
        f"{bench.wall(seconds['attributes']):.3f} s",
        floor_rate,
        f"{ceiling:.2f} (the ceiling from objects)",
    )
    return problems


def read_every_attribute(batches: list[dict]) -> int:
    """Read every column attribute of every object of the batches once (``attrgetter``); return how many."""
    from spineh5.types.registry import REGISTRY

    count = 0
    for batch in batches:
        for key, class_name in mix.OBJECT_CLASSES.items():
            items = batch[key]
            objects = items if mix.KINDS[key][0] == "object" else [item for entry in items for item in entry]
            for column in REGISTRY[class_name].COLUMNS:
                count += len(list(map(operator.attrgetter(column.name), objects)))
    return count


def _floor(version: int, batches: list[dict], reference: str) -> tuple[Callable[[str], None], float]:
    """Return the floor's write of a layout (arrays built here, outside any timing) and its payload in MB."""
    if version == 1:
        template = floor.describe_file(reference)
        arrays = [floor.build_arrays(batch, mix.KINDS) for batch in batches]
        megabytes = sum(floor.payload_bytes(a, len(b["index"])) for a, b in zip(arrays, batches)) / 1e6
        return (lambda path: floor.write_floor(path, arrays, template)), megabytes
    template = floor_v2.describe_file(reference)
    arrays = floor_v2.build_arrays(batches, template)
    megabytes = sum(floor_v2.payload_bytes(a) for a in arrays) / 1e6
    return (lambda path: floor_v2.write_floor(path, arrays, template)), megabytes
