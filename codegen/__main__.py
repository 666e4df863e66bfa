"""Command line of the generator for spineh5's own types: ``python -m codegen [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spineh5.codegen import SchemaError
from spineh5.codegen.formatter import FormatterError
from spineh5.codegen.library import LIBRARY_DIR, copy_library, stale_library
from spineh5.codegen.run import generate

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schema"


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``src/spineh5/generated`` from ``schema/``, or check that it is up to date.

    With the repository's ``schema/``, the copy of its YAML files shipped in the package
    (``src/spineh5/codegen/schema/``, the library of user schemas) is written or checked too.
    """
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--schema", type=Path, default=SCHEMA_DIR, help="folder of *.yaml schemas")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "spineh5" / "generated", help="output folder")
    parser.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    args = parser.parse_args(argv)
    try:
        outcome = generate(args.schema, args.out, check=args.check)
    except SchemaError as err:
        print(f"schema error: {err}", file=sys.stderr)
        return 2
    except FormatterError as err:
        print(f"cannot format the generated code: {err}", file=sys.stderr)
        return 3
    library = args.schema.resolve() == SCHEMA_DIR
    if args.check:
        status = 0
        if outcome.stale:
            print(
                f"stale generated code in {args.out}: {', '.join(outcome.stale)}; run `nox -s generate`",
                file=sys.stderr,
            )
            status = 1
        stale = stale_library(args.schema) if library else []
        if stale:
            print(f"stale schema copy in {LIBRARY_DIR}: {', '.join(stale)}; run `nox -s generate`", file=sys.stderr)
            status = 1
        if status == 0:
            print(f"{args.out} is up to date ({len(outcome.outputs)} files)")
        return status
    print(f"generated {len(outcome.outputs)} files into {args.out} ({len(outcome.changed)} changed)")
    if library:
        copied = copy_library(args.schema)
        if copied:
            print(f"copied {', '.join(copied)} into {LIBRARY_DIR}")
    if outcome.recorded:
        print(f"recorded schema_version {outcome.schema.version} in {args.schema / 'versions.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
