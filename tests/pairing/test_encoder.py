"""The sentence encoder wrapper: shape, norms, cross-lingual sanity, storage, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from annotations.pairing import encoder

EN = "The Syrian army liberated the town of Khan Shaykhun on August 21."
AR = "حرر الجيش السوري بلدة خان شيخون في 21 آب."
OTHER = "Oil prices jumped after drone attacks on Saudi refineries."


def test_encode_returns_unit_float32_rows() -> None:
    vectors = encoder.encode([EN, AR, OTHER, ""], batch_size=2)
    assert vectors.shape == (4, encoder.DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_encode_empty_list_and_bad_batch_size() -> None:
    assert encoder.encode([]).shape == (0, encoder.DIM)
    with pytest.raises(ValueError):
        encoder.encode([EN], batch_size=0)


def test_translation_is_closer_than_an_unrelated_sentence() -> None:
    en, ar, other = encoder.encode([EN, AR, OTHER])
    assert float(en @ ar) > float(en @ other) + 0.3


def test_batching_does_not_change_vectors() -> None:
    texts = [EN, AR, OTHER] * 3
    np.testing.assert_allclose(
        encoder.encode(texts, batch_size=1), encoder.encode(texts, batch_size=256), atol=1e-5
    )


@pytest.mark.parametrize(
    ("dtype", "size", "tol"), [("float16", 1024, 1e-3), ("float32", 2048, 1e-7)]
)
def test_bytes_round_trip(dtype: str, size: int, tol: float) -> None:
    (vector,) = encoder.encode([EN])
    blob = encoder.to_bytes(vector, dtype=dtype)
    assert len(blob) == size
    back = encoder.from_bytes(blob)
    assert back.dtype == np.float32
    assert float(back @ vector) > 1 - tol
    np.testing.assert_allclose(encoder.stack_from_bytes([blob, blob])[1], back)


def test_stack_from_bytes_decodes_a_mix_in_order() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, encoder.DIM)).astype(np.float32)
    blobs = [encoder.to_bytes(v, dtype="float16" if k % 2 else "float32")
             for k, v in enumerate(vectors)]  # fmt: skip
    stacked = encoder.stack_from_bytes(blobs)
    for k, blob in enumerate(blobs):
        np.testing.assert_allclose(stacked[k], encoder.from_bytes(blob), atol=1e-6)
    assert encoder.stack_from_bytes([]).shape == (0, encoder.DIM)
    with pytest.raises(ValueError):
        encoder.stack_from_bytes([blobs[0], b"\x00" * 10])


def test_bytes_errors() -> None:
    with pytest.raises(ValueError):
        encoder.from_bytes(b"\x00" * 10)
    with pytest.raises(ValueError):
        encoder.to_bytes(np.zeros(3))
    with pytest.raises(ValueError):
        encoder.to_bytes(np.zeros(encoder.DIM), dtype="int8")


def test_concurrent_calls_share_one_model_and_agree() -> None:
    expected = encoder.encode([EN, AR])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: encoder.encode([EN, AR]), range(8)))
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)
    assert encoder._get_model() is encoder._get_model()


def test_model_name_carries_a_version() -> None:
    assert "0.2.1" in encoder.MODEL_NAME
