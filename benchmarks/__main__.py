"""``python -m benchmarks``: spineh5 against bare h5py writing and reading the same SPINE V1 and V2 bytes.

Every figure is measured in the same run as its floor, in rounds (spineh5,
floor, spineh5, floor, ...) so that a noisy machine hits both alike. Rates are
medians over ``--repeat`` rounds; a ratio is the median over rounds of
``floor time / spineh5 time`` (the target is 0.75), shown for elapsed time and
for this process's CPU time (steadier when other jobs share the machine).

* Writes time a whole file: writer construction, every batch, finalize/close.
  The floor (``benchmarks.floor``) writes arrays built beforehand, outside its
  timing, so it is "h5py writing already-built arrays": the same datasets,
  dtypes, chunk shapes, rows, region references and ``events`` table, in the
  same number of batches (checked equal to spineh5's file after the run),
  with ``dataset[a:b] = rows`` after one resize per dataset per batch and
  region references from ``h5py.h5r.create`` on one reused dataspace. A
  second floor variant appends through h5py's low-level API with one cached
  memory type per dtype, the fastest way h5py offers.
* MB/s counts the payload bytes (fixed-size rows, vlen and string contents,
  references), not the file size.
* Reads use one file written by spineh5 (see ``benchmarks.reads``).
* Peak memory while spineh5 writes 3 batches, against the payload bytes of one
  batch: tracemalloc (Python and numpy allocations) and the resident-set
  high-water mark (with HDF5's own chunk caches and conversion buffers), the
  latter next to the floor's.
* V2 rows (``format_version=2``, skipped with ``--no-v2``), each against its
  own floor in the same run: the write of the same event mix against bare
  h5py writing the same V2 datasets from pre-built arrays
  (``benchmarks.floor_v2``, same rules as the V1 floor; its file is checked
  equal to spineh5's after the run), and reads of spineh5's V2 file against
  bare h5py reading the same datasets (``benchmarks.reads_v2``): full
  entries, the bulk table of one object product, and its fixed columns only.
  V2 MB/s counts the V2 payload (every dataset's new rows, offsets included).
* The checksum row (skipped with ``--no-checksum``): V1 written with
  ``HDF5Writer(checksum=True)`` (HDF5's Fletcher-32 filter on every dataset
  that takes it; the default, so the other spineh5 rows include it, and the
  floors do not) against ``checksum=False``, uncompressed, in rounds; the
  ratio is the rate with checksums over the rate without (elapsed and CPU).
* The native-vlen floor (issue 14): bare h5py writing the V1 compounds from
  ``hvl_t`` buffers built beforehand (one pool per vlen column,
  ``floor.native_batches``), and spineh5 against it; spineh5 with
  ``SPINEH5_NATIVE_VLEN=0`` (h5py converting every vlen cell) against the
  usual floor, with the native/h5py-vlen ratio.
* Compression rows (skipped with ``--no-compression``), V1 and V2: gzip-1,
  gzip-4, lzf and, with hdf5plugin installed, blosc2-lz4/zstd and
  bitshuffle-lz4/zstd: write rate, file size and the voxel read rate
  (``table`` of points and depositions), each against uncompressed in rounds.
  The benchmark mix quantises depositions (``benchmarks.mix``) so that sizes
  mean something.
* SPINE >= 1.4 rows (``benchmarks.spine_v2``, skipped with one line when its
  venv is absent or with ``--no-spine2``): SPINE's V2 writer and full-entry
  reader against spineh5's, timed in rounds in that venv.
* Analysis-array rows (skipped with ``--no-arrays``; :mod:`benchmarks.arrays`),
  V1 and V2: ``HDF5Reader.arrays(library="ak")`` of one object product, with
  all columns, with its fixed columns only, and opening the file plus one
  fixed column, against bare h5py reading the same datasets and building the
  same awkward arrays with numpy (checked equal, field by field). Each row
  shows its own target (issue 13): 0.8 (V2) / 0.6 (V1) with all columns, 0.9
  fixed columns only, 0.5 (within 2x) for the open plus one column.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

import h5py
import numpy as np

from spineh5 import synthetic
from spineh5.compression import PLUGINS, plugin_available
from spineh5.h5io_native import ENV_SWITCH as NATIVE_SWITCH

from . import collection_writes, floor, floor_v2, mix, reads, reads_v2, spine_ref, spine_v2
from .measure import (
    TARGET,
    Table,
    _timed_call,
    fmt_rate,
    fmt_ratio,
    interleaved,
    paired,
    peak_memory,
    peak_rss,
    timed,
    wall,
    write_spineh5,
)

READ_KEY = "reco_particles"
#: Issue 13's targets of the arrays rows, per layout: all columns, fixed columns, open + one fixed column (2x).
ARRAYS_TARGETS = {1: (0.6, 0.9, 0.5), 2: (0.8, 0.9, 0.5)}
COMPRESSIONS = (("gzip", 1), ("gzip", 4), ("lzf", None))
#: The hdf5plugin filters (rows only when hdf5plugin is installed: spineh5[compression]).
PLUGIN_COMPRESSIONS = tuple((name, None) for name in PLUGINS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=64, help="entries of the event mix (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="32 entries, 1 round, no compression rows")
    parser.add_argument("--no-compression", action="store_true", help="skip the compression rows")
    parser.add_argument("--no-checksum", action="store_true", help="skip the Fletcher-32 checksum row")
    parser.add_argument("--no-v2", action="store_true", help="skip the V2 (format_version=2) rows")
    parser.add_argument("--no-collections", action="store_true", help="skip the write-from-collections rows")
    parser.add_argument("--no-arrays", action="store_true", help="skip the analysis-array rows (HDF5Reader.arrays)")
    parser.add_argument("--production", action="store_true", help="add the Dask production rows (spineh5[dask])")
    parser.add_argument("--with-spine", action="store_true", help="add SPINE's own writer (slow; few entries)")
    parser.add_argument("--spine-entries", type=int, default=16, help="entries for --with-spine (default 16)")
    parser.add_argument(
        "--spine2-python",
        default=spine_v2.DEFAULT_PYTHON,
        help="interpreter of a SPINE >= 1.4 venv for the V2 comparison rows (skipped when absent)",
    )
    parser.add_argument("--no-spine2", action="store_true", help="skip the SPINE >= 1.4 V2 comparison rows")
    parser.add_argument("--dir", help="folder for the files (default: a temporary folder, removed at the end)")
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.repeat, args.no_compression, args.no_checksum = min(args.entries, 32), 1, True, True
    if args.entries < 1 or args.repeat < 1:
        parser.error("--entries and --repeat must be positive")
    return args


# -- timing ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = args.dir or tempfile.mkdtemp(prefix="spineh5-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        return run(args, folder)
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: str) -> int:
    started = time.perf_counter()
    entries, repeat = args.entries, args.repeat
    print(
        f"spineh5 benchmark: {entries} entries in batches of {mix.BATCH_SIZE}, median of {repeat} round(s); "
        f"python {platform.python_version()}, numpy {np.__version__}, h5py {h5py.__version__}, "
        f"HDF5 {h5py.version.hdf5_version}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    batches = mix.make_batches(entries)
    plain = [
        {key: [_plain(value) for value in values] if key in mix.OBJECT_CLASSES else values for key, values in b.items()}
        for b in batches
    ]
    arrays = [floor.build_arrays(batch, mix.KINDS) for batch in batches]
    native_arrays = floor.native_batches(arrays)  # the native-vlen floor's hvl_t buffers, built outside timing
    payloads = [floor.payload_bytes(a, len(b["index"])) for a, b in zip(arrays, batches)]
    megabytes = sum(payloads) / 1e6
    print(f"event mix built in {time.perf_counter() - started:.0f} s: {megabytes:.1f} MB of payload", flush=True)

    names = ("gen", "plain", "floor", "floor_ll", "floor_nv", "gen_h5py_vlen", "mem")
    paths = {name: os.path.join(folder, f"{name}.h5") for name in names}
    reference = os.path.join(folder, "reference.h5")
    write_spineh5(batches)(reference)  # warm-up; the layout template, the read file and the content check
    template = floor.describe_file(reference)

    runs = {
        "gen": lambda: timed(write_spineh5(batches), paths["gen"]),
        "plain": lambda: timed(write_spineh5(plain), paths["plain"]),
        "floor": lambda: timed(lambda path: floor.write_floor(path, arrays, template), paths["floor"]),
        "floor_ll": lambda: timed(
            lambda path: floor.write_floor(path, arrays, template, lowlevel=True), paths["floor_ll"]
        ),
        "floor_nv": lambda: timed(
            lambda path: floor.write_floor(path, native_arrays, template, lowlevel="native"), paths["floor_nv"]
        ),
        "gen_h5py_vlen": lambda: timed(_without_native(write_spineh5(batches)), paths["gen_h5py_vlen"]),
    }
    seconds = interleaved(runs, repeat)
    median = {name: wall(values) for name, values in seconds.items()}
    problems = floor.same_content(paths["gen"], paths["floor"]) + floor.same_content(paths["plain"], paths["floor"])
    problems += floor.same_content(paths["floor_ll"], paths["floor"])
    problems += floor.same_content(paths["floor_nv"], paths["floor"])
    problems += floor.same_content(paths["gen_h5py_vlen"], paths["floor"])

    table = Table()
    floor_rate = fmt_rate(entries, median["floor"], megabytes)
    for name, label in (("gen", "write, generated objects"), ("plain", "write, plain objects")):
        table.add(
            label,
            fmt_rate(entries, median[name], megabytes),
            floor_rate,
            fmt_ratio(paired(seconds["floor"], seconds[name]))
            + f"; cpu {paired(seconds['floor'], seconds[name], 'cpu'):.2f}",
        )
    table.add(
        "(floor variant: h5py low-level API)",
        fmt_rate(entries, median["floor_ll"], megabytes),
        floor_rate,
        fmt_ratio(paired(seconds["floor"], seconds["floor_ll"]), None)
        + f"; cpu {paired(seconds['floor'], seconds['floor_ll'], 'cpu'):.2f}",
    )

    table.add(
        "(floor variant: native vlen, hvl_t pools)",
        fmt_rate(entries, median["floor_nv"], megabytes),
        floor_rate,
        fmt_ratio(paired(seconds["floor"], seconds["floor_nv"]), None)
        + f"; cpu {paired(seconds['floor'], seconds['floor_nv'], 'cpu'):.2f}",
    )
    table.add(
        "write, generated objects vs native-vlen floor",
        fmt_rate(entries, median["gen"], megabytes),
        fmt_rate(entries, median["floor_nv"], megabytes),
        fmt_ratio(paired(seconds["floor_nv"], seconds["gen"]), None)
        + f"; cpu {paired(seconds['floor_nv'], seconds['gen'], 'cpu'):.2f}",
    )
    table.add(
        f"write, generated objects, {NATIVE_SWITCH}=0 (h5py vlen)",
        fmt_rate(entries, median["gen_h5py_vlen"], megabytes),
        floor_rate,
        fmt_ratio(paired(seconds["floor"], seconds["gen_h5py_vlen"]))
        + f"; native/h5py vlen {paired(seconds['gen_h5py_vlen'], seconds['gen']):.2f}",
    )

    add_read_rows(table, reads.read_cases(reference, READ_KEY), entries, repeat)
    array_problems = [] if args.no_arrays else add_arrays_rows(table, reference, 1, entries, repeat)

    v2 = None if args.no_v2 else run_v2(batches, folder, table, entries, repeat)
    if v2 is not None and not args.no_arrays:
        array_problems += add_arrays_rows(table, v2["reference"], 2, entries, repeat)

    if not args.no_collections:
        problems += collection_writes.add_rows(table, batches, folder, entries, repeat, with_v2=not args.no_v2)

    memory_batches = batches[: min(3, len(batches))]
    peak = peak_memory(memory_batches, paths["mem"])
    batch_payload = max(payloads[: len(memory_batches)])
    table.add(
        "peak memory while writing (tracemalloc)",
        f"{peak / 1e6:.1f} MB",
        f"one batch: {batch_payload / 1e6:.1f} MB",
        f"{peak / batch_payload:.2f}x (limit 3x)",
    )

    rss = peak_rss(write_spineh5(memory_batches), paths["mem"])
    memory_arrays = arrays[: len(memory_batches)]
    floor_rss = peak_rss(lambda path: floor.write_floor(path, memory_arrays, template), paths["mem"])
    if rss is not None and floor_rss is not None:
        table.add(
            "peak RSS while writing (incl. HDF5)",
            f"{rss / 1e6:.1f} MB",
            f"one batch: {batch_payload / 1e6:.1f} MB; floor: {floor_rss / 1e6:.1f} MB",
            f"{rss / batch_payload:.2f}x (limit 3x)",
        )

    size_plain = os.path.getsize(paths["gen"])
    if not args.no_compression:
        add_compression_rows(table, batches, folder, entries, repeat, (1,) if args.no_v2 else (1, 2))

    if not args.no_checksum:
        add_checksum_row(table, batches, folder, entries, repeat)

    if args.production:
        from . import production  # dask and distributed (spineh5[dask]) only when these rows run

        production.add_rows(table, folder, entries, repeat)

    spine_ok = None
    if args.with_spine and not spine_ref.available():
        print("--with-spine: SPINE is not installed here (pip install -e '.[spine]'); its row is left out")
    if spine_ref.available():
        if args.with_spine:
            count = min(args.spine_entries, entries)
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
        try:
            spine_ok = spine_ref.read_one_with_spine(reference)
        except Exception as err:  # noqa: BLE001 - reported, not raised
            spine_ok = f"FAILED: {err!r}"

    if not args.no_spine2 and not args.no_v2:
        add_spine2_rows(table, args, folder)

    print()
    print(table.render())
    print()
    print(
        "raw write runs, elapsed/cpu seconds:",
        {name: [f"{t.wall:.2f}/{t.cpu:.2f}" for t in values] for name, values in seconds.items()},
    )
    print(f"spineh5 file: {size_plain / 1e6:.1f} MB for {megabytes:.1f} MB of payload; ", end="")
    print("same content as the floor's file: " + ("yes" if not problems else "NO: " + "; ".join(problems)))
    if v2 is not None:
        print(
            "V2 raw write runs, elapsed/cpu seconds:",
            {name: [f"{t.wall:.2f}/{t.cpu:.2f}" for t in values] for name, values in v2["seconds"].items()},
        )
        print(f"spineh5 V2 file: {v2['size'] / 1e6:.1f} MB for {v2['megabytes']:.1f} MB of V2 payload; ", end="")
        print(
            "same content as the floor's V2 file: "
            + ("yes" if not v2["problems"] else "NO: " + "; ".join(v2["problems"]))
        )
    if not args.no_arrays:
        print(
            "arrays(library='ak') equal to the floor's arrays, field by field: "
            + ("yes" if not array_problems else "NO: " + "; ".join(array_problems))
        )
    if spine_ok is not None:
        print(f"SPINE's HDF5Reader reads spineh5's file: {spine_ok if isinstance(spine_ok, str) else 'yes'}")
    print(f"command: python -m benchmarks {' '.join(sys.argv[1:])}".rstrip())
    print(f"total time {time.perf_counter() - started:.0f} s")
    return 1 if problems or array_problems or (v2 is not None and v2["problems"]) else 0


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


def add_read_rows(
    table: Table,
    cases: list[tuple[str, Callable[[], object] | None, Callable[[], object]]],
    entries: int,
    repeat: int,
    target: float = TARGET,
) -> None:
    """Time each read case (spineh5 and bare h5py, interleaved) and add its row (ratio against ``target``)."""
    for label, ours, bare in cases:
        runs = {"bare": lambda bare=bare: _timed_call(bare)}
        if ours is not None:
            runs["ours"] = lambda ours=ours: _timed_call(ours)
        result = interleaved(runs, repeat)
        bare_median = wall(result["bare"])
        if ours is None:
            table.add(label, "n/a (no spineh5 reader)", fmt_rate(entries, bare_median), "-")
        else:
            table.add(
                label,
                fmt_rate(entries, wall(result["ours"])),
                fmt_rate(entries, bare_median),
                fmt_ratio(paired(result["bare"], result["ours"]), target),
            )


def add_arrays_rows(table: Table, path: str, version: int, entries: int, repeat: int) -> list[str]:
    """Add the ``arrays(library="ak")`` rows of one file (see :mod:`benchmarks.arrays`); return the differences."""
    from . import arrays as arrays_bench  # awkward (spineh5[analysis]) only when these rows run

    cases, problems = arrays_bench.read_cases(path, READ_KEY, version)
    for case, target in zip(cases, ARRAYS_TARGETS[version]):
        label, ours, bare = case
        add_read_rows(table, [(f"{label} [target {target}]", ours, bare)], entries, repeat, target)
    return problems


def run_v2(batches: list[dict], folder: str, table: Table, entries: int, repeat: int) -> dict:
    """Add the V2 rows: write against the V2 floor, then reads of spineh5's V2 file against bare h5py."""
    started = time.perf_counter()
    paths = {name: os.path.join(folder, f"{name}.h5") for name in ("v2_gen", "v2_floor", "v2_floor_ll")}
    reference = os.path.join(folder, "reference_v2.h5")
    write_spineh5(batches, format_version=2)(reference)  # warm-up; the layout template and the read file
    template = floor_v2.describe_file(reference)
    arrays = floor_v2.build_arrays(batches, template)
    megabytes = sum(floor_v2.payload_bytes(a) for a in arrays) / 1e6
    elapsed = time.perf_counter() - started
    print(f"V2 reference file and floor arrays built in {elapsed:.0f} s: {megabytes:.1f} MB of V2 payload", flush=True)

    runs = {
        "v2_gen": lambda: timed(write_spineh5(batches, format_version=2), paths["v2_gen"]),
        "v2_floor": lambda: timed(lambda path: floor_v2.write_floor(path, arrays, template), paths["v2_floor"]),
        "v2_floor_ll": lambda: timed(
            lambda path: floor_v2.write_floor(path, arrays, template, lowlevel=True), paths["v2_floor_ll"]
        ),
    }
    seconds = interleaved(runs, repeat)
    problems = floor_v2.same_content(paths["v2_gen"], paths["v2_floor"])
    problems += floor_v2.same_content(paths["v2_floor_ll"], paths["v2_floor"])
    floor_rate = fmt_rate(entries, wall(seconds["v2_floor"]), megabytes)
    table.add(
        "V2 write, generated objects",
        fmt_rate(entries, wall(seconds["v2_gen"]), megabytes),
        floor_rate,
        fmt_ratio(paired(seconds["v2_floor"], seconds["v2_gen"]))
        + f"; cpu {paired(seconds['v2_floor'], seconds['v2_gen'], 'cpu'):.2f}",
    )
    table.add(
        "(V2 floor variant: h5py low-level API)",
        fmt_rate(entries, wall(seconds["v2_floor_ll"]), megabytes),
        floor_rate,
        fmt_ratio(paired(seconds["v2_floor"], seconds["v2_floor_ll"]), None)
        + f"; cpu {paired(seconds['v2_floor'], seconds['v2_floor_ll'], 'cpu'):.2f}",
    )
    add_read_rows(table, reads_v2.read_cases(reference, READ_KEY), entries, repeat)
    if reads_v2.HDF5Reader is not None:
        cases, close = reads_v2.open_cases(reference, READ_KEY)
        try:
            add_read_rows(table, cases, entries, repeat)
        finally:
            close()
    size = os.path.getsize(paths["v2_gen"])
    return {"problems": problems, "seconds": seconds, "megabytes": megabytes, "size": size, "reference": reference}


def _without_native(write: Callable[[str], None]) -> Callable[[str], None]:
    """Return ``write`` run with spineh5's native vlen writes switched off (h5py converts every cell)."""

    def run(path: str) -> None:
        previous = os.environ.get(NATIVE_SWITCH)
        os.environ[NATIVE_SWITCH] = "0"
        try:
            write(path)
        finally:
            if previous is None:
                del os.environ[NATIVE_SWITCH]
            else:
                os.environ[NATIVE_SWITCH] = previous

    return run


def _plain(value):
    if isinstance(value, list):
        return [synthetic.to_plain(item) for item in value]
    return synthetic.to_plain(value)


if __name__ == "__main__":
    sys.exit(main())
