"""Compression filters: the names a writer takes, their dataset options, and the names ``inspect`` shows.

HDF5's built-in ``gzip`` and h5py's ``lzf`` need nothing else. The fast
filters come from ``hdf5plugin`` (``pip install 'spineh5[compression]'``):

* ``blosc2-lz4``, ``blosc2-zstd``: Blosc2 with byte shuffle and LZ4 or Zstd;
* ``bitshuffle-lz4``, ``bitshuffle-zstd``: bit shuffle, then LZ4 or Zstd.

``compression_opts`` is the gzip level (0-9), the Blosc2 level (0-9) or the
Zstd level of Bitshuffle (1-22; LZ4 takes none). A file written with a plugin
filter needs that plugin to be read: :func:`missing_filter_error` turns
HDF5's message (``can't open directory /usr/local/lib/plugin``) into one line
naming the filter and the package that provides it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import h5py

from .errors import SpineFileError, SpineH5Error

__all__ = [
    "BUILTIN",
    "MissingFilterError",
    "PLUGINS",
    "dataset_options",
    "filter_names",
    "missing_filter_error",
]

#: Filters HDF5 or h5py provide.
BUILTIN = ("gzip", "lzf")
#: Writer names of the hdf5plugin filters: (hdf5plugin class, its compressor).
PLUGINS = {
    "blosc2-lz4": ("Blosc2", "lz4"),
    "blosc2-zstd": ("Blosc2", "zstd"),
    "bitshuffle-lz4": ("Bitshuffle", "lz4"),
    "bitshuffle-zstd": ("Bitshuffle", "zstd"),
}
#: HDF5 filter ids of the registered third-party filters a SPINE file may use: (name, package providing it).
KNOWN_FILTERS = {
    32001: ("Blosc", "hdf5plugin"),
    32004: ("LZ4", "hdf5plugin"),
    32008: ("Bitshuffle", "hdf5plugin"),
    32015: ("Zstd", "hdf5plugin"),
    32026: ("Blosc2", "hdf5plugin"),
    307: ("bzip2", "hdf5plugin"),
    32013: ("ZFP", "hdf5plugin"),
    32017: ("SZ", "hdf5plugin"),
}
#: Names of HDF5's own filters (by id), as ``inspect`` shows them.
_OWN_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}


class MissingFilterError(SpineFileError):
    """A file needs an HDF5 filter (a compression plugin) this process cannot load."""


def _hdf5plugin() -> Any:
    try:
        import hdf5plugin
    except ImportError:
        return None
    return hdf5plugin


def dataset_options(name: str, level: int | None = None) -> dict[str, Any]:
    """Return the ``create_dataset`` options of a compression name (``compression``, ``compression_opts``).

    Raises
    ------
    SpineH5Error
        For an unknown name, or a plugin filter without ``hdf5plugin`` installed.
    """
    if name in BUILTIN:
        options: dict[str, Any] = {"compression": name}
        if name == "gzip" and level is not None:
            options["compression_opts"] = level
        return options
    if name not in PLUGINS:
        known = ", ".join((*BUILTIN, *PLUGINS))
        raise SpineH5Error(f"unknown compression {name!r} (known: {known})")
    plugin = _hdf5plugin()
    if plugin is None:
        raise SpineH5Error(
            f"compression {name!r} needs the hdf5plugin package: pip install hdf5plugin (or 'spineh5[compression]')"
        )
    family, compressor = PLUGINS[name]
    if family == "Blosc2":
        made = plugin.Blosc2(cname=compressor, clevel=5 if level is None else level, filters=plugin.Blosc2.SHUFFLE)
    elif compressor == "zstd":
        made = plugin.Bitshuffle(cname="zstd", clevel=3 if level is None else level)
    else:
        made = plugin.Bitshuffle(cname="lz4")
    return dict(made)


def _filters(dataset: h5py.Dataset) -> list[tuple[int, str]]:
    """Return ``(id, name)`` of every filter of a dataset's pipeline, with the names ``inspect`` uses."""
    plist = dataset.id.get_create_plist()
    out = []
    for index in range(plist.get_nfilters()):
        code, _, values, stored_name = plist.get_filter(index)
        if code in _OWN_FILTERS:
            name = _OWN_FILTERS[code]
        elif code in KNOWN_FILTERS:
            name = KNOWN_FILTERS[code][0]
            if code == 32026 and len(values) > 6:  # Blosc2: cd_values[6] is the compressor code
                name += {0: "-blosclz", 1: "-lz4", 2: "-lz4hc", 4: "-zlib", 5: "-zstd"}.get(values[6], "")
            elif code == 32008 and len(values) > 4:  # Bitshuffle: cd_values[4] is 2 (LZ4) or 3 (Zstd)
                name += {2: "-lz4", 3: "-zstd"}.get(values[4], "")
        else:
            name = stored_name.decode("utf-8", "replace") or f"filter {code}"
        out.append((code, name))
    return out


def filter_names(dataset: h5py.Dataset) -> list[str]:
    """Return the names of a dataset's third-party filters (``Blosc2-lz4``, ``Bitshuffle-zstd``...), in order."""
    return [name for code, name in _filters(dataset) if code not in _OWN_FILTERS]


def _unavailable(node: h5py.Group | h5py.Dataset) -> list[tuple[str, int, str]]:
    """Return ``(dataset, filter id, filter name)`` of the filters under ``node`` that HDF5 cannot load."""
    found: list[tuple[str, int, str]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            for code, filter_name in _filters(obj):
                if code not in _OWN_FILTERS and not h5py.h5z.filter_avail(code):
                    found.append((obj.name, code, filter_name))

    if isinstance(node, h5py.Dataset):
        visit(node.name, node)
    else:
        node.visititems(visit)
    return found


def missing_filter_error(
    h5file: h5py.File, path: str, key: str | None = None, entry: int | None = None
) -> MissingFilterError | None:
    """Return the error of a read that failed for want of a filter plugin (None when that is not the cause).

    Looks at the datasets of product ``key`` (the whole file without one). If
    ``hdf5plugin`` is installed but was not imported, it is imported here, so
    the next read works.
    """
    try:
        node = h5file if key is None else (h5file.get(key) or h5file.get(f"products/{key}") or h5file)
        missing = _unavailable(node)
    except Exception:  # a damaged file: leave the original error
        return None
    if not missing:
        return None
    dataset, code, name = missing[0]
    package = KNOWN_FILTERS.get(code, (name, None))[1]
    if package == "hdf5plugin" and _hdf5plugin() is not None and h5py.h5z.filter_avail(code):
        hint = "hdf5plugin is installed and is now imported: read again (or import hdf5plugin before reading)"
    elif package is not None:
        hint = f"pip install {package} (or 'spineh5[compression]') and import it before reading"
    else:
        hint = "install the HDF5 plugin that provides it (HDF5_PLUGIN_PATH)"
    return MissingFilterError(
        f"{dataset} is compressed with the {name} filter (HDF5 filter {code}), which this HDF5 cannot load: {hint}",
        path,
        key,
        entry,
    )


def plugin_available() -> bool:
    """Return whether ``hdf5plugin`` can be imported (without importing it)."""
    return importlib.util.find_spec("hdf5plugin") is not None
