"""Check a file against the SPINE V1 or V2 contract and the schema, with h5py alone: ``spineh5 validate``.

:func:`validate` returns every :class:`Problem` it finds; an empty list (or
only warnings) means SPINE's readers open the file and rebuild its objects.
The layout is the registry's (:func:`spineh5.layouts.detect`, from
``info.format_version``), overruled only when the file does not state it
and holds only a V2 ``products`` group, or states 2 and holds only a V1
``events`` table (:mod:`.layout`). The rules follow
``docs/format/spine-v1-format.md`` section 3.5 (what HEAD's reader needs) and
3.6 (what the readers tolerate), ``docs/format/spine-v2-format.md`` sections 2
and 4.8 (product groups, offsets, pools), plus the schema of
``spineh5.generated``:

* errors: what makes SPINE's f31056c8 *and* later readers fail, or return
  wrong data (missing ``cfg``/``version``/``scalar``/``class_name``, fixed-length
  string attributes, references outside their dataset, an incomplete file,
  V2 offsets that decrease, leave their dataset or do not have one boundary
  more than the items they delimit...);
* warnings: what only the f31056c8 reader refuses (columns and classes added
  by later SPINE releases), what loads with a different Python type
  (integers stored where the schema has floats), or what departs from the V2
  contract without changing what readers return (offsets not starting at 0,
  values no offset reaches).

Nothing here uses the writer or the reader. Each rule is declared once,
beside the check that reports it (:func:`.rules.rule`); :data:`RULES` lists
them all. The modules:

* :mod:`.problems`: :class:`Problem`, :data:`ERROR`, :data:`WARNING`, :func:`is_sound`;
* :mod:`.rules`: the rule registry;
* :mod:`.context`: the state of one run, and ``read.failed``;
* :mod:`.file_check`: :func:`validate` and the checks of each layout;
* :mod:`.layout`: which layout the file is checked as (``format_version``);
* :mod:`.info`: ``info`` and its attributes;
* :mod:`.schema`: ``class_name`` and columns against the schema;
* :mod:`.shared`: what both layouts check (``scalar``, units, ImageMeta, run triplets);
* :mod:`.spine_release`: what later SPINE releases add;
* :mod:`.v1`, :mod:`.refs`: the V1 layout and its region references;
* :mod:`.v2`, :mod:`.v2_data`, :mod:`.v2_objects`: the V2 layout, its datasets and offsets, its object groups.
"""

from __future__ import annotations

from .file_check import validate
from .problems import ERROR, WARNING, Problem, is_sound
from .rules import rules_table
from .schema import column_dtype_problem

__all__ = ["ERROR", "RULES", "WARNING", "Problem", "column_dtype_problem", "is_sound", "validate"]

#: Every rule :func:`validate` checks, by id: its description.
RULES: dict[str, str] = rules_table()
