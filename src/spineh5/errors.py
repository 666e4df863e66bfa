"""Exceptions raised by spineh5: every error derives from :class:`SpineH5Error`."""

from __future__ import annotations


class SpineH5Error(Exception):
    """Base class of every error spineh5 raises on purpose."""


class ProductError(SpineH5Error, ValueError):
    """A product of a batch cannot be written; nothing of that batch was written.

    Attributes
    ----------
    key : str
        The product (data key).
    entry : int or None
        Position of the entry in the batch, when the problem is in one entry.
    field : str or None
        The object field, when the problem is in one column.
    file_entry : int or None
        The entry number the entry would have had in its output file, when known.
    """

    def __init__(
        self,
        key: str,
        problem: str,
        entry: int | None = None,
        field: str | None = None,
        file_entry: int | None = None,
    ) -> None:
        self.key = key
        self.entry = entry
        self.field = field
        self.problem = problem
        self.file_entry = file_entry
        where = f"product {key!r}"
        if entry is not None:
            where += f", entry {entry} of the batch"
            if file_entry is not None:
                where += f" (file entry {file_entry})"
        super().__init__(f"{where}: {problem}")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def with_file_entry(self, entry: int, file_entry: int) -> ProductError:
        """Return the same error for batch position ``entry``, naming the ``file_entry`` it would have had."""
        return type(self)(self.key, self.problem, entry, self.field, file_entry)


class UnsupportedProductError(ProductError, TypeError):
    """A product's values are of a type or shape no product can hold (a ``TypeError`` too, as in SPINE's writer)."""


class MissingProductError(ProductError, KeyError):
    """A product the file stores is missing from the data (a ``KeyError``, as in SPINE's writer)."""


class LayoutMismatchError(SpineH5Error, ValueError):
    """An existing file does not hold the products, kinds or dtypes of the incoming data."""


class OutputExistsError(SpineH5Error, FileExistsError):
    """An output file exists and the writer was given neither ``overwrite`` nor ``append``."""


class FileStateError(SpineH5Error, RuntimeError):
    """The writer was asked to do something its files' state does not allow."""


class SpineFileError(SpineH5Error):
    """A file cannot be read as SPINE output.

    Raised instead of h5py's low-level exceptions: the message names the file
    and, where it applies, the product key and the entry.

    Attributes
    ----------
    path : str or None
        The file.
    key : str or None
        The product, when the problem is in one product.
    entry : int or None
        The entry of the file, when the problem is in one entry.
    """

    def __init__(self, problem: str, path: str | None = None, key: str | None = None, entry: int | None = None):
        self.problem = problem
        self.path = path
        self.key = key
        self.entry = entry
        where = []
        if path is not None:
            where.append(str(path))
        if key is not None:
            where.append(f"product {key!r}")
        if entry is not None:
            where.append(f"entry {entry}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class IncompleteFileError(SpineFileError):
    """A file's ``info.complete`` attribute says its writer did not finish it."""


class SchemaEvolutionError(SpineFileError):
    """Stored rows cannot be read under the current schema: a dtype change that no evolution rule allows.

    The message names the class, the field, the file's dtype and the schema's, and
    how to declare the change (``cast_from``) when one can be declared.
    """


class ColumnError(SpineH5Error, ValueError):
    """A value cannot be stored in a column.

    Attributes
    ----------
    class_name : str
        The object type.
    field : str
        The column name.
    position : int or None
        Position of the object in the sequence being converted, when known.
    """

    def __init__(self, class_name: str, field: str, problem: str, position: int | None = None) -> None:
        self.class_name = class_name
        self.field = field
        self.problem = problem
        self.position = position
        where = f"{class_name}.{field}"
        if position is not None:
            where = f"{class_name} #{position}, field {field!r}"
        super().__init__(f"{where}: {problem}")


class UnknownProductError(SpineH5Error, ValueError):
    """The kind of a product cannot be decided from the data and no hint was given."""


class UnsupportedValueError(UnknownProductError, TypeError):
    """A value of a type or shape no product can hold: arrays of 3 or more dimensions, arrays of text or objects."""


class FileOpenError(SpineH5Error):
    """A path is not a readable HDF5 file; the message is a one-line reason."""


class ConvertError(SpineH5Error):
    """A file cannot be converted; the message is a one-line reason."""


class CompareError(SpineH5Error, ValueError):
    """Two files cannot be compared as asked (a product named is in neither); the message is one line."""


class UnknownColumnsWarning(UserWarning):
    """Stored object rows carry columns the schema does not know (a later SPINE release).

    The columns are left out of the rebuilt objects; they stay readable through
    ``HDF5Reader.raw``, ``HDF5Reader.table`` and ``build_classes=False``.
    """
