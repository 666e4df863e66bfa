"""Reading V2 files (SPINE's and ours) through ``HDF5Reader`` with the V2 read layout.

The V1 and V2 fixtures hold the same data written by SPINE HEAD in both
layouts; they, and the same batches written by spineh5 in both layouts, must
decode to the same values, dtypes included.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from conftest import EVERY_CASE_KEYS as KEYS
from conftest import HEAD_V1 as V1_FIXTURE
from conftest import HEAD_V2 as V2_FIXTURE
from conftest import every_case_batch as make_batch
from conftest import spine_plain, spine_v2_reader
from conftest import write_every_case as write

from spineh5 import HDF5Reader
from spineh5.decode import ObjectRows
from spineh5.errors import SpineFileError, UnknownColumnsWarning
from spineh5.generated import ImageMeta3D, RecoParticle
from spineh5.layouts.v2_read import V2ReadLayout
from spineh5.types.columns import values_equal
from spineh5.views import VarColumn

#: Classes whose SPINE HEAD rows carry columns our (0.14.1) schema does not know.
LATER_CLASSES = {
    "Particle",
    "RecoFragment",
    "TruthFragment",
    "RecoParticle",
    "TruthParticle",
    "RecoInteraction",
    "TruthInteraction",
}


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same two batches of every storage case, written by spineh5 as V1 and as V2."""
    folder = tmp_path_factory.mktemp("ours")
    batches = [make_batch(0, 4), make_batch(4, 3)]
    return write(folder / "v1.h5", batches, format_version=1), write(folder / "v2.h5", batches, format_version=2)


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Assert equal values of equal types (numpy dtypes and shapes included; NaN equal to NaN)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, set(a) ^ set(b))
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (where, type(a), type(b))
        for position, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{position}]")
    elif hasattr(a, "COLUMNS"):
        assert type(a) is type(b), where
        for column in a.COLUMNS:
            assert_same(getattr(a, column.name), getattr(b, column.name), f"{where}.{column.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, (where, a, b)
        if a.dtype.kind == "O":
            for position, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                assert_same(x, y, f"{where}[{position}]")
        else:
            assert values_equal(a, b), where
    else:
        assert type(a) is type(b), (where, type(a), type(b))
        assert values_equal(a, b), (where, a, b)


def read_all(reader: Any) -> list[dict[str, Any]]:
    return [reader[i] for i in range(len(reader))]


# -- SPINE's fixtures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("build_classes", [True, False])
def test_spine_v1_and_v2_fixtures_decode_to_the_same_values(build_classes: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with (
            HDF5Reader(str(V1_FIXTURE), build_classes=build_classes) as v1,
            HDF5Reader(str(V2_FIXTURE), build_classes=build_classes) as v2,
        ):
            assert v2.format_version == 2 and v1.format_version == 1
            assert len(v1) == len(v2) == 6
            assert sorted(v1.keys) == sorted(v2.keys)
            assert v2.cfg == v1.cfg == {"base": {"seed": 5}}
            for i in range(6):
                assert_same(v1[i], v2[i], f"entry {i}")
            empty = v2[3]
            assert empty["reco_particles"] == [] and empty["truth_interactions"] == []


def test_v2_fixture_values() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(V2_FIXTURE)) as reader:
            entry = reader[0]
    assert isinstance(entry["meta"], ImageMeta3D)
    assert entry["points"].dtype == np.float32 and entry["points"].shape[1] == 3
    assert entry["source_file_entry_index"] == 100 and entry["file_entry_index"] == 100
    particle = entry["reco_particles"][0]
    assert isinstance(particle, RecoParticle) and particle.units == "cm" and particle.index.dtype == np.int32
    assert isinstance(entry["clusts"], list) and all(c.dtype == np.int64 for c in entry["clusts"])


def test_unknown_columns_are_reported_once_and_stay_reachable() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with HDF5Reader(str(V2_FIXTURE)) as reader:
            read_all(reader)
            read_all(reader)
            raw = reader.raw(0, "particles")
            rows, offsets = reader.table("truth_particles")
    reported = [w for w in caught if issubclass(w.category, UnknownColumnsWarning)]
    assert {str(w.message).split(" rows ")[0] for w in reported} == LATER_CLASSES
    assert len(reported) == len(LATER_CLASSES), "one report per class"
    assert "first_step_t" in raw.dtype.names and raw["first_step_t"].dtype == np.float64
    assert {"best_match_id", "first_step_t"} <= set(rows.dtype.names) and len(offsets) == 7
    with HDF5Reader(str(V2_FIXTURE), build_classes=False) as reader:
        as_dicts = reader[0]["reco_interactions"][0]
    assert "flash_hypothesis_ids" in as_dicts and as_dicts["flash_hypothesis_ids"].dtype == np.int32
    assert isinstance(as_dicts["units"], str)


# -- our files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build_classes", [True, False])
def test_same_batches_written_as_v1_and_v2_read_back_identical(
    ours: tuple[Path, Path],
    build_classes: bool,
) -> None:
    v1_path, v2_path = ours
    with (
        HDF5Reader(str(v1_path), build_classes=build_classes) as v1,
        HDF5Reader(str(v2_path), build_classes=build_classes) as v2,
    ):
        assert len(v1) == len(v2) == 7
        for i in range(7):
            assert_same(v1[i], v2[i], f"entry {i}")
        entry = v2[0]
    if build_classes:
        batch = make_batch(0, 1)
        for key in KEYS:
            expected = batch[key] if key in ("loss", "tag") else batch[key][0]
            if key == "clusts":
                assert_same(entry[key], list(expected))
            elif key in ("reco_particles", "truth_interactions", "crthits", "run_info", "meta"):
                assert entry[key] == expected, key
            elif isinstance(expected, list):
                assert_same(entry[key], expected)
            else:
                assert values_equal(entry[key], expected), key
        assert entry["name"] == "a" and type(entry["name"]) is str


def _cells(column):
    """A table column as compared: numpy as it is, a VarColumn as its list of rows (arrays or str)."""
    return list(column) if isinstance(column, VarColumn) else column


def test_tables_of_v1_and_v2_are_identical(ours: tuple[Path, Path]) -> None:
    v1_path, v2_path = ours
    entries = np.array([6, 0, 3, 3, 1])
    with HDF5Reader(str(v1_path)) as v1, HDF5Reader(str(v2_path)) as v2:
        for key in ("reco_particles", "crthits", "run_info", "points", "seg", "acc", "name", "flag", "flashes"):
            for selection in (None, entries):
                rows1, offsets1 = v1.table(key, selection)
                rows2, offsets2 = v2.table(key, selection)
                assert np.array_equal(offsets1, offsets2), key
                if rows1.dtype.names:
                    assert sorted(rows1.dtype.names) == sorted(rows2.dtype.names), key
                    for name in rows1.dtype.names:
                        assert_same(_cells(rows1[name]), _cells(rows2[name]), f"{key}.{name}")
                else:
                    assert_same(rows1, rows2, key)
        rows, offsets = v2.table("reco_particles", entries, ["id", "index", "units"])
        assert rows.dtype.names == ("id", "index", "units")
        assert offsets.tolist() == [0, 2, 4, 6, 8, 8]
        assert rows["id"].tolist() == [6, 7, 0, 1, 3, 4, 3, 4]
        assert rows["units"].tolist() == ["cm"] * 8 and rows["index"][0].tolist() == [0, 1, 2]


def test_mixed_v1_and_v2_files_read_as_one_sequence(ours: tuple[Path, Path]) -> None:
    v1_path, v2_path = ours
    with HDF5Reader([str(v1_path), str(v2_path)]) as mixed, HDF5Reader(str(v1_path)) as single:
        assert len(mixed) == 14
        for i in range(7):
            assert_same({**mixed[i], "index": 0}, {**single[i], "index": 0})
            second = mixed[7 + i]
            assert_same({**second, "index": 0, "file_index": 0}, {**single[i], "index": 0})
        rows, offsets = mixed.table("reco_particles")
        assert len(offsets) == 15 and len(rows) == 2 * len(single.table("reco_particles")[0])


# -- bulk reads ---------------------------------------------------------------------------------------------


class ReadCounter:
    """Counts reads per dataset path: h5py slicing, and the layout's direct reads of ``fixed`` rows."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        original = h5py.Dataset.__getitem__
        original_fixed = V2ReadLayout._fixed_rows

        def counted(dataset: h5py.Dataset, args: Any, new_dtype: Any = None) -> Any:
            self.counts[dataset.name] = self.counts.get(dataset.name, 0) + 1
            return original(dataset, args, new_dtype=new_dtype)

        def counted_fixed(layout: V2ReadLayout, product: Any, start: int, stop: int) -> np.ndarray:
            self.counts[product.fixed.name] = self.counts.get(product.fixed.name, 0) + 1
            return original_fixed(layout, product, start, stop)

        monkeypatch.setattr(h5py.Dataset, "__getitem__", counted)
        monkeypatch.setattr(V2ReadLayout, "_fixed_rows", counted_fixed)


def test_table_reads_each_dataset_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with h5py.File(V2_FIXTURE, "r") as h5file:
        layout = V2ReadLayout(h5file, str(V2_FIXTURE))
        counter = ReadCounter(monkeypatch)
        rows, offsets = layout.read_table("reco_particles", np.arange(6))
        base = "/products/reco_particles"
        assert counter.counts == {
            f"{base}/event_offsets": 1,
            f"{base}/fixed": 1,
            f"{base}/variables/pool_0/values": 1,
            f"{base}/variables/pool_1/values": 1,
            f"{base}/variables/pool_2/values": 1,
        }
        assert len(rows) == offsets[-1] == h5file[f"{base}/fixed"].shape[0]
        counter.counts.clear()
        fixed, fixed_offsets = layout.read_table("reco_particles", np.array([5, 1]), fixed_only=True)
        assert counter.counts == {f"{base}/event_offsets": 1, f"{base}/fixed": 1}
        assert not any(name.startswith("_var_offsets_") for name in fixed.dtype.names)
        assert "index" not in fixed.dtype.names and "best_match_id" in fixed.dtype.names
        counter.counts.clear()
        layout.read_table("reco_particles", np.arange(6), ["id", "match_ids"])
        assert counter.counts == {f"{base}/event_offsets": 1, f"{base}/fixed": 1, f"{base}/variables/pool_1/values": 1}


def test_table_matches_per_entry_reads() -> None:
    with h5py.File(V2_FIXTURE, "r") as h5file:
        layout = V2ReadLayout(h5file, str(V2_FIXTURE))
        entries = np.array([4, 0, 3, 0, 5])
        for key in ("reco_particles", "truth_interactions", "crthits", "run_info", "points", "depositions", "index"):
            rows, offsets = layout.read_table(key, entries)
            assert len(offsets) == len(entries) + 1 and offsets[0] == 0
            for position, entry in enumerate(entries.tolist()):
                expected = layout.read_raw(entry, key)
                got = rows[offsets[position] : offsets[position + 1]]
                if layout.spec(key).kind.is_scalar and expected.dtype.names is None:
                    got = got[0]
                if getattr(expected, "dtype", None) is not None and expected.dtype.names:
                    for name in expected.dtype.names:
                        assert_same(got[name], expected[name], f"{key}.{name}")
                else:
                    assert_same(got, expected, key)


def test_fixed_only_table_never_opens_the_pools(tmp_path: Path) -> None:
    path = tmp_path / "nopools.h5"
    shutil.copyfile(V2_FIXTURE, path)
    path.chmod(0o644)
    with h5py.File(path, "a") as h5file:
        del h5file["products/reco_particles/variables"]
    with h5py.File(path, "r") as h5file:
        layout = V2ReadLayout(h5file, str(path))
        rows, offsets = layout.read_table("reco_particles", np.arange(6), fixed_only=True)
        assert len(rows) == offsets[-1] > 0
        ids, _ = layout.read_table("reco_particles", np.arange(6), ["id", "pid"])
        assert np.array_equal(ids["id"], rows["id"])
        with pytest.raises(SpineFileError, match="no 'variables' group"):
            layout.read_entry(0, ["reco_particles"])


# -- SPINE's later typed products ------------------------------------------------------------------------------


def _typed_file(source: Path, path: Path) -> Path:
    """Turn some of our products into SPINE's typed products: ``product_metadata`` plus nested children."""
    shutil.copyfile(source, path)
    with h5py.File(path, "a") as h5file:
        products = h5file["products"]
        tensor = products["points"]
        tensor.attrs["product_metadata"] = "coordinate_width: 3\nhas_meta: true\nproduct_type: tensor\n"
        h5file.copy(products["meta"], tensor, name="meta")
        index = products["seg"]
        index.attrs["product_metadata"] = "product_type: index\n"
        h5file.copy(products["nhits"], index, name="spans")
        olist = products["reco_particles"]
        olist.attrs["product_metadata"] = "index_shift_fields: null\nproduct_type: object_list\n"
        h5file.copy(products["index"], olist, name="index_shifts")
        labels = products["crthits"]
        labels.attrs["product_metadata"] = "has_particles: true\nproduct_type: cluster_label\n"
        h5file.copy(products["run_info"], labels, name="particles")
        labels["particles"].attrs["class_name"] = "ParticleLabel"  # a class our schema does not have
        products["meta"].attrs["class_name"] = "Meta"  # SPINE's legacy name, resolved by the count width
    return path


def test_product_metadata_groups_read_as_plain_payload(
    ours: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    path = _typed_file(ours[1], tmp_path / "typed.h5")
    with HDF5Reader(str(path)) as typed, HDF5Reader(str(ours[1])) as plain:
        for i in range(len(plain)):
            assert_same(typed[i], plain[i], f"entry {i}")  # entries with empty object lists included
        assert typed.keys == plain.keys, "child products are not separate products"
    with HDF5Reader(str(path), build_classes=False) as typed, HDF5Reader(str(ours[1]), build_classes=False) as plain:
        for i in range(len(plain)):  # SPINE crashes here on cluster_label products with particles (section 7)
            assert_same(typed[i], plain[i], f"entry {i}")
    with h5py.File(path, "r") as h5file:
        layout = V2ReadLayout(h5file, str(path))
        assert layout.product_metadata("points") == {"coordinate_width": 3, "has_meta": True, "product_type": "tensor"}
        assert layout.product_metadata("reco_particles")["product_type"] == "object_list"
        assert layout.product_metadata("acc") is None
        assert layout.children("points") == ("points/meta",)
        assert layout.children("crthits") == ("crthits/particles",)
        meta = layout.read_entry(0, ["points/meta"])["points/meta"]
        assert isinstance(meta, ObjectRows) and meta.class_name == "ImageMeta3D" and meta.scalar
        particles = layout.read_raw(0, "crthits/particles")
        assert particles.dtype.names == ("run", "subrun", "event")
        assert layout.read_entry(2, ["seg/spans"])["seg/spans"] == np.int32(3)


# -- damaged and foreign files ---------------------------------------------------------------------------------


def _damaged(tmp_path: Path, change: Any) -> Path:
    path = tmp_path / "damaged.h5"
    shutil.copyfile(V2_FIXTURE, path)
    path.chmod(0o644)
    with h5py.File(path, "a") as h5file:
        change(h5file["products"])
    return path


def _set(dataset: h5py.Dataset, index: Any, value: Any) -> None:
    data = dataset[()]
    data[index] = value
    dataset[...] = data


def _set_column(dataset: h5py.Dataset, column: str, index: Any, value: Any) -> None:
    rows = dataset[()]
    rows[column][index] = value
    dataset[...] = rows


@pytest.mark.parametrize(
    ("change", "key", "match"),
    [
        (lambda p: _set(p["points/event_offsets"], 2, 5000), "points", r"entry 1: values \[\d+, 5000\)"),
        (lambda p: p["seg_label/event_offsets"].resize(4, axis=0), "seg_label", "at least 7 are needed"),
        (lambda p: _set(p["clusts/element_offsets"], 1, 10_000), "clusts", "entry 0"),
        (
            lambda p: _set_column(p["reco_particles/fixed"], "_var_offsets_1", (0, 1), 999_999),
            "reco_particles",
            "entry 0",
        ),
        (lambda p: _set(p["crthits/variables/pool_0/values"], 0, 0xFF), "crthits", "entry 0"),
    ],
    ids=["offset-past-values", "short-offsets", "element-offsets", "var-offsets", "bad-utf8"],
)
def test_damaged_offsets_raise_a_spine_file_error(
    tmp_path: Path,
    change: Any,
    key: str,
    match: str,
) -> None:
    path = _damaged(tmp_path, change)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with pytest.raises(SpineFileError, match=match) as info:
            with HDF5Reader(str(path), keys=[key], build_classes=False) as reader:
                read_all(reader)
    assert info.value.key == key


def test_object_rows_in_any_order_decode_correctly(tmp_path: Path) -> None:
    """SPINE silently empties variable fields when the spans of an entry's rows decrease (spec section 6)."""

    def reverse_entry_0(products: h5py.Group) -> None:
        fixed = products["reco_particles/fixed"]
        start, stop = products["reco_particles/event_offsets"][:2]
        fixed[start:stop] = fixed[start:stop][::-1]

    path = _damaged(tmp_path, reverse_entry_0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(V2_FIXTURE)) as original, HDF5Reader(str(path)) as reversed_rows:
            assert_same(reversed_rows[0]["reco_particles"], original[0]["reco_particles"][::-1])


def test_non_product_members_are_left_out_with_a_warning(tmp_path: Path) -> None:
    path = _damaged(tmp_path, lambda p: (p.create_group("junk"), p.create_dataset("notes", data=[1, 2])))
    with pytest.warns(UserWarning, match="junk, notes"):
        with HDF5Reader(str(path), build_classes=False) as reader:
            assert "junk" not in reader.keys and len(read_all(reader)) == 6


def test_a_reader_given_its_keys_inspects_only_those(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening with keys= reads the kind of the requested product groups only (no listing, no warning at open)."""
    import spineh5.layouts.v2_read as v2_read

    path = _damaged(tmp_path, lambda p: p.create_group("junk"))
    asked: list[str] = []
    member_kind = v2_read.member_kind
    monkeypatch.setattr(v2_read, "member_kind", lambda group, name: (asked.append(name), member_kind(group, name))[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning about junk comes only when every product is listed
        with HDF5Reader(str(path), keys=["run_info"]) as reader:
            assert len(reader.table("run_info")[0]) == len(reader)
    assert set(asked) == {"run_info"}
    with pytest.raises(KeyError, match="'nope'.*not stored"), pytest.warns(UserWarning, match="junk"):
        HDF5Reader(str(path), keys=["run_info", "nope"])


def test_a_single_object_product_needs_a_row_per_entry(tmp_path: Path) -> None:
    path = _damaged(tmp_path, lambda p: _set(p["run_info/event_offsets"], 1, 0))
    with HDF5Reader(str(path), keys=["run_info"]) as reader:
        with pytest.raises(SpineFileError, match="one object per entry is expected") as info:
            reader[0]
        assert info.value.entry == 0
        assert reader[2]["run_info"].event == 2


def test_run_map_on_v2(ours: tuple[Path, Path]) -> None:
    with HDF5Reader(str(ours[1]), create_run_map=True) as reader:
        assert reader.find(1, 0, 5) == 5
        assert reader[reader.find(1, 0, 2)]["run_info"].event == 2


def test_missing_products_group_is_a_spine_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bare.h5"
    with h5py.File(path, "w") as h5file:
        h5file.create_group("info").attrs["format_version"] = np.int64(2)
        h5file.create_dataset("events", data=np.arange(2))
    with pytest.raises(SpineFileError, match="without a 'products' group"):
        HDF5Reader(str(path))


# -- SPINE's own V2 reader (only where SPINE >= 1.4 is installed, e.g. a `spine_v2` nox session) ---------------


def test_spine_v2_reader_reads_our_files_like_our_v1_files(ours: tuple[Path, Path], tmp_path: Path) -> None:
    """SPINE's later reader loads our V1, V2, lite and appended V2 files to the same values (spec 4.8)."""
    spine_reader = spine_v2_reader()
    v1_path, v2_path = ours
    appended = write(tmp_path / "appended.h5", [make_batch(0, 4)])
    write(appended, [make_batch(4, 3)], append=True)
    for path in (v1_path, v2_path, appended):  # each carries spineh5's stored schema, which SPINE must ignore
        assert "RecoParticle" in HDF5Reader(str(path)).file_schema(), path.name
    reference = spine_reader(file_keys=str(v1_path), skip_unknown_attrs=True)
    for path in (v2_path, appended):
        other = spine_reader(file_keys=str(path), skip_unknown_attrs=True)
        assert len(other) == len(reference) == 7
        for i in range(7):
            left, right = reference[i], other[i]
            for key in [*KEYS, "flashes", "source_file_entry_index"]:
                assert spine_plain(left[key]) == spine_plain(right[key]), (path.name, i, key)
    fixed_only = spine_reader(file_keys=str(v2_path), fixed_only=True)
    assert fixed_only[0]["reco_particles"][0].id == 0
    assert spine_reader(file_keys=str(v2_path), create_run_map=True) is not None


@pytest.mark.parametrize("format_version", [1, 2])
def test_table_fixed_only_reads_the_fixed_columns_without_the_pools(tmp_path, format_version):
    from spineh5 import HDF5Reader, HDF5Writer
    from spineh5.synthetic import make_batches

    path = tmp_path / f"v{format_version}.h5"
    writer = HDF5Writer(str(path), format_version=format_version)
    for batch in make_batches(3, batch_size=2, scale=0.01):
        writer(batch)
    writer.finalize()
    reader = HDF5Reader(str(path))
    full, offsets = reader.table("reco_particles")
    fixed, fixed_offsets = reader.table("reco_particles", fixed_only=True)
    assert np.array_equal(offsets, fixed_offsets)
    assert "index" not in fixed.dtype.names and "units" not in fixed.dtype.names
    assert "start_point" in fixed.dtype.names and "shape" in fixed.dtype.names
    for name in fixed.dtype.names:
        assert np.array_equal(fixed[name], full[name], equal_nan=full[name].dtype.kind == "f"), name


# -- bulk columns straight from the pools (the analysis views' path) ------------------------------------------


def test_read_columns_equal_read_table(ours: tuple[Path, Path]) -> None:
    """Each pool field's slice and row bounds give the arrays and strings read_table cuts per row."""
    with h5py.File(ours[1], "r") as h5file:
        layout = V2ReadLayout(h5file, str(ours[1]))
        entries = np.array([3, 0, 2, 2, 5])
        for columns in (None, ["index", "id", "units"], ["ke"]):
            rows, offsets = layout.read_table("reco_particles", entries, columns)
            data = layout.read_columns("reco_particles", entries, columns)
            assert data.names == rows.dtype.names and np.array_equal(data.offsets, offsets)
            for name in data.names:
                field = data.variable.get(name)
                if field is None:
                    assert values_equal(data.fixed[name], rows[name]), name
                    continue
                for row, (start, stop) in enumerate(zip(field.starts, field.stops)):
                    piece = field.values[start:stop]
                    want = rows[name][row]
                    if field.is_string:
                        assert piece.tobytes() == want, name
                    else:
                        assert np.array_equal(piece, want), name


@pytest.mark.parametrize(
    ("change", "key", "match"),
    [
        (lambda p: _set(p["points/event_offsets"], 2, 5000), "reco_particles", None),
        (
            lambda p: _set_column(p["reco_particles/fixed"], "_var_offsets_1", (-1, 7), 999_999),
            "reco_particles",
            "pool_1 values",
        ),
        (lambda p: _set_column(p["reco_particles/fixed"], "_var_offsets_1", (0, 1), -5), "reco_particles", "decrease"),
        (lambda p: _set(p["crthits/variables/pool_0/values"], 0, 0xFF), "crthits", "UTF-8"),
    ],
    ids=["other-product", "var-offsets-past-pool", "var-offsets-decrease", "bad-utf8"],
)
def test_bulk_arrays_keep_the_errors_of_the_table(tmp_path: Path, change: Any, key: str, match: str | None) -> None:
    """arrays() on V2 raises what table() raises for a damaged pool; a damaged other product is never looked at."""
    path = _damaged(tmp_path, change)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(path), keys=[key]) as reader:
            if match is None:
                assert len(reader.arrays(key)[key]) == len(reader)
                return
            with pytest.raises(SpineFileError, match=match) as table_error:
                reader.table(key)
            with pytest.raises(SpineFileError, match=match) as arrays_error:
                reader.arrays(key)
    assert str(arrays_error.value) == str(table_error.value) and arrays_error.value.key == key


def test_open_and_fixed_columns_inspect_only_the_product_used(tmp_path: Path) -> None:
    """A product missing its attributes fails on first use only; fixed columns never parse the pools."""
    ak = pytest.importorskip("awkward")  # the analysis extra (the SPINE >= 1.4 venv has only the core)

    def damage(products: h5py.Group) -> None:
        del products["points"].attrs["scalar"]
        del products["reco_particles/variables/pool_0"].attrs["fields"]

    path = _damaged(tmp_path, damage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(path)) as reader:
            assert "points" in reader.keys
            ke = reader.arrays("reco_particles", columns=["ke"]).reco_particles.ke
            assert ak.all(ak.num(ke) >= 0)
            with pytest.raises(SpineFileError, match="scalar"):
                reader.arrays("points")
            with pytest.raises(SpineFileError):
                reader.arrays("reco_particles")
