"""The on-disk vocabulary of SPINE's HDF5 layouts: the only code that knows names, kinds and attributes.

* :mod:`.common`: what both layouts share (``info``, ``events``, attribute
  text, truthiness, :func:`~.common.read_info`, :func:`~.common.detect_layout`);
* :mod:`.v1`: the V1 layout (``docs/format/spine-v1-format.md``): region
  references, product datasets and groups, product inspection;
* :mod:`.v2`: the V2 layout (``docs/format/spine-v2-format.md``): product
  groups, kinds, pools, the split of object rows and its logical row dtype.

Parsers return their findings (problems as text) instead of raising, so
``spineh5 validate`` can report them, the runtime raise them and
``spineh5 inspect`` show them.
"""
