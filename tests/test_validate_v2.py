"""``spineh5.validation`` on V2 files: every V2 rule broken by a mutated copy, and what SPINE tolerates."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from conftest import HEAD_V2, spine_v2_file
from conftest import every_case_batch as make_batch
from conftest import write_every_case as write

from spineh5.validation import ERROR, RULES, WARNING, Problem, is_sound, validate

P = "products"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our V2 file of every storage case: 3 entries (entry 1 has every list empty)."""
    return write(tmp_path_factory.mktemp("v2") / "base.h5", [make_batch(0, 3)])


def mutated(source: Path, tmp_path: Path, mutate: Callable[[h5py.File], None]) -> Path:
    path = tmp_path / "mutated.h5"
    shutil.copyfile(source, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        mutate(h5file)
    return path


def rules(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.rule, p.severity) for p in problems}


# -- mutations ----------------------------------------------------------------------------------------------


def set_attr(path: str, name: str, value: Any) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        h5file[path].attrs[name] = value

    mutate.__name__ = f"set_{path.replace('/', '_')}_{name}"
    return mutate


def del_attr(path: str, name: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        del h5file[path].attrs[name]

    mutate.__name__ = f"del_{path.replace('/', '_')}_{name}"
    return mutate


def delete(path: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        del h5file[path]

    mutate.__name__ = f"delete_{path.replace('/', '_')}"
    return mutate


def replace(h5file: h5py.File, path: str, data: np.ndarray) -> None:
    """Replace a dataset by ``data`` (resizable, chunked), keeping its attributes."""
    attributes = dict(h5file[path].attrs)
    del h5file[path]
    new = h5file.create_dataset(path, data=data, maxshape=(None, *data.shape[1:]), chunks=True)
    for name, value in attributes.items():
        new.attrs[name] = value


def edit(path: str, change: Callable[[np.ndarray], Any]) -> Callable[[h5py.File], None]:
    """Rewrite a dataset with ``change(values)`` (which may edit in place and return None)."""

    def mutate(h5file: h5py.File) -> None:
        values = h5file[path][()]
        result = change(values)
        replace(h5file, path, values if result is None else np.asarray(result))

    mutate.__name__ = f"edit_{path.replace('/', '_')}"
    return mutate


def setitem(index: Any, value: Any) -> Callable[[np.ndarray], None]:
    def change(values: np.ndarray) -> None:
        values[index] = value

    return change


def rename(path: str, new: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        h5file.move(path, new)

    mutate.__name__ = f"rename_{path.replace('/', '_')}"
    return mutate


def fixed_columns(key: str, keep: Callable[[str], bool], extra: dict | None = None, retype: dict | None = None):
    """Rewrite ``products/<key>/fixed`` keeping some columns, retyping some, adding ``extra`` {name: (dtype, value)}."""

    def mutate(h5file: h5py.File) -> None:
        rows = h5file[f"{P}/{key}/fixed"][()]
        retyped = retype or {}
        descr = [(n, retyped.get(n, (rows.dtype[n],))[0]) for n in rows.dtype.names if keep(n)]
        descr += [(n, dt) for n, (dt, _) in (extra or {}).items()]
        new = np.zeros(len(rows), dtype=descr)
        for n in rows.dtype.names:
            if keep(n):
                new[n] = retyped[n][1](rows[n]) if n in retyped else rows[n]
        for n, (_, value) in (extra or {}).items():
            new[n] = value
        replace(h5file, f"{P}/{key}/fixed", new)

    mutate.__name__ = f"fixed_columns_{key}"
    return mutate


def events_group(h5file: h5py.File) -> None:
    del h5file["events"]
    h5file.create_group("events")


def stray_dataset(h5file: h5py.File) -> None:
    h5file[P].create_dataset("notes", data=[1, 2])


def junk_before_values(h5file: h5py.File) -> None:
    """Five junk rows before ``seg``'s values, offsets shifted: SPINE reads the same values."""
    replace(h5file, f"{P}/seg/values", np.concatenate([np.full(5, -7), h5file[f"{P}/seg/values"][()]]))
    replace(h5file, f"{P}/seg/event_offsets", h5file[f"{P}/seg/event_offsets"][()] + 5)


def reverse_entry_0(h5file: h5py.File) -> None:
    """The rows of entry 0 of reco_particles in reverse order: their pool spans decrease (SPINE misreads)."""
    fixed = h5file[f"{P}/reco_particles/fixed"]
    start, stop = h5file[f"{P}/reco_particles/event_offsets"][:2]
    fixed[start:stop] = fixed[start:stop][::-1]


def grow(path: str, rows: int) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        dataset = h5file[path]
        dataset.resize(dataset.shape[0] + rows, axis=0)

    mutate.__name__ = f"grow_{path.replace('/', '_')}"
    return mutate


def mm_units(h5file: h5py.File) -> None:
    values = h5file[f"{P}/reco_particles/variables/pool_0/values"]
    data = values[()]
    data[:2] = np.frombuffer(b"mm", np.uint8)
    values[...] = data


def vlen_column(h5file: h5py.File) -> None:
    fixed_columns("run_info", lambda n: True, {"notes": (h5py.string_dtype(), "x")})(h5file)


def inconsistent_meta(h5file: h5py.File) -> None:
    rows = h5file[f"{P}/meta/fixed"][()]
    rows["upper"][1] += 10.0
    h5file[f"{P}/meta/fixed"][...] = rows


def duplicate_runs(h5file: h5py.File) -> None:
    rows = h5file[f"{P}/run_info/fixed"][()]
    rows["event"] = 0
    h5file[f"{P}/run_info/fixed"][...] = rows


def unreadable_fixed(h5file: h5py.File) -> None:
    """``run_info/fixed`` stored in an external raw file that does not exist: reading its rows fails."""
    path = f"{P}/run_info/fixed"
    rows = h5file[path][()]
    del h5file[path]
    gone = Path(h5file.filename).with_name("gone.bin")
    h5file.create_dataset(path, shape=rows.shape, dtype=rows.dtype, external=[(str(gone), 0, 1 << 20)])


def cut_character(h5file: h5py.File) -> None:
    """Entries of ``name`` are 'a', 'bé', '': move a boundary into the two bytes of 'é'."""
    offsets = h5file[f"{P}/name/event_offsets"]
    data = offsets[()]
    data[2] -= 1
    offsets[...] = data


def typed_without_child(h5file: h5py.File) -> None:
    h5file[f"{P}/points"].attrs["product_metadata"] = "coordinate_width: 3\nhas_meta: true\nproduct_type: tensor\n"


def no_elements(h5file: h5py.File) -> None:
    del h5file[f"{P}/jag/element_0"]
    del h5file[f"{P}/jag/element_1"]


def long_fields(h5file: h5py.File) -> None:
    pool = h5file[f"{P}/reco_particles/variables/pool_2"]
    pool.attrs["fields"] = pool.attrs["fields"] + "- extra\n"


RP = f"{P}/reco_particles"

#: (rule, severity, mutation of our V2 file)
BROKEN: list[tuple[str, str, Callable[[h5py.File], None]]] = [
    ("v2.format_version.type", WARNING, set_attr("info", "format_version", "2")),
    ("v2.format_version.type", WARNING, set_attr("info", "format_version", 2.0)),
    ("v2.format_version.missing", ERROR, del_attr("info", "format_version")),
    ("v2.info.format", WARNING, del_attr("info", "format")),
    ("v2.events.type", ERROR, events_group),
    ("v2.events.values", WARNING, edit("events", lambda v: v[::-1])),
    ("v2.events.values", WARNING, edit("events", lambda v: v.astype(np.float64))),
    ("v2.products.missing", ERROR, delete(P)),
    ("v2.product.type", ERROR, stray_dataset),
    ("v2.kind", ERROR, del_attr(f"{P}/points", "kind")),
    ("v2.kind", ERROR, set_attr(f"{P}/points", "kind", "future")),
    ("v2.kind", ERROR, set_attr(f"{P}/points", "kind", 1)),
    ("v2.dataset.missing", ERROR, delete(f"{P}/points/event_offsets")),
    ("v2.dataset.missing", ERROR, delete(f"{RP}/fixed")),
    ("v2.dataset.missing", ERROR, delete(f"{P}/clusts/element_offsets")),
    ("v2.values.type", ERROR, edit(f"{P}/name/values", lambda v: v.astype(np.float64))),
    ("v2.values.type", ERROR, edit(f"{P}/points/values", lambda v: v.reshape(-1, 3, 1))),
    ("v2.values.type", ERROR, edit(f"{RP}/fixed", lambda v: v["id"])),
    ("v2.vlen", WARNING, vlen_column),
    ("v2.offsets.type", WARNING, edit(f"{P}/points/event_offsets", lambda v: v.astype(np.int32))),
    ("v2.offsets.type", ERROR, edit(f"{P}/points/event_offsets", lambda v: v.reshape(-1, 1))),
    ("v2.events.count", ERROR, edit(f"{P}/points/event_offsets", lambda v: v[:-1])),
    ("v2.events.count", ERROR, grow("events", 1)),
    ("v2.offsets.count", ERROR, edit(f"{P}/clusts/element_offsets", lambda v: np.append(v, v[-1]))),
    ("v2.offsets.start", WARNING, junk_before_values),
    ("v2.offsets.order", ERROR, reverse_entry_0),
    ("v2.offsets.order", ERROR, edit(f"{P}/seg/event_offsets", setitem(1, 3))),
    ("v2.offsets.range", ERROR, edit(f"{P}/points/event_offsets", setitem(-1, 5000))),
    ("v2.offsets.range", ERROR, edit(f"{P}/clusts/element_offsets", setitem(-1, 5000))),
    ("v2.offsets.cover", WARNING, grow(f"{P}/points/values", 2)),
    ("v2.offsets.cover", WARNING, grow(f"{RP}/variables/pool_1/values", 2)),
    ("v2.scalar.rows", ERROR, edit(f"{P}/run_info/event_offsets", setitem(1, 0))),
    ("v2.scalar.rows", WARNING, edit(f"{P}/run_info/event_offsets", setitem(1, 2))),
    ("v2.string.utf8", ERROR, edit(f"{P}/crthits/variables/pool_0/values", setitem(0, 0xFF))),
    ("v2.string.utf8", ERROR, cut_character),
    ("v2.variables", ERROR, delete(f"{RP}/variables")),
    ("v2.pool", ERROR, set_attr(f"{RP}/variables/pool_1", "fields", "index,orig_index")),
    ("v2.pool", ERROR, rename(f"{RP}/variables/pool_1", f"{RP}/variables/p1")),
    ("v2.pool", ERROR, del_attr(f"{RP}/variables/pool_1", "kind")),
    ("v2.pool", ERROR, delete(f"{RP}/variables/pool_1/values")),
    ("v2.pool.column", ERROR, rename(f"{RP}/variables/pool_1", f"{RP}/variables/pool_7")),
    ("v2.pool.column", WARNING, rename(f"{RP}/variables/pool_1", f"{RP}/variables/pool_7")),
    ("v2.pool.column", ERROR, long_fields),
    ("v2.elements", ERROR, rename(f"{P}/jag/element_1", f"{P}/jag/element_x")),
    ("v2.elements", WARNING, no_elements),
    ("v2.product_metadata", ERROR, set_attr(f"{P}/points", "product_metadata", "product_type: future\n")),
    ("v2.product_metadata", ERROR, typed_without_child),
    # rules shared with V1, checked in the V2 layout
    ("events.missing", ERROR, delete("events")),
    ("info.cfg.missing", ERROR, del_attr("info", "cfg")),
    ("info.incomplete", ERROR, set_attr("info", "complete", np.bool_(False))),
    ("root.extra", WARNING, lambda h5file: h5file.create_group("source")),
    ("product.scalar.missing", ERROR, del_attr(f"{P}/name", "scalar")),
    ("product.scalar.type", ERROR, set_attr(f"{P}/run_info", "scalar", "yes")),
    ("class.missing", ERROR, del_attr(RP, "class_name")),
    ("class.type", ERROR, set_attr(RP, "class_name", 5)),
    ("class.unknown", ERROR, set_attr(RP, "class_name", "RecoParticel")),
    ("class.later", WARNING, set_attr(RP, "class_name", "FlashHypothesis")),
    ("column.unknown", WARNING, fixed_columns("reco_particles", lambda n: True, {"bogus": (np.int64, -1)})),
    ("column.later", WARNING, fixed_columns("reco_particles", lambda n: True, {"best_match_id": (np.int64, -1)})),
    (
        "column.dtype",
        ERROR,
        fixed_columns(
            "reco_particles", lambda n: True, retype={"start_point": ((np.float32, (2,)), lambda v: v[:, :2])}
        ),
    ),
    ("value.units", ERROR, mm_units),
    ("value.meta", ERROR, inconsistent_meta),
    ("run_info.columns", WARNING, fixed_columns("run_info", lambda n: n != "subrun")),
    ("run_info.rows", ERROR, edit(f"{P}/run_info/event_offsets", setitem(1, 2))),
    ("run_info.duplicate", ERROR, duplicate_runs),
    ("read.failed", ERROR, unreadable_fixed),
]


def test_every_v2_rule_has_a_breaking_file() -> None:
    assert {rule for rule, _, _ in BROKEN} >= {rule for rule in RULES if rule.startswith("v2.")}


@pytest.mark.parametrize(
    ("rule", "severity", "mutate"),
    BROKEN,
    ids=[f"{rule}-{severity}-{getattr(mutate, '__name__', 'lambda')}" for rule, severity, mutate in BROKEN],
)
def test_rule_is_reported(base: Path, tmp_path: Path, rule: str, severity: str, mutate: Callable) -> None:
    problems = validate(mutated(base, tmp_path, mutate))
    assert (rule, severity) in rules(problems), "\n".join(map(str, problems))
    assert not is_sound(problems, strict=True)
    if severity == ERROR:
        assert not is_sound(problems)


# -- sound files -------------------------------------------------------------------------------------------


def test_our_v2_files_are_sound(base: Path, tmp_path: Path) -> None:
    assert validate(base) == []
    appended = write(tmp_path / "appended.h5", [make_batch(0, 4)])
    write(appended, [make_batch(4, 3)], append=True)
    assert validate(appended) == []
    assert validate(write(tmp_path / "lite.h5", [make_batch(0, 3)], lite=True)) == []


def test_head_v2_fixture_gives_only_later_column_warnings() -> None:
    problems = validate(HEAD_V2)
    assert {p.rule for p in problems} == {"column.later"}
    assert is_sound(problems) and not is_sound(problems, strict=True)
    assert any("first_step_t" in p.message and p.where == "/products/truth_particles" for p in problems)


def swap_pools(h5file: h5py.File) -> None:
    """Swap pools 1 and 2 of reco_particles together with their helper columns."""
    variables = h5file[f"{RP}/variables"]
    variables.move("pool_1", "tmp")
    variables.move("pool_2", "pool_1")
    variables.move("tmp", "pool_2")
    rows = h5file[f"{RP}/fixed"][()]
    names = list(rows.dtype.names)
    descr = [
        (n, rows.dtype["_var_offsets_2" if n == "_var_offsets_1" else "_var_offsets_1" if n == "_var_offsets_2" else n])
        for n in names
    ]
    new = np.empty(len(rows), dtype=descr)
    for n in names:
        source = {"_var_offsets_1": "_var_offsets_2", "_var_offsets_2": "_var_offsets_1"}.get(n, n)
        new[n] = rows[source]
    replace(h5file, f"{RP}/fixed", new)


TOLERATED = [
    del_attr("info", "complete"),
    set_attr(f"{P}/points", "kind", np.bytes_(b"array")),
    set_attr(RP, "class_name", np.bytes_(b"RecoParticle")),
    set_attr(
        f"{RP}/variables/pool_1", "fields", "[index, orig_index, match_ids, fragment_ids, crt_ids, ppn_ids, module_ids]"
    ),
    rename(f"{RP}/variables/pool_1", f"{RP}/variables/foo_1"),
    rename(f"{P}/jag/element_1", f"{P}/jag/element_5"),
    del_attr(f"{P}/clusts", "scalar"),
    set_attr(f"{P}/meta", "class_name", "Meta"),
    swap_pools,
]


@pytest.mark.parametrize("mutate", TOLERATED, ids=[m.__name__ for m in TOLERATED])
def test_what_spine_tolerates_is_sound(base: Path, tmp_path: Path, mutate: Callable) -> None:
    problems = validate(mutated(base, tmp_path, mutate))
    assert problems == [], "\n".join(map(str, problems))


def test_problems_name_the_product_and_the_entries(base: Path, tmp_path: Path) -> None:
    problems = validate(mutated(base, tmp_path, edit(f"{P}/run_info/event_offsets", setitem(1, 0))))
    (problem,) = [p for p in problems if p.rule == "v2.scalar.rows" and p.severity == ERROR]
    assert problem.where == "/products/run_info" and "entry 0" in problem.message
    problems = [p for p in validate(mutated(base, tmp_path, reverse_entry_0)) if p.rule == "v2.offsets.order"]
    assert len(problems) == 3, "one per pool"
    assert all(p.where == "/products/reco_particles" and "row 1:" in p.message for p in problems)


def test_child_products_of_typed_products_are_checked(base: Path, tmp_path: Path) -> None:
    def typed(h5file: h5py.File) -> None:
        typed_without_child(h5file)
        h5file.copy(h5file[f"{P}/meta"], h5file[f"{P}/points"], name="meta")
        offsets = h5file[f"{P}/points/meta/event_offsets"]
        offsets.resize((3,))

    problems = validate(mutated(base, tmp_path, typed))
    assert ("v2.events.count", "/products/points/meta") in {(p.rule, p.where) for p in problems}
    assert all(p.where == "/products/points/meta" for p in problems), problems


def test_spine_v2_writer_output_is_sound(tmp_path: Path) -> None:
    """A file SPINE's own V2 writer (SPINE >= 1.4) writes has only warnings for its later-release columns."""
    problems = validate(spine_v2_file(tmp_path / "spine_v2.h5"))
    assert {(p.rule, p.severity) for p in problems} <= {("column.later", WARNING)}, problems
