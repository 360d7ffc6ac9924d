"""The content hash that finds the same article stored twice or reposted elsewhere."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from typing import Final

__all__ = ["content_hash"]

_PUNCT_TO_SPACE = re.compile(r"[^\w\s]+")
_SPACES = re.compile(rb"  +")
# Non-ASCII punctuation and invisible marks common in news text, blanked before hashing.
_HASH_SPACES: Final = (
    "\u00a0", "\u201c", "\u201d", "\u2018", "\u2019", "\u00ab", "\u00bb", "\u2039",
    "\u203a", "\u2013", "\u2014", "\u2026", "\u060c", "\u061b", "\u061f", "\u06d4",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u0640",
    "\u00b7", "\u2022", "\u201e", "\u2032", "\u2033", "\u2010", "\u2011", "\u2012",
)  # fmt: skip
_ASCII_FOLD: Final = bytes(
    b + 32 if 65 <= b <= 90 else 32 if chr(b) in string.punctuation + string.whitespace else b
    for b in range(256)
)
# Lead bytes of scripts with letter case other than ASCII (Latin-1/Extended, Greek, Cyrillic,
# Armenian): text holding them is case folded with str.casefold.
_DROP_NOT_CASED_LEADS: Final = bytes(b for b in range(256) if not 0xC3 <= b <= 0xD5)


def content_hash(texts: list[str]) -> str:
    """sha256 of the normalised claim-bearing text of an article.

    Normalisation: NFKC, case folded, punctuation replaced by spaces, whitespace
    collapsed; so ``said.He`` / ``said. He``, curly / straight quotes, NBSP /
    space and upper / lower case hash alike.  Made fast for large imports: ASCII
    is folded with one byte table; common non-ASCII punctuation is replaced
    first, and NFKC and Unicode case folding run only when the text needs them.
    """
    joined = "\n".join(texts)
    if joined.isascii():
        data = joined.encode("ascii")
    else:
        for char in _HASH_SPACES:
            if char in joined:
                joined = joined.replace(char, " ")
        if not unicodedata.is_normalized("NFKC", joined):
            joined = unicodedata.normalize("NFKC", joined)
        data = joined.encode("utf-8", errors="surrogatepass")
        if data.translate(None, _DROP_NOT_CASED_LEADS):
            data = _PUNCT_TO_SPACE.sub(" ", joined.casefold()).encode("utf-8", "surrogatepass")
    data = data.translate(_ASCII_FOLD)
    if b"  " in data:
        data = _SPACES.sub(b" ", data)
    return hashlib.sha256(data.strip(b" ")).hexdigest()
