"""The ``spineh5`` command: demo, inspect, validate, convert, compare, export, merge, status, schema and generate.

A thin layer over :mod:`spineh5.demo`, :mod:`spineh5.describe`, :mod:`spineh5.validation`,
:mod:`spineh5.conversion`, :mod:`spineh5.comparison` and the generated registry: options are
parsed here, the work is done there. One module per command; importing them registers them.
"""

from __future__ import annotations

from . import compare, convert, demo, export, generate, inspect, merge, schema, status, validate  # noqa: F401  (each registers its command)
from .group import main

__all__ = ["main"]
