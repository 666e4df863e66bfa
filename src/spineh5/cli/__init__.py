"""The ``spineh5`` command and its subcommands (one module each, listed in :data:`main`).

A thin layer over :mod:`spineh5.demo`, :mod:`spineh5.describe`, :mod:`spineh5.validation`,
:mod:`spineh5.conversion`, :mod:`spineh5.comparison` and the generated registry: options are
parsed here, the work is done there. One module per command; importing them registers them.
"""

from __future__ import annotations

from . import (  # noqa: F401  (each registers its command)
    compare,
    convert,
    demo,
    export,
    generate,
    inspect,
    merge,
    recover,
    schema,
    status,
    upgrade,
    validate,
)
from .group import main

__all__ = ["main"]
