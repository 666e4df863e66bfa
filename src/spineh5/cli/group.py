"""The ``spineh5`` command group; each command lives in its own module of :mod:`spineh5.cli`.

A thin layer over :mod:`spineh5.demo`, :mod:`spineh5.describe`,
:mod:`spineh5.validation`, :mod:`spineh5.conversion` and the generated registry:
options are parsed here, the work is done there.
"""

from __future__ import annotations

import click

from .. import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spineh5")
def main() -> None:
    """Write, inspect and validate SPINE reconstruction HDF5 files."""


# -- demo -----------------------------------------------------------------------------------------------
