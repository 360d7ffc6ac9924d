"""Size and shape limits for uploads (all configurable per call)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied while reading an upload.

    ``max_uncompressed_bytes`` bounds the sum of a zip's member sizes, checked
    on the central directory and again while decompressing; ``max_ratio`` is
    the largest accepted uncompressed/compressed ratio for a member larger than
    ``ratio_min_bytes`` (text compresses 3-10x; bombs 1000x).
    """

    max_uncompressed_bytes: int = 200 * MIB
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MIB
    max_members: int = 10_000
    read_chunk_bytes: int = 1 * MIB
    max_json_depth: int = 32
    max_line_errors: int = 1000


DEFAULT_LIMITS = Limits()
