"""The rule registry: every rule ``validate`` checks is declared once, beside the check that reports it.

A check module declares its rules with :func:`rule` (id and description),
and reports a problem by passing the returned :class:`Rule` to
:meth:`spineh5.validation.context.Context.error` or ``warning``. The context
refuses a rule that was not declared here (:class:`UnregisteredRuleError`),
so no problem can name a rule that ``spineh5 validate --rules`` does not list.
"""

from __future__ import annotations

import attrs

from ..errors import SpineH5Error

__all__ = ["SECTIONS", "Rule", "UnregisteredRuleError", "registered", "rule", "rules_table"]

#: The topics rules are listed by (the part of a rule id before its first dot), in listing order.
SECTIONS = ("file", "read", "info", "events", "root", "product", "class", "column", "value", "group", "ref", "run_info")
#: The topic of the rules of the V2 contract, listed last.
V2_SECTION = "v2"


class UnregisteredRuleError(SpineH5Error, LookupError):
    """A check reported a rule that was not declared with :func:`rule` (a bug in ``spineh5.validation``).

    Not a :class:`KeyError`: the read-failure guard of the checks
    (:meth:`~spineh5.validation.context.Context.guarded`) must not turn it
    into a ``read.failed`` problem.
    """


@attrs.frozen
class Rule:
    """One rule ``validate`` checks.

    Attributes
    ----------
    id : str
        Dotted id, shown in brackets after each problem (``info.cfg.missing``).
    description : str
        What breaks the rule, for ``spineh5 validate --rules``.
    """

    id: str
    description: str


_REGISTRY: dict[str, Rule] = {}


def _section(rule_id: str) -> int:
    topic = rule_id.split(".", 1)[0]
    order = (*SECTIONS, V2_SECTION)
    if topic not in order:
        raise ValueError(f"rule {rule_id!r}: its topic {topic!r} is none of {', '.join(order)}")
    return order.index(topic)


def rule(rule_id: str, description: str) -> Rule:
    """Declare a rule: register it and return it, to be reported by the check beside the declaration.

    Raises
    ------
    ValueError
        When the id is declared twice or its topic is not in :data:`SECTIONS`.
    """
    _section(rule_id)
    if rule_id in _REGISTRY:
        raise ValueError(f"rule {rule_id!r} is declared twice")
    declared = _REGISTRY[rule_id] = Rule(rule_id, description)
    return declared


def registered(value: Rule | str) -> Rule:
    """Return the declared rule of a :class:`Rule` or rule id.

    Raises
    ------
    UnregisteredRuleError
        When no rule of that id was declared with :func:`rule`, or ``value`` is
        a :class:`Rule` built without it.
    """
    rule_id = value.id if isinstance(value, Rule) else value
    found = _REGISTRY.get(rule_id)
    if found is None or (isinstance(value, Rule) and found != value):
        raise UnregisteredRuleError(f"rule {rule_id!r} is not declared with spineh5.validation.rules.rule()")
    return found


def rules_table() -> dict[str, str]:
    """Return every declared rule as ``{id: description}``, by topic (:data:`SECTIONS`) then declaration order."""
    ordered = sorted(_REGISTRY.values(), key=lambda declared: _section(declared.id))
    return {declared.id: declared.description for declared in ordered}
