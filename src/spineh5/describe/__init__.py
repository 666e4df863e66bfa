"""What a SPINE HDF5 file holds, read with h5py alone: the logic behind ``spineh5 inspect``.

Three views, each a plain function returning text:

* :func:`format_summary` of :func:`summarize`: layout, entries, completeness,
  writer, config and one line per product (kind, class, columns, rows, bytes
  on disk, compression, chunks);
* :func:`format_product`: one product in detail (its columns on disk next to
  the schema's, rows per entry);
* :func:`format_entry` / :func:`format_entry_overview`: the content of one
  product (or every product) of one entry, under its run, subrun and event
  (:func:`event_text`; :func:`entries_of_event` finds the entry of an event);
  objects as a table of chosen columns, or one block per object.

The layout is told by the registry (:func:`spineh5.layouts.detect`), and
everything known about the on-disk format comes from :mod:`spineh5.format`.
Summaries and product details read the file leniently, so they also work on
files neither the writer nor the reader would accept; entries are decoded by
the file's read layout (:func:`spineh5.layouts.read_layout`), which checks
the references and offsets it follows.

Modules: :mod:`.files` (opening a file, its read layout), :mod:`.views`
(which layout view describes a file), :mod:`.v1` and :mod:`.v2` (the
products of each layout), :mod:`.product` (one product's summary and sizes),
:mod:`.summary` (the file summary), :mod:`.text` (the text of the summary and
tables), :mod:`.entries` (the content of entries), :mod:`.objects` (object
tables and blocks), :mod:`.numbers` (how values are written), :mod:`.runs`
(run, subrun and event of entries), :mod:`.vlen` (variable-length bytes in the
global heap).

Every function here that reads an open file raises :class:`~spineh5.errors.SpineFileError`
(never h5py's exceptions) when the file is damaged (:func:`spineh5.h5_errors.translating`).
"""

from __future__ import annotations

from ..errors import FileOpenError
from ..format.common import attr_text, truthy
from ..h5_errors import translating
from . import entries, runs, summary, views
from .files import open_file
from .product import ProductSummary
from .runs import event_text
from .summary import FileSummary
from .text import format_summary

# The functions that read an open file: h5py's exceptions on a damaged one become SpineFileError.
format_entry = translating(entries.format_entry)
format_entry_overview = translating(entries.format_entry_overview)
object_columns = translating(entries.object_columns)
read_entry = translating(entries.read_entry)
entries_of_event = translating(runs.entries_of_event)
summarize = translating(summary.summarize)
format_product = translating(views.format_product)
layout_of = translating(views.layout_of)
product_keys = translating(views.product_keys)

__all__ = [
    "FileOpenError",
    "FileSummary",
    "ProductSummary",
    "attr_text",
    "entries_of_event",
    "event_text",
    "format_entry",
    "format_entry_overview",
    "format_product",
    "format_summary",
    "layout_of",
    "object_columns",
    "open_file",
    "product_keys",
    "read_entry",
    "summarize",
    "truthy",
]
