"""The rule registry of ``spineh5.validation``: one declaration per rule, no problem outside the registry.

Every rule of RULES is also *emitted* by a test: test_validate.py's
``test_every_rule_has_a_breaking_file`` (the V1 and shared rules, equality
with RULES) and test_validate_v2.py's ``test_every_v2_rule_has_a_breaking_file``
(every ``v2.*`` rule) list a breaking file per rule, and their parametrized
``test_rule_is_reported`` asserts that each one reports it.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import pytest
from conftest import FIXTURE_FILES, FULL

import spineh5.validation as validation
from spineh5.layouts import REGISTRY
from spineh5.validation import RULES, validate
from spineh5.validation import v1 as v1_checks
from spineh5.validation.context import Context
from spineh5.validation.file_check import LAYOUT_CHECKS
from spineh5.validation.rules import Rule, UnregisteredRuleError, rule, rules_table

PACKAGE = Path(validation.__file__).parent


def test_rules_come_from_the_registry() -> None:
    assert RULES == rules_table()
    assert len(RULES) == 65
    assert all(description for description in RULES.values())


def test_an_unregistered_rule_cannot_be_reported() -> None:
    with h5py.File(FULL, "r") as h5file:
        ctx = Context(h5file)
        with pytest.raises(UnregisteredRuleError, match="no.such"):
            ctx.error("/", "no.such", "text")
        with pytest.raises(UnregisteredRuleError):
            ctx.warning("/", Rule("no.such", "never declared"), "text")
        with pytest.raises(UnregisteredRuleError):
            ctx.error("/", Rule("info.missing", "another description"), "text")
        assert ctx.problems == []


def test_an_unregistered_rule_fails_validate_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-failure guard of the checks does not swallow it into read.failed."""

    def broken_check(ctx: Context) -> None:
        ctx.error("/", "root.typo", "a check with a typo in its rule id")

    monkeypatch.setattr(v1_checks, "_check_root", broken_check)
    with pytest.raises(UnregisteredRuleError, match="root.typo"):
        validate(FULL)


def test_a_rule_is_declared_once_under_a_known_topic() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        rule("info.missing", "again")
    with pytest.raises(ValueError, match="topic"):
        rule("nowhere.rule", "a rule of no known topic")
    assert "nowhere.rule" not in rules_table()


def test_every_declared_rule_is_reported_by_its_module() -> None:
    """Each ``NAME = rule(...)`` declaration is used by a report in the same module (no declared-only rule)."""
    declared = re.compile(r"^(\w+) = rule\(\s*\"([\w.]+)\"", re.MULTILINE)
    found = {}
    for module in sorted(PACKAGE.glob("*.py")):
        text = module.read_text()
        for name, rule_id in declared.findall(text):
            found[rule_id] = module.name
            uses = len(re.findall(rf"\b{name}\b", text))
            importers = [other.name for other in PACKAGE.glob("*.py") if re.search(rf"\b{name}\b", other.read_text())]
            assert uses > 1 or len(importers) > 1, f"{rule_id} ({module.name}) is declared but never reported"
    assert set(found) == set(RULES)


def test_every_layout_of_the_registry_has_its_checks() -> None:
    assert set(LAYOUT_CHECKS) == set(REGISTRY)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[path.name for path in FIXTURE_FILES])
def test_problems_name_declared_rules(path: Path) -> None:
    assert {problem.rule for problem in validate(path)} <= set(RULES)
