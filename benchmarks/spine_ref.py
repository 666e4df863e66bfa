"""Optional reference: SPINE's own V1 writer (``spine.io.write.HDF5Writer``) on the same event mix."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from .mix import OBJECT_CLASSES


def available() -> bool:
    try:
        import spine.data  # noqa: F401
        import spine.io.write  # noqa: F401
    except Exception:  # noqa: BLE001 - any import problem means "not available"
        return False
    return True


def _convert(obj: Any, spine_data: Any) -> Any:
    cls = getattr(spine_data, type(obj).__name__)
    values = {}
    for field in dataclasses.fields(cls):
        if field.init and hasattr(obj, field.name):
            value = getattr(obj, field.name)
            values[field.name] = int(value) if isinstance(value, enum.Enum) else value
    return cls(**values)


def to_spine(batches: list[dict[str, list]]) -> list[dict[str, list]]:
    """Return the batches with every object rebuilt as the SPINE data class of the same name."""
    import spine.data as spine_data

    out = []
    for batch in batches:
        converted = {}
        for key, values in batch.items():
            if key in OBJECT_CLASSES:
                converted[key] = [
                    [_convert(obj, spine_data) for obj in entry]
                    if isinstance(entry, list)
                    else _convert(entry, spine_data)
                    for entry in values
                ]
            else:
                converted[key] = values
        out.append(converted)
    return out


def write_spine(path: str, batches: list[dict[str, list]]) -> None:
    """Write SPINE-object batches with SPINE's writer."""
    from spine.io.write import HDF5Writer

    writer = HDF5Writer(file_name=path, overwrite=True)
    for batch in batches:
        writer(batch, {})
    if hasattr(writer, "finalize"):
        writer.finalize()


def read_one_with_spine(path: str) -> int:
    """Open a file with SPINE's reader and rebuild every product of its first and last entries."""
    from spine.io.read import HDF5Reader

    reader = HDF5Reader(file_keys=[path])
    count = len(reader)
    for idx in (0, count - 1):
        data = reader[idx]
        assert "reco_particles" in data
    return count
