"""The stored schema of a file: one JSON record per object class, under ``info/schema`` (spineh5's; SPINE ignores it).

Every file spineh5 writes (V1 and V2) records, for each class its object products
hold, what the class was when the file was written: its schema version, its
columns (dtype, storage, length, default, units, lite, derived, enum) and a YAML
schema document that regenerates it (``spineh5 generate --from-file``). SPINE's
readers look only at ``info``'s attributes, never at its members, so the
``info/schema`` group is invisible to them (V1 spec section 2.2, V2 spec section 1.2).

Each record is one attribute of ``info/schema`` named by the class, holding JSON
text. HDF5's default file format limits an attribute to 64 KiB; a record larger
than :data:`MAX_ATTRIBUTE_BYTES` is stored as a scalar string dataset of the same
name in that group instead.
"""

from __future__ import annotations

import json
from typing import Any

import h5py

from .common import INFO, attr_string

__all__ = ["MAX_ATTRIBUTE_BYTES", "SCHEMA", "read_class_schemas", "write_class_schemas"]

#: Member of ``info`` holding the class records.
SCHEMA = "schema"
#: Largest record kept as an attribute (HDF5's limit is 64 KiB per attribute, header included).
MAX_ATTRIBUTE_BYTES = 60_000
#: Keys of one record (JSON object).
RECORD_KEYS = ("class_name", "schema_version", "module", "columns", "yaml")


def write_class_schemas(h5file: h5py.File, records: dict[str, dict[str, Any]]) -> None:
    """Store one JSON record per class in ``info/schema`` (created when missing), in name order."""
    if not records:
        return
    group = h5file[INFO].require_group(SCHEMA)
    for name in sorted(records):
        text = json.dumps(records[name], separators=(",", ":"), allow_nan=True)
        if name in group.attrs:
            del group.attrs[name]
        if name in group:
            del group[name]
        if len(text.encode("utf-8")) > MAX_ATTRIBUTE_BYTES:
            group.create_dataset(name, data=text, dtype=h5py.string_dtype())
        else:
            group.attrs[name] = text


def read_class_schemas(h5file: h5py.File) -> dict[str, dict[str, Any]]:
    """Return the stored class records of a file, by class name ({} for a file that has none).

    Records that are not JSON objects are left out, never raised.
    """
    info = h5file.get(INFO)
    group = info.get(SCHEMA) if isinstance(info, h5py.Group) else None
    if not isinstance(group, h5py.Group):
        return {}
    texts = {name: attr_string(group.attrs[name]) for name in group.attrs}
    for name, node in group.items():
        if isinstance(node, h5py.Dataset):
            texts[name] = attr_string(node[()])
    records = {}
    for name, text in sorted(texts.items()):
        try:
            record = json.loads(text) if text is not None else None
        except ValueError:
            continue
        if isinstance(record, dict):
            records[name] = record
    return records
