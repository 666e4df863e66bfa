"""Output file names: spineh5's get_file_names against fixed expectations and SPINE's own static method."""

from __future__ import annotations

import pytest

from spineh5 import HDF5Writer
from spineh5.naming import get_file_names

try:
    from spine.io.write import HDF5Writer as SpineWriter
except ImportError:  # SPINE is optional: its rules are also pinned below
    SpineWriter = None

# (file_name, prefix, suffix, split, directory) -> expected names
CASES = [
    (("out.h5", None, "spine", False, None), ["out.h5"]),
    (("dir/out.h5", None, "spine", False, None), ["dir/out.h5"]),
    (("dir/out.h5", None, "spine", False, "/data"), ["/data/out.h5"]),
    (("dir/out.h5", "in/x.root", "spine", False, None), ["dir/out.h5"]),
    (("out.h5", ["a.root", "b.root"], "spine", False, None), ["out.h5"]),
    ((None, "in/run1.root", "spine", False, None), ["in/run1_spine.h5"]),
    ((None, "run1.root", "spine", False, None), ["run1_spine.h5"]),
    ((None, "in/run1.root", "reco", False, None), ["in/run1_reco.h5"]),
    ((None, "in/run1.v2.larcv.root", "spine", False, None), ["in/run1.v2.larcv_spine.h5"]),
    ((None, "in/run1", "spine", False, None), ["in/run1_spine.h5"]),
    ((None, "in/run1.root", "spine", False, "/out"), ["/out/run1_spine.h5"]),
    (("", "in/run1.root", "spine", False, None), ["in/run1_spine.h5"]),
    ((None, ["in/a.root", "other/b.root"], "spine", True, None), ["in/a_spine.h5", "in/b_spine.h5"]),
    ((None, ("in/a.root", "in/b.root"), "ana", True, None), ["in/a_ana.h5", "in/b_ana.h5"]),
    ((None, ["in/a.root", "in/b.root"], "spine", True, "/out"), ["/out/a_spine.h5", "/out/b_spine.h5"]),
    (("res/out.h5", ["a.root", "b.root", "c.root"], "spine", True, None), [f"res/out_{i}.h5" for i in range(3)]),
    (("res/out.v1.h5", ["a.root", "b.root"], "spine", True, None), ["res/out.v1_0.h5", "res/out.v1_1.h5"]),
    (("res/out.h5", ["a.root", "b.root"], "spine", True, "/out"), ["/out/out_0.h5", "/out/out_1.h5"]),
    (("res/out", ["a.root", "b.root"], "spine", True, None), ["res/out_0.h5", "res/out_1.h5"]),
    (("res/out.h5", ["a.root"], "spine", True, None), ["res/out.h5"]),
    (("res/out.h5", ["a.root"], "spine", True, "/out"), ["/out/out.h5"]),
    (("", ["in/a.root", "in/b.root"], "spine", True, None), ["in/a_spine.h5", "in/b_spine.h5"]),
]

ERRORS = [
    (None, None, "spine", False, None),  # nothing to build a name from
    (None, ["a.root", "b.root"], "spine", False, None),  # several prefixes without split
    (None, "a.root", "spine", True, None),  # split needs one prefix per input file
    ("out.h5", "a.root", "spine", True, None),
    ("out.h5", None, "spine", True, None),
]


def _ids(cases):
    return [f"{i}-{args}" for i, (args, _) in enumerate(cases)]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=_ids(CASES))
def test_file_names(args, expected):
    assert get_file_names(*args) == expected
    assert HDF5Writer.get_file_names(*args) == expected


@pytest.mark.parametrize(("args", "expected"), CASES, ids=_ids(CASES))
def test_file_names_match_spine(args, expected):
    if SpineWriter is None:
        pytest.skip("SPINE is not installed")
    assert SpineWriter.get_file_names(*args) == get_file_names(*args)


@pytest.mark.parametrize("args", ERRORS, ids=[str(a) for a in ERRORS])
def test_unnameable_outputs_raise(args):
    with pytest.raises(ValueError):
        get_file_names(*args)
    if SpineWriter is not None:
        with pytest.raises((AssertionError, TypeError, ValueError)):
            SpineWriter.get_file_names(*args)


def test_keyword_call_matches_constructor(tmp_path):
    writer = HDF5Writer(prefix=str(tmp_path / "x.root"), suffix="out", directory=str(tmp_path / "d"))
    assert writer.file_names == [str(tmp_path / "d" / "x_out.h5")]
