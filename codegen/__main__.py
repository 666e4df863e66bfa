"""Command line of the generator: ``python -m codegen [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import SchemaError, load_schema, render, stale_outputs, write_outputs
from .formatter import FormatterError
from .versions import check_version

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``src/spineh5/generated`` from ``schema/``, or check that it is up to date."""
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--schema", type=Path, default=ROOT / "schema", help="folder of *.yaml schemas")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "spineh5" / "generated", help="output folder")
    parser.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    args = parser.parse_args(argv)
    try:
        schema = load_schema(args.schema)
        recorded = check_version(schema, args.schema, record=not args.check)
    except SchemaError as err:
        print(f"schema error: {err}", file=sys.stderr)
        return 2
    try:
        outputs = render(schema, args.schema.name)
    except FormatterError as err:
        print(f"cannot format the generated code: {err}", file=sys.stderr)
        return 3
    if args.check:
        stale = stale_outputs(outputs, args.out)
        if stale:
            print(f"stale generated code in {args.out}: {', '.join(stale)}; run `nox -s generate`", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(outputs)} files)")
        return 0
    changed = write_outputs(outputs, args.out)
    print(f"generated {len(outputs)} files into {args.out} ({len(changed)} changed)")
    if recorded:
        print(f"recorded schema_version {schema.version} in {args.schema / 'versions.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
