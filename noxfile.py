"""Development sessions: ``nox -s generate``, ``tests``, ``lint``, ``check_generated``, ``spine_v2``, ``bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["check_generated", "lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


#: The ruff of the lint session and of the generator (which formats the rendered code with it): the
#: specifier of pyproject.toml's ``test`` and ``dev`` extras, one minor series so the format is stable.
RUFF = "ruff>=0.17,<0.18"
#: What the generator needs: the package's dependencies (numpy for the element table, attrs, pyyaml),
#: Jinja2 for the templates and ruff.
CODEGEN_DEPS = ("-e", ".", "jinja2>=3.1", RUFF)


@nox.session
def generate(session: nox.Session) -> None:
    """Render ``src/spineh5/generated/`` from ``schema/`` and format it with ruff."""
    session.install(*CODEGEN_DEPS)
    session.run("python", "-m", "codegen")


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail when the committed ``src/spineh5/generated/`` differs from a fresh, formatted generation."""
    session.install(*CODEGEN_DEPS)
    session.run("python", "-m", "codegen", "--check")


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check)."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, with SPINE 0.14.1 installed so its reader checks our files."""
    session.install("-e", ".[test,spine]")
    session.run("pytest", *session.posargs)


#: Tests that need SPINE's later releases (its V2 reader and writer); they skip under SPINE 0.14.1.
SPINE_V2_TESTS = ["tests/test_v2_read.py", "tests/test_convert.py", "tests/test_validate_v2.py"]


@nox.session
def spine_v2(session: nox.Session) -> None:
    """Cross-check V2 files with SPINE >= 1.4: its reader loads ours, ours validate and convert its files.

    Runs the tests named ``*spine_v2*`` (skipped in ``tests``, where SPINE 0.14.1
    is installed); pass other pytest arguments after ``--``.
    """
    session.install("-e", ".", "spine>=1.4", "pytest>=7", "hypothesis>=6.80")
    session.run("pytest", *SPINE_V2_TESTS, "-k", "spine_v2", "-rs", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the write/read benchmark against bare h5py and print the table."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks", *session.posargs)
