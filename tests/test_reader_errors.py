"""HDF5Reader on damaged or foreign files: clear spineh5 errors instead of h5py tracebacks."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from spineh5.errors import SpineH5Error
from spineh5.reader import HDF5Reader, IncompleteFileError, SpineFileError

FULL = Path(__file__).parent / "data" / "spine_f31056c8.h5"


@pytest.fixture
def copy(tmp_path) -> Path:
    path = tmp_path / "copy.h5"
    shutil.copy(FULL, path)
    return path


def mutate(path: Path, change) -> Path:
    with h5py.File(path, "a") as h5file:
        change(h5file)
    return path


def set_event_ref(key: str, entry: int, ref_of) -> callable:
    def change(h5file: h5py.File) -> None:
        events = h5file["events"]
        row = events[entry]
        row[key] = ref_of(h5file)
        events[entry] = row

    return change


def test_errors_share_the_spineh5_base():
    assert issubclass(SpineFileError, SpineH5Error)
    assert issubclass(IncompleteFileError, SpineFileError)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        HDF5Reader("/nonexistent/file.h5")
    with pytest.raises(ValueError):
        HDF5Reader([])


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("this is not an HDF5 file\n" * 100)
    with pytest.raises(SpineFileError, match="not an HDF5 file") as info:
        HDF5Reader(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.99])
def test_truncated(tmp_path, fraction):
    data = FULL.read_bytes()
    path = tmp_path / "truncated.h5"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(SpineFileError) as info:
        HDF5Reader(path)
    assert str(path) in str(info.value)


def test_missing_events(copy):
    mutate(copy, lambda f: f.__delitem__("events"))
    with pytest.raises(SpineFileError, match="no 'events' dataset"):
        HDF5Reader(copy)


def test_events_is_a_group(copy):
    def change(h5file):
        del h5file["events"]
        h5file.create_group("events")

    mutate(copy, change)
    with pytest.raises(SpineFileError, match="'events' is a Group"):
        HDF5Reader(copy)


def test_events_without_region_references(copy):
    def change(h5file):
        del h5file["events"]
        h5file.create_dataset("events", data=np.zeros(6, dtype=[("index", np.int64)]))

    mutate(copy, change)
    with pytest.raises(SpineFileError, match="not a region reference"):
        HDF5Reader(copy)


def test_region_reference_past_the_end(copy):
    # entries 0-2 of reco_particles live in rows 0-6; cut the dataset to 5 rows
    mutate(copy, lambda f: f["reco_particles"].resize((5,)))
    with HDF5Reader(copy) as reader:
        assert len(reader[0]["reco_particles"]) == 1
        with pytest.raises(SpineFileError, match=r"selects rows 1:6 but '/reco_particles' has 5 rows") as info:
            reader[1]
        assert info.value.key == "reco_particles" and info.value.entry == 1
        with pytest.raises(SpineFileError, match="has 5 rows"):
            reader.table("reco_particles")
        assert len(reader.table("reco_particles", [0])[0]) == 1


def test_region_reference_to_another_dataset(copy):
    mutate(copy, set_event_ref("points", 2, lambda f: f["seg_label"].regionref[0:5]))
    with HDF5Reader(copy) as reader:
        reader[1]
        with pytest.raises(SpineFileError, match="points to '/seg_label' instead of '/points'"):
            reader[2]
        with pytest.raises(SpineFileError, match="/seg_label"):
            reader.table("points")


def test_null_region_reference(copy):
    mutate(copy, set_event_ref("run_info", 5, lambda f: h5py.RegionReference()))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="null region reference"):
            reader[5]
        with pytest.raises(SpineFileError, match="null region reference"):
            reader.find(1, 0, 0)


def test_point_selection_is_refused(copy):
    mutate(copy, set_event_ref("seg_label", 0, lambda f: f["seg_label"].regionref[[0, 2, 4]]))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="seg_label"):
            reader[0]


def test_unknown_class_name(copy):
    mutate(copy, lambda f: f["flashes"].attrs.__setitem__("class_name", "Bogus"))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="unknown class_name 'Bogus'") as info:
            reader[0]
        assert "'flashes'" in str(info.value)
    with HDF5Reader(copy, keys=["run_info", "reco_particles"]) as reader:
        assert len(reader[0]["reco_particles"]) == 1
    with HDF5Reader(copy, build_classes=False) as reader:
        assert reader[0]["flashes"][0]["id"] == 0


def test_missing_class_name(copy):
    mutate(copy, lambda f: f["trigger"].attrs.__delitem__("class_name"))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="no 'class_name'"):
            reader[0]


def test_missing_scalar_attribute(copy):
    mutate(copy, lambda f: f["points"].attrs.__delitem__("scalar"))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="no 'scalar' attribute"):
            reader[0]


def test_product_missing_from_the_root(copy):
    mutate(copy, lambda f: f.__delitem__("trigger"))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="'trigger'.*no such dataset"):
            reader[0]
    with HDF5Reader(copy, keys=["run_info"]) as reader:
        assert reader[0]["run_info"].run == 1


def test_broken_flat_group(copy):
    mutate(copy, lambda f: f["clusts"].__delitem__("elements"))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="'clusts'.*elements"):
            reader[0]


def test_wrong_fixed_length_column(copy):
    def change(h5file):
        rows = h5file["meta"][:]
        dtype = np.dtype([(name, rows.dtype[name].base, (2,)) for name in rows.dtype.names])
        del h5file["meta"]
        short = np.zeros(len(rows), dtype=dtype)
        dataset = h5file.create_dataset("meta", data=short, maxshape=(None,))
        dataset.attrs["class_name"] = "ImageMeta3D"
        dataset.attrs["scalar"] = True

    mutate(copy, change)
    with HDF5Reader(copy, keys=["meta"]) as reader:
        with pytest.raises(SpineFileError, match="ImageMeta3D"):
            reader[0]


def test_empty_scalar_region(copy):
    mutate(copy, set_event_ref("trigger", 0, lambda f: f["trigger"].regionref[0:0]))
    with HDF5Reader(copy) as reader:
        with pytest.raises(SpineFileError, match="one object per entry"):
            reader[0]
    mutate(copy, set_event_ref("index", 0, lambda f: f["index"].regionref[0:0]))
    with HDF5Reader(copy, keys=["index"]) as reader:
        with pytest.raises(SpineFileError, match="one value per entry"):
            reader[0]
        with pytest.raises(SpineFileError, match="one row per entry"):
            reader.table("index")


# -- info ----------------------------------------------------------------------------------------


def test_incomplete_file_is_refused_with_the_override(copy):
    mutate(copy, lambda f: f["info"].attrs.__setitem__("complete", np.bool_(False)))
    with pytest.raises(IncompleteFileError, match="ignore_incomplete=True"):
        HDF5Reader(copy)
    with HDF5Reader(copy, ignore_incomplete=True) as reader:
        assert len(reader) == 6


def test_incomplete_second_file_is_refused(copy, tmp_path):
    mutate(copy, lambda f: f["info"].attrs.__setitem__("complete", np.bool_(False)))
    with pytest.raises(IncompleteFileError, match=str(copy.name)):
        HDF5Reader([FULL, copy])


def test_missing_info_is_tolerated(copy):
    mutate(copy, lambda f: f.__delitem__("info"))
    with HDF5Reader(copy) as reader:
        assert reader.info is None and reader.cfg is None and reader.version is None
        assert reader[0]["run_info"].run == 1


def test_missing_or_bad_cfg(copy):
    mutate(copy, lambda f: f["info"].attrs.__delitem__("cfg"))
    with HDF5Reader(copy) as reader:
        assert reader.cfg is None and reader.version == "0.14.1"
    mutate(copy, lambda f: f["info"].attrs.__setitem__("cfg", "a: [unclosed"))
    reader = HDF5Reader(copy)
    with pytest.warns(UserWarning, match="not valid YAML"):  # cfg is parsed on first use, not at open
        assert reader.cfg is None
    reader.close()


def test_info_as_a_dataset(copy):
    def change(h5file):
        attrs = dict(h5file["info"].attrs)
        del h5file["info"]
        dataset = h5file.create_dataset("info", shape=(0,), dtype=np.int8)
        for name, value in attrs.items():
            dataset.attrs[name] = value

    mutate(copy, change)
    with HDF5Reader(copy) as reader:
        assert reader.cfg == {"base": {"seed": 5}}


def test_unsupported_format_version(copy):
    mutate(copy, lambda f: f["info"].attrs.__setitem__("format_version", np.int64(7)))
    with pytest.raises(SpineFileError, match="format_version 7 is not supported"):
        HDF5Reader(copy)
    mutate(copy, lambda f: f["info"].attrs.__setitem__("format_version", np.int64(1)))
    with HDF5Reader(copy) as reader:
        assert reader.format_version == 1


def test_run_map_needs_run_info(copy):
    with HDF5Reader(copy, keys=["index"], run_info_key="nothing") as reader:
        with pytest.raises(SpineFileError, match="no 'nothing' product"):
            reader.find(1, 0, 0)
    mutate(copy, lambda f: f.__delitem__("run_info"))
    with HDF5Reader(copy, keys=["index"]) as reader:
        with pytest.raises(SpineFileError, match="'run_info'.*no such dataset"):
            reader.find(1, 0, 0)
    with HDF5Reader(copy, keys=["index"], run_info_key="trigger") as reader:
        with pytest.raises(SpineFileError, match="run, subrun, event"):
            reader.find(1, 0, 0)


def test_no_h5py_exception_escapes_on_a_damaged_product(copy):
    # the rows of 'points' are overwritten with a dataset of another shape
    def change(h5file):
        del h5file["points"]
        dataset = h5file.create_dataset("points", data=np.zeros((2, 3, 2)), maxshape=(None, 3, 2))
        dataset.attrs["scalar"] = False

    mutate(copy, change)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with HDF5Reader(copy) as reader:
            with pytest.raises(SpineFileError, match="3 dimensions"):
                reader[0]
