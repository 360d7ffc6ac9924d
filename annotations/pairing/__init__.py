"""Cross-source candidate pairs and event clusters (pure Python + numpy + scikit-learn).

No Django and no ORM here: the service that stores pairs converts its rows into
:class:`~annotations.pairing.candidates.ClaimInfo` and calls :func:`all_candidates`,
:func:`incremental_candidates` or :func:`candidates_for`, then :func:`build_clusters`.
Names are resolved lazily so that importing a light submodule (``normalise``) does not
pull in scikit-learn, and the encoder loads its model on first use only.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_THRESHOLD": "candidates",
    "CandidatePair": "candidates",
    "ClaimInfo": "candidates",
    "all_candidates": "candidates",
    "candidates_for": "candidates",
    "incremental_candidates": "candidates",
    "ranked_candidates": "candidates",
    "Cluster": "clusters",
    "build_clusters": "clusters",
    "merge_clusters": "clusters",
    "split_cluster": "clusters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
