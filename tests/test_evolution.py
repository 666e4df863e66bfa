"""Schema evolution on read: committed old-schema files read with newer test schemas, field by field.

The fixtures ``tests/data/evolution/evo_old_v{1,2}.h5`` were written by the current writer with the
test schema ``tests/schemas/evo_old`` (``tests/make_evolution_fixtures.py``). The newer test schemas
beside it add, remove, rename and widen fields, rename a class (``evo_new``), narrow a field without
a rule (``evo_narrow``) and with one (``evo_cast``).
"""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from evolution_support import OLD_CLUSTERS, OLD_FILES, OLD_TRACKS, SCHEMAS, using, write_old_fixtures

from spineh5 import HDF5Reader, SchemaEvolutionError, UnknownColumnsWarning
from spineh5.codegen.load import load_schema
from spineh5.codegen.model import SchemaError
from spineh5.codegen.versions import check_version
from spineh5.generated import ParticlePID, ParticleShape

LAYOUTS = pytest.mark.parametrize("version", [1, 2], ids=["V1", "V2"])


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the test schemas are rendered into (once per module)."""
    return tmp_path_factory.mktemp("evolution_packages")


def _same(left, right) -> bool:
    left, right = np.asarray(left), np.asarray(right)
    return left.shape == right.shape and bool(np.array_equal(left, right, equal_nan=left.dtype.kind == "f"))


# -- the fixtures and the old schema -----------------------------------------------------------------------


def test_fixtures_are_what_the_script_writes(packages: Path, tmp_path: Path) -> None:
    """The committed files are small and hold what tests/make_evolution_fixtures.py writes, column by column."""
    for path in write_old_fixtures(packages, tmp_path):
        committed = OLD_FILES[int(path.stem[-1])]
        assert committed.stat().st_size < 100_000
        with using("evo_old", packages), HDF5Reader(str(path)) as fresh, HDF5Reader(str(committed)) as old:
            assert fresh.keys == old.keys
            for key in ("tracks", "clusters"):
                (new_rows, new_offsets), (old_rows, old_offsets) = fresh.table(key), old.table(key)
                assert new_rows.dtype == old_rows.dtype and _same(new_offsets, old_offsets)
                for name in old_rows.dtype.names:
                    assert [np.asarray(v).tolist() for v in new_rows[name]] == [
                        np.asarray(v).tolist() for v in old_rows[name]
                    ] or _same(new_rows[name], old_rows[name]), (key, name)


@LAYOUTS
def test_old_schema_reads_its_own_files(packages: Path, version: int) -> None:
    with using("evo_old", packages) as old, HDF5Reader(str(OLD_FILES[version])) as reader:
        for entry, tracks, clusters in zip(reader, OLD_TRACKS, OLD_CLUSTERS):
            assert entry["tracks"] == [old.EvoTrack(**fields) for fields in tracks]
            assert entry["clusters"] == [old.EvoCluster(**fields) for fields in clusters]


# -- evo_new: added, removed, renamed and widened fields, a renamed class ----------------------------------


def _check_evolved_track(track, old: dict) -> None:
    """One EvoTrack of evo_new read from an old row, field by field."""
    assert track.id == old["id"]
    assert isinstance(track.length, float) and track.length == float(np.float32(old["length"]))  # widened
    assert track.charge == old["charge"]  # int32 -> int64
    assert track.npts == old["npts"]
    assert _same(track.calo_ke, old["energy"])  # renamed_from: energy
    assert not hasattr(track, "energy") and not hasattr(track, "legacy_flag")  # renamed, removed
    assert track.shape == ParticleShape(old["shape"])
    assert track.start.dtype == np.float64 and _same(track.start, np.float32(old["start"]))  # fixed, widened
    assert track.index.dtype == np.int64 and _same(track.index, np.asarray(old["index"], dtype=np.int64))
    assert track.label == old["label"]
    # added fields: their declared defaults
    assert track.pid is ParticlePID.MUON
    assert track.quality == 1.0
    assert track.hits.dtype == np.int32 and _same(track.hits, [7, 8])
    assert track.tag == "none"
    assert track.direction.dtype == np.float32 and _same(track.direction, [0.0, 0.0, 1.0])


@LAYOUTS
def test_new_schema_reads_old_objects_field_by_field(packages: Path, version: int) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with using("evo_new", packages) as new, HDF5Reader(str(OLD_FILES[version])) as reader:
            entries = list(reader) + list(reader)  # twice: still one warning
    for entry in entries:
        position = entry["index"]
        assert len(entry["tracks"]) == len(OLD_TRACKS[position])
        for track, old in zip(entry["tracks"], OLD_TRACKS[position]):
            assert isinstance(track, new.EvoTrack)
            _check_evolved_track(track, old)
        blobs = entry["clusters"]
        assert all(isinstance(blob, new.EvoBlob) for blob in blobs)  # renamed_from: EvoCluster
        assert [(b.id, b.size, b.seed, b.volume_id) for b in blobs] == [
            (c["id"], c["size"], c["seed"], -1) for c in OLD_CLUSTERS[position]
        ]
    reported = [str(w.message) for w in caught if issubclass(w.category, UnknownColumnsWarning)]
    assert len(reported) == 1, reported  # one per class and column set
    assert reported[0].startswith("EvoTrack rows of product 'tracks'") and "legacy_flag" in reported[0]


@LAYOUTS
def test_removed_field_stays_reachable_raw(packages: Path, version: int) -> None:
    with using("evo_new", packages), HDF5Reader(str(OLD_FILES[version])) as reader:
        raw = reader.raw(0, "tracks")
        assert "legacy_flag" in raw.dtype.names and "energy" in raw.dtype.names  # as stored
        assert raw["legacy_flag"].tolist() == [t["legacy_flag"] for t in OLD_TRACKS[0]]
        rows, offsets = reader.table("tracks")
        assert offsets.tolist() == [0, 2, 2, 3]
        assert rows["legacy_flag"].tolist() == [t["legacy_flag"] for e in OLD_TRACKS for t in e]
        with HDF5Reader(str(OLD_FILES[version]), build_classes=False) as dicts:
            assert dicts[0]["tracks"][0]["legacy_flag"] is np.True_ or dicts[0]["tracks"][0]["legacy_flag"] == True  # noqa: E712
            assert dicts[0]["tracks"][0]["calo_ke"] == OLD_TRACKS[0][0]["energy"]


@LAYOUTS
def test_new_schema_table_renames_widens_and_adds_defaults(packages: Path, version: int) -> None:
    old_rows = [t for entry in OLD_TRACKS for t in entry]
    with using("evo_new", packages), HDF5Reader(str(OLD_FILES[version])) as reader:
        rows, _ = reader.table("tracks")
        assert rows.dtype["length"] == np.float64 and rows.dtype["charge"] == np.int64
        assert _same(rows["calo_ke"], [t["energy"] for t in old_rows])
        assert rows["pid"].tolist() == [int(ParticlePID.MUON)] * len(old_rows)
        assert rows["quality"].tolist() == [1.0] * len(old_rows)
        assert [r.tolist() for r in rows["hits"]] == [[7, 8]] * len(old_rows)
        assert [t.decode() if isinstance(t, bytes) else t for t in rows["tag"]] == ["none"] * len(old_rows)
        assert rows["direction"].tolist() == [[0.0, 0.0, 1.0]] * len(old_rows)
        picked, _ = reader.table("tracks", columns=["quality", "calo_ke", "id"])
        assert picked.dtype.names == ("quality", "calo_ke", "id")
        assert _same(picked["calo_ke"], rows["calo_ke"]) and picked["quality"].tolist() == [1.0] * len(old_rows)
        fixed, _ = reader.table("tracks", fixed_only=True)
        assert {"calo_ke", "quality", "direction"} <= set(fixed.dtype.names)
        assert not {"hits", "tag", "index", "label"} & set(fixed.dtype.names)
        blobs, _ = reader.table("clusters")
        assert blobs["volume_id"].tolist() == [-1, -1, -1] and blobs.dtype["size"] == np.int64


@LAYOUTS
@pytest.mark.parametrize("library", ["np", "ak", "pd"])
def test_new_schema_array_views(packages: Path, version: int, library: str) -> None:
    if library != "np":
        pytest.importorskip({"ak": "awkward", "pd": "pandas"}[library])
    old_rows = [t for entry in OLD_TRACKS for t in entry]
    with using("evo_new", packages), HDF5Reader(str(OLD_FILES[version])) as reader:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownColumnsWarning)
            data = reader.arrays(["tracks", "clusters"], library=library)
            picked = reader.arrays("tracks", columns=["calo_ke", "quality"], library=library)
    if library == "np":
        rows, offsets = data["tracks"]
        assert "legacy_flag" not in rows.dtype.names and "energy" not in rows.dtype.names
        columns = {name: rows[name].tolist() for name in ("calo_ke", "quality", "pid", "charge")}
        assert data["clusters"][0]["volume_id"].tolist() == [-1, -1, -1]
        assert picked["tracks"][0].dtype.names == ("calo_ke", "quality")
    elif library == "ak":
        tracks = data.tracks
        columns = {name: [v for e in tracks[name].tolist() for v in e] for name in ("calo_ke", "quality", "pid")}
        columns["charge"] = [v for e in tracks.charge.tolist() for v in e]
        assert "legacy_flag" not in tracks.fields and "energy" not in tracks.fields
        assert [v for e in data.clusters.volume_id.tolist() for v in e] == [-1, -1, -1]
        assert [v for e in picked.tracks.quality.tolist() for v in e] == [1.0] * len(old_rows)
    else:
        frame = data["tracks"]
        assert "legacy_flag" not in frame.columns and "energy" not in frame.columns
        columns = {name: frame[name].tolist() for name in ("calo_ke", "quality", "pid", "charge")}
        assert data["clusters"]["volume_id"].tolist() == [-1, -1, -1]
    assert _same(columns["calo_ke"], [t["energy"] for t in old_rows])
    assert columns["quality"] == [1.0] * len(old_rows)
    assert [int(v) for v in columns["pid"]] == [int(ParticlePID.MUON)] * len(old_rows)
    assert columns["charge"] == [t["charge"] for t in old_rows]


# -- narrowing: refused without a rule, cast with one ------------------------------------------------------


@LAYOUTS
def test_narrowing_without_a_rule_is_refused_naming_class_field_and_dtypes(packages: Path, version: int) -> None:
    with using("evo_narrow", packages), HDF5Reader(str(OLD_FILES[version]), keys=["tracks"]) as reader:
        for read in (lambda: reader[0], lambda: reader.table("tracks"), lambda: reader.arrays("tracks", library="np")):
            with pytest.raises(SchemaEvolutionError) as caught:
                read()
            message = str(caught.value)
            assert "EvoTrack.npts" in message and "stores int64" in message and "declares int32" in message
            assert "a narrowing" in message and "cast_from: [int64]" in message and "'tracks'" in message


@pytest.mark.filterwarnings("ignore::spineh5.errors.UnknownColumnsWarning")
@LAYOUTS
def test_declared_cast_reads_the_narrowed_and_retyped_fields(packages: Path, version: int) -> None:
    with using("evo_cast", packages) as cast, HDF5Reader(str(OLD_FILES[version]), keys=["tracks"]) as reader:
        for entry in reader:
            for track, old in zip(entry["tracks"], OLD_TRACKS[entry["index"]]):
                assert isinstance(track, cast.EvoTrack)
                assert track.npts == old["npts"]  # int64 -> int32, in range
                assert track.length == int(np.float32(old["length"]))  # float32 -> int64, declared
        rows, _ = reader.table("tracks")
        assert rows.dtype["npts"] == np.int32 and rows.dtype["length"] == np.int64


def test_declared_cast_refuses_values_out_of_range(tmp_path: Path) -> None:
    from evolution_support import runtime_class

    from spineh5 import HDF5Writer
    from spineh5.types.columns import Column
    from spineh5.types.registry import register, unregister

    wide = runtime_class("EvoRange", [Column("n", "int64", default=0)])
    register(wide)
    try:
        with HDF5Writer(str(tmp_path / "range.h5"), format_version=2) as writer:
            writer({"index": [0], "things": [[wide(n=2**40)]]})
    finally:
        unregister(wide)
    narrow = runtime_class("EvoRange", [Column("n", "int32", default=0, cast_from=("int64",))])
    register(narrow)
    try:
        with HDF5Reader(str(tmp_path / "range.h5")) as reader:
            with pytest.raises(SchemaEvolutionError, match=r"EvoRange\.n: a stored int64 value does not fit"):
                reader[0]
    finally:
        unregister(narrow)


# -- the schema language: declarations, their checks, and schema_version ----------------------------------


def test_rules_are_carried_into_the_generated_code(packages: Path) -> None:
    with using("evo_new", packages) as new:
        columns = {c.name: c for c in new.EvoTrack.COLUMNS}
        assert columns["calo_ke"].renamed_from == ("energy",)
        assert new.EvoBlob.RENAMED_FROM == ("EvoCluster",)
    with using("evo_cast", packages) as cast:
        assert {c.name: c.cast_from for c in cast.EvoTrack.COLUMNS}["npts"] == ("int64",)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("{name: calo_ke, dtype: float64, default: -1.0, renamed_from: id}", "renamed_from 'id' is a field of"),
        ("{name: calo_ke, dtype: float64, default: -1.0, renamed_from: calo_ke}", "names the field itself"),
        ("{name: calo_ke, dtype: float64, default: -1.0, renamed_from: [a, a]}", "listed twice"),
        ("{name: calo_ke, dtype: float64, default: -1.0, renamed_from: 3}", "a name or a list of names"),
        ("{name: calo_ke, dtype: float64, default: -1.0, cast_from: text}", "is not a numeric dtype"),
        ("{name: calo_ke, dtype: float64, default: -1.0, cast_from: float64}", "the field's own dtype"),
        ("{name: calo_ke, dtype: str, default: x, cast_from: int64}", "numeric fields only"),
        ("{name: calo_ke, dtype: ParticlePID, default: MUON, cast_from: int32}", "numeric fields only"),
    ],
)
def test_bad_rule_declarations_are_schema_errors(tmp_path: Path, edit: str, message: str) -> None:
    text = (SCHEMAS / "evo_new" / "tracks.yaml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "name: calo_ke" in line)
    (tmp_path / "tracks.yaml").write_text(text.replace(line.strip(), f"- {edit}"), encoding="utf-8")
    from spineh5.codegen.library import load_library

    with pytest.raises(SchemaError, match=message):
        load_schema(tmp_path, load_library())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    renamed_from: EvoCluster", "    renamed_from: EvoTrack", "is a declared type"),
        ("    renamed_from: EvoCluster", "    renamed_from: RecoParticle", "is a declared type"),
    ],
)
def test_bad_class_renames_are_schema_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    from spineh5.codegen.library import load_library

    text = (SCHEMAS / "evo_new" / "tracks.yaml").read_text(encoding="utf-8")
    (tmp_path / "tracks.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(SchemaError, match=message):
        load_schema(tmp_path, load_library())


def test_a_group_cannot_be_renamed(tmp_path: Path) -> None:
    from spineh5.codegen.library import load_library

    (tmp_path / "t.yaml").write_text(
        "schema_version: 1\ngroups:\n  G:\n    renamed_from: H\n    fields: []\n"
        "types:\n  T:\n    bases: [G]\n    fields: [{name: x, dtype: int64, default: 0}]\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError, match="applies to types"):
        load_schema(tmp_path, load_library())


def test_two_packages_renamed_from_the_same_class_clash() -> None:
    from evolution_support import runtime_class

    from spineh5.types.columns import Column
    from spineh5.types.registry import ClassNameClashError, register, unregister

    first = runtime_class("EvoFirst", [Column("x", "int64", default=0)], renamed_from=["EvoShared"])
    second = runtime_class("EvoSecond", [Column("x", "int64", default=0)], renamed_from=["EvoShared"])
    register(first)
    try:
        with pytest.raises(ClassNameClashError, match="renamed from 'EvoShared'"):
            register(second)
        from spineh5.types.registry import REGISTRY

        assert REGISTRY.resolve("EvoShared") is first and "EvoShared" not in REGISTRY
        assert "EvoSecond" not in REGISTRY  # all or nothing
    finally:
        unregister(first)
    assert REGISTRY.resolve("EvoShared") is None


@pytest.mark.parametrize("schema", ["evo_old", "evo_new", "evo_narrow", "evo_cast"])
def test_test_schemas_have_their_versions_recorded(schema: str) -> None:
    from spineh5.codegen.library import load_library

    folder = SCHEMAS / schema
    assert check_version(load_schema(folder, load_library()), folder, record=False) is False


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("renamed_from: energy}", "renamed_from: energy, doc: a doc changes no column}"),  # no bump needed
        ("{name: calo_ke,", "{name: calo_energy,"),  # a renamed field: a column change
        ("  EvoBlob:", "  EvoLump:"),  # a renamed class
        ("{name: quality, dtype: float32,", "{name: quality, dtype: float64,"),  # a widened field
    ],
)
def test_column_changes_without_a_version_bump_fail(tmp_path: Path, old: str, new: str) -> None:
    from spineh5.codegen.library import load_library

    folder = tmp_path / "schema"
    shutil.copytree(SCHEMAS / "evo_new", folder)
    text = (folder / "tracks.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "tracks.yaml").write_text(text.replace(old, new), encoding="utf-8")
    schema = load_schema(folder, load_library())
    if "doc" in new:
        assert check_version(schema, folder, record=False) is False
        return
    with pytest.raises(SchemaError, match="columns changed but schema_version is still 2"):
        check_version(schema, folder, record=True)


@pytest.mark.filterwarnings("ignore::spineh5.errors.UnknownColumnsWarning")
def test_nan_default_of_an_added_fixed_field(packages: Path) -> None:
    """The old schema's NaN start reads back as NaN after the widening (not as a default)."""
    with using("evo_new", packages), HDF5Reader(str(OLD_FILES[1])) as reader:
        assert math.isnan(reader[0]["tracks"][1].start[0])


@LAYOUTS
def test_old_and_new_files_in_one_reader(packages: Path, tmp_path: Path, version: int) -> None:
    """A reader over an old file and a file of the new schema: the old rows evolve, the tables join."""
    from spineh5 import HDF5Writer

    with using("evo_new", packages) as new:
        track = new.EvoTrack(id=9, calo_ke=2.5, quality=0.5, hits=[1], tag="fresh")
        with HDF5Writer(str(tmp_path / "new.h5"), format_version=version) as writer:
            writer({"index": [0], "tracks": [[track]], "clusters": [[new.EvoBlob(id=3, volume_id=4)]]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownColumnsWarning)
            with HDF5Reader([str(OLD_FILES[version]), str(tmp_path / "new.h5")]) as reader:
                assert reader[3]["tracks"] == [track]
                _check_evolved_track(reader[0]["tracks"][0], OLD_TRACKS[0][0])
                rows, offsets = reader.table("tracks")
                assert offsets.tolist() == [0, 2, 2, 3, 4]
                assert rows["quality"].tolist() == [1.0, 1.0, 1.0, 0.5]
                assert _same(rows["calo_ke"][3:], [2.5]) and rows["legacy_flag"][3] == False  # noqa: E712
                blobs, _ = reader.table("clusters")
                assert blobs["volume_id"].tolist() == [-1, -1, -1, 4]
