"""Python BGP speakers for anycast sites (``speaker: ryu``): Ryu's BGPSpeaker, or os-ken.

:func:`bgp_library` says which library runs here: Ryu 4.34 on Python 3.11 and
earlier, os-ken (the maintained fork, same BGPSpeaker API) where Ryu cannot
be imported (Python 3.12 and later).
"""

from __future__ import annotations

import importlib.util
from typing import Optional

#: Import paths of the BGPSpeaker class, in order of preference.
LIBRARIES = (
    ("ryu", "ryu.services.protocols.bgp.bgpspeaker"),
    ("os-ken", "os_ken.services.protocols.bgp.bgpspeaker"),
)


def bgp_library() -> Optional[str]:
    """The name of the BGP speaker library that can be imported (``ryu``, ``os-ken``), or None.

    Checked without importing it (importing Ryu starts eventlet).
    """
    for name, module in LIBRARIES:
        top = module.split(".")[0]
        if importlib.util.find_spec(top) is not None:
            return name
    return None
