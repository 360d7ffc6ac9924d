"""decode_bytes: strict UTF-8, UTF-16 with BOM, clear errors naming file, line and byte."""

from __future__ import annotations

import pytest

from annotations.ingest import IngestError, decode_bytes
from annotations.ingest.decode import check_text


def test_utf8_is_returned_unchanged() -> None:
    data = "Line one\r\nسطر عربي\tتاب\n\u200fRTL mark\n".encode()
    assert decode_bytes(data, "a.txt") == data.decode("utf-8")


def test_utf8_bom_is_removed_and_nothing_else_changes() -> None:
    text = "\ufeffTitle\r\n\r\nBody  with  spaces\u00a0and NBSP.\r\n"
    assert decode_bytes(text.encode("utf-8"), "a.txt") == text[1:]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(codec: str) -> None:
    text = "عنوان\nBody text.\n"
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    assert decode_bytes(bom + text.encode(codec), "w.txt") == text


def test_invalid_utf8_names_line_and_byte() -> None:
    data = b"first line\nsecond line\nbad \xff byte here\n"
    with pytest.raises(IngestError) as caught:
        decode_bytes(data, "page.txt")
    error = caught.value
    assert (error.filename, error.line, error.byte) == ("page.txt", 3, data.index(b"\xff"))
    message = str(error)
    assert (
        "page.txt" in message and "line 3" in message and f"byte {data.index(b'\xff')}" in message
    )
    assert "UTF-8" in message


def test_invalid_utf8_offset_counts_the_bom() -> None:
    data = b"\xef\xbb\xbfok\n\xc3("
    with pytest.raises(IngestError) as caught:
        decode_bytes(data, "b.txt")
    assert caught.value.byte == 6 and caught.value.line == 2


def test_truncated_multibyte_sequence_at_end() -> None:
    with pytest.raises(IngestError) as caught:
        decode_bytes("كلمة".encode()[:-1], "cut.txt")
    assert caught.value.line == 1 and caught.value.byte == 6


def test_nul_byte_is_rejected_with_position() -> None:
    data = b"abc\ndef\x00ghi"
    with pytest.raises(IngestError) as caught:
        decode_bytes(data, "nul.txt")
    assert (caught.value.line, caught.value.byte) == (2, 7)
    assert "NUL" in str(caught.value)


def test_utf16_without_bom_is_rejected_as_nul_bytes() -> None:
    with pytest.raises(IngestError, match="NUL"):
        decode_bytes("hello".encode("utf-16-le"), "w.txt")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(IngestError, match="empty"):
        decode_bytes(data, "empty.txt")


def test_utf32_is_rejected() -> None:
    with pytest.raises(IngestError, match="UTF-32"):
        decode_bytes(b"\xff\xfe\x00\x00" + "hi".encode("utf-32-le"), "x.txt")


def test_encoded_surrogates_are_invalid_utf8() -> None:
    with pytest.raises(IngestError, match="invalid UTF-8"):
        decode_bytes(b"ok \xed\xa0\x80 no", "s.txt")


def test_lone_surrogate_in_utf16_is_rejected() -> None:
    with pytest.raises(IngestError):
        decode_bytes(b"\xff\xfe" + b"a\x00\x00\xd8b\x00", "s.txt")


def test_check_text_rejects_lone_surrogates_and_nul() -> None:
    with pytest.raises(IngestError, match="surrogate") as caught:
        check_text("line\nbad \ud800 here", "j.jsonl")
    assert caught.value.line == 2
    with pytest.raises(IngestError, match="NUL"):
        check_text("a\x00b", "j.jsonl")


def test_error_message_and_dict_list_line_errors() -> None:
    inner = [IngestError("f.jsonl", f"bad {n}", line=n, byte=n * 10) for n in range(1, 25)]
    error = IngestError("f.jsonl", "24 bad lines", errors=inner)
    text = str(error)
    assert text.startswith("f.jsonl: 24 bad lines")
    assert "f.jsonl, line 3, byte 30: bad 3" in text
    assert "and 4 more" in text
    report = error.as_dict()
    assert report["file"] == "f.jsonl" and len(report["errors"]) == 24
    assert report["errors"][0] == {
        "file": "f.jsonl",
        "line": 1,
        "byte": 10,
        "message": "bad 1",
        "errors": [],
    }
    assert isinstance(error, ValueError)
