"""The optional rows of ``python -m benchmarks``: compression filters, Fletcher-32 checksums, SPINE's own writers.

Each is timed in rounds against its own reference in the same run (see
:mod:`benchmarks.__main__` for the rules every row follows).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from spineh5.compression import PLUGINS, plugin_available

from . import floor, mix, spine_ref, spine_v2
from .measure import Table, _timed_call, fmt_rate, interleaved, paired, timed, wall, write_spineh5

COMPRESSIONS = (("gzip", 1), ("gzip", 4), ("lzf", None))
#: The hdf5plugin filters (rows only when hdf5plugin is installed: spineh5[compression]).
PLUGIN_COMPRESSIONS = tuple((name, None) for name in PLUGINS)

__all__ = ["add_checksum_row", "add_compression_rows", "add_spine2_rows", "add_spine_v1_row"]


def add_spine_v1_row(
    table: Table,
    batches: list[dict],
    arrays: list[dict],
    payloads: list[int],
    template: dict,
    paths: dict[str, str],
    count: int,
    repeat: int,
) -> None:
    """Add SPINE 0.14's own V1 writer (on the first ``count`` entries) against spineh5's and the floor, in rounds."""
    few = batches[: -(-count // mix.BATCH_SIZE)]
    count = sum(len(b["index"]) for b in few)
    spine_batches = spine_ref.to_spine(few)
    few_arrays = arrays[: len(few)]
    few_mb = sum(payloads[: len(few)]) / 1e6
    result = interleaved(
        {
            "spine": lambda: timed(lambda path: spine_ref.write_spine(path, spine_batches), paths["floor_ll"]),
            "floor": lambda: timed(lambda path: floor.write_floor(path, few_arrays, template), paths["floor"]),
            "ours": lambda: timed(write_spineh5(few), paths["gen"]),
        },
        repeat,
    )
    spine_s, floor_s, ours_s = (wall(result[k]) for k in ("spine", "floor", "ours"))
    table.add(
        f"SPINE's V1 writer ({count} entries)",
        f"spineh5: {fmt_rate(count, ours_s, few_mb)}",
        f"SPINE: {fmt_rate(count, spine_s, few_mb)}; floor: {fmt_rate(count, floor_s, few_mb)}",
        f"SPINE/floor {paired(result['floor'], result['spine']):.2f}",
    )


def add_spine2_rows(table: Table, args: argparse.Namespace, folder: str) -> None:
    """Add SPINE >= 1.4's V2 writer and reader against spineh5's, timed in its own venv (or say why not)."""
    why = spine_v2.unavailable(args.spine2_python)
    if why is not None:
        print(f"SPINE >= 1.4 comparison skipped: {why}")
        return
    count = min(args.spine_entries, args.entries)
    figures = spine_v2.run(args.spine2_python, count, args.repeat, folder)
    median, entries = figures["median"], figures["entries"]
    version = figures["spine_version"]
    table.add(
        f"SPINE {version} V2 writer ({entries} entries)",
        f"spineh5: {fmt_rate(entries, median['ours_write'])}",
        f"SPINE: {fmt_rate(entries, median['spine_write'])}",
        f"spineh5/SPINE {figures['write_ratio']:.2f}",
    )
    table.add(
        f"SPINE {version} V2 reader, full entries ({entries} entries)",
        f"spineh5: {fmt_rate(entries, median['ours_read'])}",
        f"SPINE: {fmt_rate(entries, median['spine_read'])}",
        f"spineh5/SPINE {figures['read_ratio']:.2f}",
    )


def add_compression_rows(
    table: Table, batches: list[dict], folder: str, entries: int, repeat: int, versions: tuple[int, ...]
) -> None:
    """Add a row per filter and layout: write rate, file size and voxel read rate, each against uncompressed.

    The voxel read is ``HDF5Reader.table`` of ``points`` and ``depositions``
    (the bulk of the bytes). Plugin filters need hdf5plugin (spineh5[compression]).
    """
    from spineh5 import HDF5Reader

    plugins = PLUGIN_COMPRESSIONS if plugin_available() else ()
    if not plugins:
        print("compression: hdf5plugin is not installed (spineh5[compression]); its rows are left out")

    def read_voxels(path: str) -> Callable[[], object]:
        def read() -> None:
            with HDF5Reader(path) as reader:
                reader.table("points")
                reader.table("depositions")

        return read

    for version in versions:
        plain = os.path.join(folder, f"uncompressed_v{version}.h5")
        for name, level in COMPRESSIONS + plugins:
            options = {"compression": name} | ({"compression_opts": level} if level is not None else {})
            label = f"{name}-{level}" if level is not None else name
            path = os.path.join(folder, f"{label}_v{version}.h5")
            compressed = write_spineh5(batches, format_version=version, **options)
            uncompressed = write_spineh5(batches, format_version=version)
            result = interleaved(
                {
                    "comp": lambda write=compressed, path=path: timed(write, path),
                    "none": lambda write=uncompressed, plain=plain: timed(write, plain),
                },
                repeat,
            )
            read_comp, read_none = read_voxels(path), read_voxels(plain)
            reads_result = interleaved(
                {
                    "comp": lambda read=read_comp: _timed_call(read),
                    "none": lambda read=read_none: _timed_call(read),
                },
                repeat,
            )
            size, size_plain = os.path.getsize(path), os.path.getsize(plain)
            table.add(
                f"V{version} write {label} (file size; voxel read)",
                f"{fmt_rate(entries, wall(result['comp']))} ({size / 1e6:.1f} MB); "
                f"read {fmt_rate(entries, wall(reads_result['comp']))}",
                f"uncompressed: {fmt_rate(entries, wall(result['none']))} ({size_plain / 1e6:.1f} MB); "
                f"read {fmt_rate(entries, wall(reads_result['none']))}",
                f"{paired(result['none'], result['comp']):.2f} rate, {size / size_plain:.2f} size, "
                f"{paired(reads_result['none'], reads_result['comp']):.2f} read",
            )


def add_checksum_row(table: Table, batches: list[dict], folder: str, entries: int, repeat: int) -> None:
    """Add the row of ``HDF5Writer(checksum=True)`` (the default) against ``checksum=False``, in rounds."""
    path, plain = os.path.join(folder, "fletcher32.h5"), os.path.join(folder, "no_checksum.h5")
    result = interleaved(
        {
            "sum": lambda: timed(write_spineh5(batches, checksum=True), path),
            "none": lambda: timed(write_spineh5(batches, checksum=False), plain),
        },
        repeat,
    )
    size, size_plain = os.path.getsize(path), os.path.getsize(plain)
    table.add(
        "write, fletcher32 checksums (file size)",
        f"{fmt_rate(entries, wall(result['sum']))} ({size / 1e6:.1f} MB)",
        f"checksum=False: {fmt_rate(entries, wall(result['none']))} ({size_plain / 1e6:.1f} MB)",
        f"{paired(result['none'], result['sum']):.2f} rate; cpu {paired(result['none'], result['sum'], 'cpu'):.2f}",
    )
