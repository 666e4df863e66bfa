"""Regenerate the old-schema fixtures of the schema-evolution tests (``tests/data/evolution/``).

Renders the test schema ``tests/schemas/evo_old`` with ``spineh5 generate``'s machinery into a
temporary package, imports it and writes ``evo_old_v1.h5`` and ``evo_old_v2.h5`` (both layouts)
with the current writer. Run it only when the writer's format changes on purpose:

    PYTHONPATH=src python tests/make_evolution_fixtures.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from evolution_support import write_old_fixtures


def main() -> None:
    """Write the fixtures and print their paths and sizes."""
    with tempfile.TemporaryDirectory() as root:
        for path in write_old_fixtures(Path(root)):
            print(f"{path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
