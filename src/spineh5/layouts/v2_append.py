"""What an append to a V2 file checks against what the file stores: object dtypes, object plans, group structure.

:class:`~spineh5.layouts.v2_write.V2Layout` refuses an append whose products
differ from the stored ones before anything is written
(``docs/format/spine-v2-format.md`` sections 3.3 and 7: SPINE corrupts such files
silently). These helpers say how they differ:

* :func:`stored_object_dtype`: the schema dtype (``DTYPE`` or ``LITE_DTYPE``)
  an objects group was written from, else its logical dtype;
* :func:`object_difference`: how a stored object plan differs from the data's
  (lite setting, columns, column dtypes, order);
* :func:`structure_problems`: why a product group cannot safely grow.
"""

from __future__ import annotations

import h5py
import numpy as np

from ..format.v2 import EVENT_OFFSETS, ObjectPlan, logical_dtype, object_plan
from ..products import ProductSpec
from ..types.dtypes import describe_dtype

__all__ = ["object_difference", "stored_object_dtype", "structure_problems"]


def stored_object_dtype(plan: ObjectPlan, class_name: str | None) -> np.dtype:
    """Return the class's DTYPE/LITE_DTYPE whose split is the stored plan, else the plan's logical dtype.

    The logical dtype lists the fixed columns, then the pool fields pool by
    pool, so that splitting it again gives back the stored plan.
    """
    from ..types.registry import REGISTRY

    cls = REGISTRY.get(class_name) if class_name else None
    if cls is not None:
        for dtype in (cls.DTYPE, cls.LITE_DTYPE):
            if object_plan(dtype).signature() == plan.signature():
                return dtype
    return logical_dtype(plan)


def object_difference(key: str, have: ObjectPlan, want: ProductSpec) -> str | None:
    """Describe how a stored object plan differs from the plan of ``want`` (None when identical)."""
    from ..types.registry import REGISTRY

    expected = object_plan(want.dtype)
    if have.signature() == expected.signature():
        return None
    cls = REGISTRY.get(want.class_name or "")
    if cls is not None:
        lite = {describe_dtype(cls.DTYPE): False, describe_dtype(cls.LITE_DTYPE): True}
        want_lite = lite.get(describe_dtype(want.dtype))
        for stored_lite, dtype in ((False, cls.DTYPE), (True, cls.LITE_DTYPE)):
            if want_lite is None or want_lite == stored_lite:
                continue
            if object_plan(dtype).signature() == have.signature():
                return f"{key!r}: the file stores lite={stored_lite} {want.class_name} rows, data is lite={want_lite}"
    stored_columns = _column_descriptions(have)
    wanted_columns = _column_descriptions(expected)
    details = []
    only_file = [name for name in stored_columns if name not in wanted_columns]
    only_data = [name for name in wanted_columns if name not in stored_columns]
    if only_file:
        details.append(f"columns only in the file: {only_file}")
    if only_data:
        details.append(f"columns only in the data: {only_data}")
    for name, text in wanted_columns.items():
        if name in stored_columns and stored_columns[name] != text:
            details.append(f"column {name!r}: file {stored_columns[name]}, data {text}")
    if not details:
        details.append("same columns, stored in another order or other pools")
    return f"{key!r}: stored {want.class_name} columns differ from the data's: " + "; ".join(details)


def _column_descriptions(plan: ObjectPlan) -> dict[str, str]:
    out = {name: describe_dtype(plan.fixed_dtype.fields[name][0]) for name in plan.fixed_names}
    for pool in plan.pools:
        for field in pool.fields:
            out[field] = "str" if pool.is_string else f"vlen<{describe_dtype(pool.base)}>"
    return out


def structure_problems(key: str, group: h5py.Group, n_entries: int) -> list[str]:
    """Return the reasons a product group cannot safely grow: non-chunked datasets, offsets of the wrong length."""
    problems = []
    datasets: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, node: datasets.append((name, node)) if isinstance(node, h5py.Dataset) else None)
    for name, dataset in datasets:
        if dataset.chunks is None or dataset.maxshape[0] is not None:
            problems.append(f"{key!r}: dataset {name!r} is not resizable (not chunked with maxshape None)")
        if name.rsplit("/", 1)[-1] == EVENT_OFFSETS and dataset.shape[0] != n_entries + 1:
            problems.append(
                f"{key!r}: {name!r} has {dataset.shape[0]} rows, expected entries + 1 = {n_entries + 1} "
                "(the file is damaged; appending would misalign it further)"
            )
    return problems
