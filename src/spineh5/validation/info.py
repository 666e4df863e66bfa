"""Checks of the root ``info`` group and its attributes (V1 spec sections 2.2 and 3.5, V2 spec section 1.2)."""

from __future__ import annotations

import h5py
import yaml

from ..format.common import COMPLETE, INFO, attr_text, truthy
from ..generated import SCHEMA_VERSION
from ..layouts import LayoutEntry
from .context import Context
from .rules import rule
from .spine_release import SCHEMA_RELEASE_LAYOUTS
from .text import as_int, describe_value, one_line

__all__ = ["check_info"]

INFO_MISSING = rule("info.missing", "there is no root 'info' group")
CFG_MISSING = rule("info.cfg.missing", "info has no 'cfg' attribute")
CFG_TYPE = rule("info.cfg.type", "info.cfg is not a variable-length string")
CFG_YAML = rule("info.cfg.yaml", "info.cfg is not valid YAML")
VERSION_MISSING = rule("info.version.missing", "info has neither 'version' nor 'spine_version'")
VERSION_TYPE = rule("info.version.type", "info.version / info.spine_version is not a variable-length string")
VERSION_SPINE_ONLY = rule(
    "info.version.spine_only", "info has 'spine_version' but not 'version' (SPINE 0.14.1 needs 'version')"
)
INCOMPLETE = rule("info.incomplete", "info.complete is false: the writer was not finalized")
SCHEMA = rule("info.schema_version", "written with a newer schema than this spineh5 knows")


def check_info(ctx: Context, layout: LayoutEntry) -> None:
    """Check ``info`` and its attributes for a file checked as ``layout``."""
    info = ctx.file.get(INFO)
    if info is None:
        ctx.error("/info", INFO_MISSING, "no 'info' group: SPINE's reader asserts it exists in the first file")
        return
    attributes = info.attrs
    _check_cfg(ctx, attributes)
    _check_version(ctx, attributes, layout)
    if COMPLETE in attributes and not truthy(attributes[COMPLETE]):
        ctx.error(
            "/info",
            INCOMPLETE,
            "info.complete is False: the writer was not finalized (crashed or not closed); "
            "SPINE's reader refuses the file unless ignore_incomplete=True",
        )
    schema = attributes.get("schema_version")
    if schema is not None and as_int(schema) is not None and as_int(schema) > SCHEMA_VERSION:
        ctx.warning(
            "/info",
            SCHEMA,
            f"written with schema version {attr_text(schema)}; this spineh5 knows version {SCHEMA_VERSION}, "
            "so newer columns are reported as unknown",
        )


def _check_cfg(ctx: Context, attributes: h5py.AttributeManager) -> None:
    if "cfg" not in attributes:
        ctx.error(
            "/info",
            CFG_MISSING,
            "no 'cfg' attribute: SPINE's reader asserts it exists (write yaml.dump({}) = '{}\\n' if there is none)",
        )
        return
    cfg = attributes["cfg"]
    if not isinstance(cfg, str):
        ctx.error("/info", CFG_TYPE, f"cfg is {describe_value(cfg)}: SPINE's reader requires a variable-length string")
        return
    try:
        yaml.safe_load(cfg)
    except yaml.parser.ParserError as err:
        ctx.warning(
            "/info",
            CFG_YAML,
            f"cfg is not valid YAML ({one_line(err)}): SPINE's reader warns and ignores the configuration",
        )
    except yaml.YAMLError as err:
        ctx.error("/info", CFG_YAML, f"cfg is not valid YAML ({one_line(err)}): SPINE's reader raises")


def _check_version(ctx: Context, attributes: h5py.AttributeManager, layout: LayoutEntry) -> None:
    present = [name for name in ("version", "spine_version") if name in attributes]
    if not present:
        ctx.error(
            "/info",
            VERSION_MISSING,
            "no 'version' attribute: SPINE's reader asserts it exists (later releases accept 'spine_version')",
        )
        return
    for name in present:
        value = attributes[name]
        if not isinstance(value, str):
            ctx.error(
                "/info",
                VERSION_TYPE,
                f"{name} is {describe_value(value)}: SPINE's reader requires a variable-length string",
            )
    if "version" not in present and layout.version in SCHEMA_RELEASE_LAYOUTS:  # 0.14.1 cannot read the others
        ctx.warning(
            "/info",
            VERSION_SPINE_ONLY,
            "only 'spine_version' is set: SPINE 0.14.1's reader requires 'version'",
        )
