"""``spineh5.validation``: every rule broken by a mutated copy of a SPINE-written file, and the tolerated variants."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import FULL, HEAD_V1, HEAD_V2, LITE

from spineh5.validation import ERROR, RULES, WARNING, Problem, column_dtype_problem, is_sound, validate

# -- helpers: mutate copies of the SPINE file ------------------------------------------------------


def spans(h5file: h5py.File, key: str) -> list[tuple[int, int]]:
    """Return the ``[start, stop)`` rows each entry's region reference selects in ``key``."""
    out = []
    for ref in h5file["events"].fields(key)[:]:
        space = h5py.h5r.get_region(ref, h5file.id)
        if space.get_select_npoints() == 0:
            out.append((0, 0))
        else:
            start, end = space.get_select_bounds()
            out.append((start[0], end[0] + 1))
    return out


def set_refs(h5file: h5py.File, key: str, refs: list) -> None:
    rows = h5file["events"][:]
    for position, ref in enumerate(refs):
        rows[key][position] = ref
    h5file["events"][...] = rows


def replace_dataset(h5file: h5py.File, key: str, data: np.ndarray, **options) -> h5py.Dataset:
    """Replace a product dataset (keeping its attributes) and point the events at the new one."""
    regions = spans(h5file, key)
    attributes = dict(h5file[key].attrs)
    del h5file[key]
    new = h5file.create_dataset(key, data=data, maxshape=(None, *data.shape[1:]), **options)
    for name, value in attributes.items():
        new.attrs[name] = value
    set_refs(h5file, key, [new.regionref[a:b] for a, b in regions])
    return new


def retype(h5file: h5py.File, key: str, name: str, dtype, convert: Callable | None = None) -> None:
    """Rewrite a compound dataset with column ``name`` stored as ``dtype``."""
    rows = h5file[key][:]
    descr = [(n, dtype if n == name else rows.dtype[n]) for n in rows.dtype.names]
    new = np.empty(len(rows), dtype=descr)
    for n in rows.dtype.names:
        new[n] = convert(rows[n]) if n == name and convert else rows[n]
    replace_dataset(h5file, key, new)


def with_columns(h5file: h5py.File, key: str, names: list[str], extra: dict | None = None) -> None:
    """Rewrite a compound dataset keeping ``names`` (in that order) plus ``extra`` columns {name: (dtype, value)}."""
    rows = h5file[key][:]
    extra = extra or {}
    descr = [(n, rows.dtype[n]) for n in names] + [(n, dt) for n, (dt, _) in extra.items()]
    new = np.empty(len(rows), dtype=descr)
    for n in names:
        new[n] = rows[n]
    for n, (_, value) in extra.items():
        new[n] = value
    replace_dataset(h5file, key, new)


def edit(key: str, change: Callable[[np.ndarray], None]) -> Callable[[h5py.File], None]:
    """Return a mutation that edits the rows of ``key`` in place."""

    def mutate(h5file: h5py.File) -> None:
        rows = h5file[key][:]
        change(rows)
        h5file[key][...] = rows

    return mutate


def copy_of(tmp_path: Path, source: Path = FULL) -> Path:
    target = tmp_path / source.name
    shutil.copyfile(source, target)
    return target


def mutated(tmp_path: Path, mutate: Callable[[h5py.File], None], source: Path = FULL) -> Path:
    path = copy_of(tmp_path, source)
    with h5py.File(path, "r+") as h5file:
        mutate(h5file)
    return path


def rules(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.rule, p.severity) for p in problems}


# -- mutations, one per rule ------------------------------------------------------------------------


def set_attr(path: str, name: str, value, dtype=None) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        h5file[path].attrs.create(name, value, dtype=dtype)

    return mutate


def del_attr(path: str, name: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        del h5file[path].attrs[name]

    return mutate


def delete(path: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        del h5file[path]

    return mutate


def only_spine_version(h5file: h5py.File) -> None:
    h5file["info"].attrs["spine_version"] = h5file["info"].attrs["version"]
    del h5file["info"].attrs["version"]


def events_not_compound(h5file: h5py.File) -> None:
    del h5file["events"]
    h5file.create_dataset("events", data=np.arange(6))


def events_object_refs(h5file: h5py.File) -> None:
    rows = h5file["events"][:]
    descr = [(n, h5py.ref_dtype if n == "index" else rows.dtype[n]) for n in rows.dtype.names]
    new = np.empty(len(rows), dtype=descr)
    for n in rows.dtype.names:
        new[n] = [h5file["index"].ref] * len(rows) if n == "index" else rows[n]
    del h5file["events"]
    h5file.create_dataset("events", data=new)


def events_int_field(h5file: h5py.File) -> None:
    rows = h5file["events"][:]
    new = np.empty(len(rows), dtype=[*((n, rows.dtype[n]) for n in rows.dtype.names), ("count", np.int64)])
    for n in rows.dtype.names:
        new[n] = rows[n]
    new["count"] = 1
    del h5file["events"]
    h5file.create_dataset("events", data=new)


def extra_root_group(h5file: h5py.File) -> None:
    h5file.create_group("source").attrs["note"] = "StageHDF5Writer cache"


def three_d_product(h5file: h5py.File) -> None:
    replace_dataset(h5file, "seg_label", np.zeros((1200, 1, 1), dtype=np.int64))


def fixed_length_class_name(h5file: h5py.File) -> None:
    h5file["reco_particles"].attrs["class_name"] = np.bytes_(b"RecoParticle")


def extra_column(name: str) -> Callable[[h5py.File], None]:
    def mutate(h5file: h5py.File) -> None:
        names = list(h5file["reco_particles"].dtype.names)
        with_columns(h5file, "reco_particles", names, {name: (np.int64, -1)})

    return mutate


def fixed_wrong_length(h5file: h5py.File) -> None:
    retype(h5file, "reco_particles", "start_point", np.dtype((np.float32, (4,))), lambda v: np.pad(v, ((0, 0), (0, 1))))


def float_ids(h5file: h5py.File) -> None:
    retype(h5file, "reco_particles", "id", np.float64, lambda v: v.astype(np.float64))


def int_lengths(h5file: h5py.File) -> None:
    retype(h5file, "reco_particles", "length", np.int64, lambda v: np.nan_to_num(v).astype(np.int64))


def vlen_as_scalar(h5file: h5py.File) -> None:
    retype(h5file, "reco_particles", "match_ids", np.int64, lambda v: np.zeros(len(v), np.int64))


def bad_units(rows: np.ndarray) -> None:
    rows["units"][0] = "mm"


def inconsistent_meta(rows: np.ndarray) -> None:
    rows["upper"][1] += 10.0


def null_ref(h5file: h5py.File) -> None:
    refs = list(h5file["events"].fields("points")[:])
    refs[2] = h5py.RegionReference()
    set_refs(h5file, "points", refs)


def dangling_refs(h5file: h5py.File) -> None:
    values, attributes = h5file["points"][:], dict(h5file["points"].attrs)
    del h5file["points"]
    h5file.create_group("spacer")  # takes the freed address, so old references resolve to nothing
    new = h5file.create_dataset("points", data=values, maxshape=(None, 3))
    for name, value in attributes.items():
        new.attrs[name] = value
    del h5file["spacer"]


def ref_into_other_dataset(h5file: h5py.File) -> None:
    refs = list(h5file["events"].fields("points")[:])
    refs[1] = h5file["depositions"].regionref[0:10]
    set_refs(h5file, "points", refs)


def shrunk_points(h5file: h5py.File) -> None:
    h5file["points"].resize((1000, 3))


def empty_scalar_region(h5file: h5py.File) -> None:
    refs = list(h5file["events"].fields("run_info")[:])
    refs[2] = h5file["run_info"].regionref[0:0]
    set_refs(h5file, "run_info", refs)


def index_ref_into_other_dataset(h5file: h5py.File) -> None:
    index = h5file["clusts/index"]
    rows = index[:]
    rows[0] = h5file["points"].regionref[0:3]
    index[...] = rows


def run_info_without_subrun(h5file: h5py.File) -> None:
    with_columns(h5file, "run_info", ["run", "event"])


def run_info_extra_row(h5file: h5py.File) -> None:
    h5file["run_info"].resize((7,))


def duplicate_triplets(rows: np.ndarray) -> None:
    rows["event"][1] = rows["event"][0]
    rows["subrun"][1] = rows["subrun"][0]


def unreadable_run_info(h5file: h5py.File) -> None:
    """Store run_info in an external raw file that does not exist: reading its rows fails."""
    regions = spans(h5file, "run_info")
    rows = h5file["run_info"][:]
    attributes = dict(h5file["run_info"].attrs)
    del h5file["run_info"]
    gone = Path(h5file.filename).with_name("gone.bin")
    new = h5file.create_dataset("run_info", shape=rows.shape, dtype=rows.dtype, external=[(str(gone), 0, 1 << 20)])
    for name, value in attributes.items():
        new.attrs[name] = value
    set_refs(h5file, "run_info", [new.regionref[a:b] for a, b in regions])
    assert not gone.exists()


#: (rule, severity, mutation of the f31056c8 file)
def unfinished_batch(f: h5py.File) -> None:
    """A writer killed inside a batch: ``events`` rows never written (null references), not complete."""
    f["events"].resize(f["events"].shape[0] + 2, axis=0)
    f["info"].attrs["complete"] = np.bool_(False)


BROKEN: list[tuple[str, str, Callable[[h5py.File], None]]] = [
    ("info.missing", ERROR, delete("info")),
    ("info.cfg.missing", ERROR, del_attr("info", "cfg")),
    ("info.cfg.type", ERROR, set_attr("info", "cfg", np.bytes_(b"base:\n  seed: 5\n"))),
    ("info.cfg.yaml", ERROR, set_attr("info", "cfg", "a: b: c")),
    ("info.cfg.yaml", WARNING, set_attr("info", "cfg", "a: [1, 2")),
    ("info.version.missing", ERROR, del_attr("info", "version")),
    ("info.version.type", ERROR, set_attr("info", "version", np.bytes_(b"0.14.1"))),
    ("info.version.spine_only", WARNING, only_spine_version),
    ("info.incomplete", ERROR, set_attr("info", "complete", np.bool_(False))),
    ("info.format_version", ERROR, set_attr("info", "format_version", np.int64(2))),
    ("info.format_version", ERROR, set_attr("info", "format_version", np.int64(7))),
    ("info.schema_version", WARNING, set_attr("info", "schema_version", np.int64(99))),
    ("events.missing", ERROR, delete("events")),
    ("events.type", ERROR, events_not_compound),
    ("events.field", ERROR, events_object_refs),
    ("events.field", ERROR, events_int_field),
    ("events.key_missing", ERROR, delete("flashes")),
    ("root.extra", ERROR, extra_root_group),
    ("product.type", ERROR, three_d_product),
    ("product.scalar.missing", ERROR, del_attr("reco_particles", "scalar")),
    ("product.scalar.missing", ERROR, del_attr("points", "scalar")),
    ("product.scalar.type", ERROR, set_attr("run_info", "scalar", "yes")),
    ("class.missing", ERROR, del_attr("reco_particles", "class_name")),
    ("class.type", ERROR, fixed_length_class_name),
    ("class.unknown", ERROR, set_attr("reco_particles", "class_name", "RecoParticel")),
    ("class.later", WARNING, set_attr("reco_particles", "class_name", "ParticleLabel")),
    ("column.unknown", ERROR, extra_column("bogus")),
    ("column.later", WARNING, extra_column("best_match_id")),
    ("column.dtype", ERROR, fixed_wrong_length),
    ("column.dtype", ERROR, float_ids),
    ("column.dtype", ERROR, vlen_as_scalar),
    ("column.dtype", WARNING, int_lengths),
    ("value.units", ERROR, edit("reco_particles", bad_units)),
    ("value.meta", ERROR, edit("meta", inconsistent_meta)),
    ("group.index", ERROR, delete("clusts/index")),
    ("group.elements", ERROR, delete("clusts/elements")),
    ("ref.null", ERROR, null_ref),
    ("ref.unresolved", ERROR, dangling_refs),
    ("ref.target", ERROR, ref_into_other_dataset),
    ("ref.target", ERROR, index_ref_into_other_dataset),
    ("ref.outside", ERROR, shrunk_points),
    ("ref.scalar_empty", ERROR, empty_scalar_region),
    ("run_info.columns", WARNING, run_info_without_subrun),
    ("run_info.rows", ERROR, run_info_extra_row),
    ("run_info.duplicate", ERROR, edit("run_info", duplicate_triplets)),
    ("read.failed", ERROR, unreadable_run_info),
    ("file.unfinished_batch", ERROR, unfinished_batch),
]

#: Rules broken by whole files rather than by a mutation (tested below).
FILE_RULES = {"file.unreadable"}


def test_every_rule_has_a_breaking_file() -> None:
    """Every V1 rule here; the V2 rules (``v2.*``) in test_validate_v2.py."""
    assert {rule for rule, _, _ in BROKEN} | FILE_RULES == {rule for rule in RULES if not rule.startswith("v2.")}


@pytest.mark.parametrize(
    ("rule", "severity", "mutate"),
    BROKEN,
    ids=[f"{rule}-{severity}-{mutate.__name__}" for rule, severity, mutate in BROKEN],
)
def test_rule_is_reported(tmp_path: Path, rule: str, severity: str, mutate: Callable) -> None:
    problems = validate(mutated(tmp_path, mutate))
    assert (rule, severity) in rules(problems), "\n".join(map(str, problems))
    assert is_sound(problems) is (severity == WARNING and all(p.severity == WARNING for p in problems))
    assert not is_sound(problems, strict=True)


# -- sound files and tolerated variants ----------------------------------------------------------------


@pytest.mark.parametrize("source", [FULL, LITE], ids=["full", "lite"])
def test_spine_files_are_sound(source: Path) -> None:
    assert validate(source) == []


def test_later_spine_release_gives_only_warnings() -> None:
    problems = validate(HEAD_V1)
    assert problems
    assert {p.rule for p in problems} == {"column.later"}
    assert is_sound(problems)
    assert not is_sound(problems, strict=True)
    assert any("first_step_t" in p.message and p.where == "/truth_particles" for p in problems)


def test_v2_layout_is_checked_as_v2() -> None:
    problems = validate(HEAD_V2)
    assert {(p.rule, p.severity) for p in problems} == {("column.later", WARNING)}
    assert all(p.where.startswith("/products/") for p in problems)


def meta_class_name(h5file: h5py.File) -> None:
    h5file["meta"].attrs["class_name"] = "Meta"


def ascii_strings(h5file: h5py.File) -> None:
    info = h5file["info"].attrs
    info.create("cfg", info["cfg"], dtype=h5py.string_dtype("ascii"))
    h5file["reco_particles"].attrs.create("class_name", "RecoParticle", dtype=h5py.string_dtype("ascii"))


def info_as_dataset(h5file: h5py.File) -> None:
    attributes = dict(h5file["info"].attrs)
    del h5file["info"]
    info = h5file.create_dataset("info", shape=(0,), dtype=np.int64)
    for name, value in attributes.items():
        info.attrs[name] = value


def tolerated_dtypes(h5file: h5py.File) -> None:
    retype(h5file, "reco_particles", "is_primary", np.uint8, lambda v: v.astype(np.uint8))
    retype(h5file, "reco_particles", "calo_ke", np.float32, lambda v: v.astype(np.float32))
    retype(h5file, "reco_particles", "interaction_id", np.int32, lambda v: v.astype(np.int32))
    retype(h5file, "reco_particles", "shape", np.int64, lambda v: np.asarray(v, np.int64))
    retype(h5file, "reco_particles", "units", "S8", lambda v: np.array(list(v), dtype="S8"))
    vlen64 = h5py.vlen_dtype(np.int64)
    retype(h5file, "reco_particles", "match_ids", vlen64, lambda v: _objects([a.astype(np.int64) for a in v]))


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def reversed_and_dropped_columns(h5file: h5py.File) -> None:
    names = [n for n in h5file["reco_particles"].dtype.names if n not in ("cathode_offset", "match_ids", "size", "ke")]
    with_columns(h5file, "reco_particles", names[::-1])


TOLERATED = [
    del_attr("info", "complete"),
    set_attr("info", "complete", np.int8(1)),
    set_attr("info", "format_version", np.int64(1)),
    set_attr("reco_particles", "scalar", np.uint8(0)),
    meta_class_name,
    ascii_strings,
    info_as_dataset,
    tolerated_dtypes,
    reversed_and_dropped_columns,
]


@pytest.mark.parametrize("mutate", TOLERATED, ids=[m.__name__ for m in TOLERATED])
def test_what_spine_tolerates_is_sound(tmp_path: Path, mutate: Callable) -> None:
    problems = validate(mutated(tmp_path, mutate))
    assert problems == [], "\n".join(map(str, problems))


# -- files that are not HDF5 -------------------------------------------------------------------------------


def test_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("not an HDF5 file\n")
    problems = validate(path)
    assert [(p.rule, p.severity) for p in problems] == [("file.unreadable", ERROR)]
    assert "not an HDF5 file" in problems[0].message


def test_truncated(tmp_path: Path) -> None:
    path = tmp_path / "truncated.h5"
    path.write_bytes(FULL.read_bytes()[: FULL.stat().st_size // 2])
    (problem,) = validate(path)
    assert problem.rule == "file.unreadable"
    assert "truncated" in problem.message
    assert "\n" not in problem.message


@pytest.mark.parametrize("name", ["missing.h5", "empty.h5", "folder"])
def test_missing_empty_and_directory(tmp_path: Path, name: str) -> None:
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "folder").mkdir()
    (problem,) = validate(tmp_path / name)
    assert problem.rule == "file.unreadable"


# -- details ---------------------------------------------------------------------------------------------


def test_problem_text_names_severity_place_and_rule() -> None:
    problem = Problem(ERROR, "/info", "info.cfg.missing", "no cfg")
    assert str(problem) == "error: /info: no cfg [info.cfg.missing]"


def test_every_problem_is_listed(tmp_path: Path) -> None:
    def several(h5file: h5py.File) -> None:
        del h5file["info"].attrs["cfg"]
        del h5file["info"].attrs["version"]
        h5file["info"].attrs["complete"] = False
        extra_root_group(h5file)
        shrunk_points(h5file)

    found = {p.rule for p in validate(mutated(tmp_path, several))}
    assert {"info.cfg.missing", "info.version.missing", "info.incomplete", "root.extra", "ref.outside"} <= found


def test_outside_lists_the_entries(tmp_path: Path) -> None:
    (problem,) = [p for p in validate(mutated(tmp_path, shrunk_points)) if p.rule == "ref.outside"]
    assert problem.where == "/points"
    assert "entries 5" in problem.message or "entry 5" in problem.message


def test_class_hint_suggests_the_close_name(tmp_path: Path) -> None:
    problems = validate(mutated(tmp_path, set_attr("reco_particles", "class_name", "RecoParticel")))
    assert any("did you mean 'RecoParticle'" in p.message for p in problems)


@pytest.mark.parametrize(
    ("dtype", "verdict"),
    [
        (np.dtype(np.float32), None),
        (np.dtype(np.int64), WARNING),
        (np.dtype(np.bool_), ERROR),
        (h5py.string_dtype(), ERROR),
        (np.dtype((np.float64, (3,))), ERROR),
        (h5py.vlen_dtype(np.float64), ERROR),
    ],
)
def test_dtype_tolerance_of_a_float_column(dtype: np.dtype, verdict: str | None) -> None:
    from spineh5.generated import RecoParticle

    column = {c.name: c for c in RecoParticle.COLUMNS}["calo_ke"]
    result = column_dtype_problem(column, dtype)
    assert (result[0] if result else None) == verdict


def test_written_by_spineh5_is_sound(tmp_path: Path) -> None:
    writer = pytest.importorskip("spineh5.writer")
    from spineh5.synthetic import make_batches

    path = tmp_path / "synthetic.h5"
    with writer.HDF5Writer(file_name=str(path), overwrite=True) as out:
        for batch in make_batches(5, batch_size=2, scale=0.01):
            out(batch, {"test": True})
    assert validate(path) == []
