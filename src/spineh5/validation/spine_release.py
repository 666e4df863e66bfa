"""What SPINE releases after the schema's (0.14.1, f31056c8) add, and which layouts that release reads.

The schema of :mod:`spineh5.generated` is SPINE 0.14.1's. Later releases
write classes and columns it does not know, and V2 files with typed products;
``validate`` reports those as warnings (``class.later``, ``column.later``) or
checks them against what the later readers need (``v2.product_metadata``).
Reference: ``docs/format/spine-v1-format.md`` section 6,
``docs/format/spine-v2-format.md`` section 2.8.
"""

from __future__ import annotations

__all__ = ["LATER_CLASSES", "LATER_COLUMNS", "SCHEMA_RELEASE_LAYOUTS", "TYPED_PRODUCTS"]

#: Classes that later SPINE releases store but this schema (f31056c8) does not know.
LATER_CLASSES = frozenset({"ParticleLabel", "FlashHypothesis"})

#: Columns that later SPINE releases write (V1 spec section 6), by class.
LATER_COLUMNS: dict[str, frozenset[str]] = {
    "Particle": frozenset({"first_step_t", "last_step_t"}),
    "RecoFragment": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap"}),
    "RecoParticle": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap"}),
    "RecoInteraction": frozenset({"depositions_q_sum", "best_match_id", "best_match_overlap", "flash_hypothesis_ids"}),
    "TruthFragment": frozenset({"first_step_t", "last_step_t", "best_match_id", "best_match_overlap"}),
    "TruthParticle": frozenset({"first_step_t", "last_step_t", "best_match_id", "best_match_overlap"}),
    "TruthInteraction": frozenset({"best_match_id", "best_match_overlap", "flash_hypothesis_ids", "time"}),
}

#: SPINE's typed products (V2 ``product_metadata``, V2 spec section 2.8): the child product groups each needs,
#: as ``(child, flag)``: the child is needed when ``flag`` is None or true in the metadata.
TYPED_PRODUCTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "tensor": (("meta", "has_meta"),),
    "cluster_label": (("particles", "has_particles"), ("meta", "has_meta")),
    "index": (("spans", None),),
    "index_list": (("spans", None),),
    "edge_index": (("spans", None),),
    "object_list": (("index_shifts", None),),
}

#: The ``format_version`` of the layouts the schema's SPINE release (0.14.1) reads: V1 only.
SCHEMA_RELEASE_LAYOUTS = frozenset({1})
