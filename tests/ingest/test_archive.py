"""Zip uploads: members become documents; hostile archives are rejected whole."""

from __future__ import annotations

import io
import json
import stat
import struct
import zipfile

import pytest

from annotations.ingest import IngestError, Limits, segment_file

MB = 1_000_000
TEXT = b"Army Captures The Hill\n\nSouth Front\n\nThe army said it captured the hill on Monday.\n"


def make_zip(*members: tuple[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_members_become_documents() -> None:
    record = json.dumps({"title": "Convoy arrives", "text": "A convoy arrived."}).encode()
    data = make_zip(
        ("pages/a.txt", TEXT),
        ("feed.jsonl", record + b"\n"),
        ("b.html", b"<article><h1>Html Title</h1><p>The town was shelled overnight.</p></article>"),
        ("__MACOSX/._a.txt", b"\x00\x05junk"),
    )
    docs = segment_file("upload.zip", data, max_bytes=MB)
    assert [d.name for d in docs] == [
        "upload.zip/pages/a.txt",
        "upload.zip/feed.jsonl:1",
        "upload.zip/b.html",
    ]
    assert [d.format for d in docs] == ["text", "jsonl", "html"]
    assert docs[0].articles[0].title == "Army Captures The Hill"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.txt", "zip-slip"),
        ("pages/../../evil.txt", "zip-slip"),
        ("/etc/passwd", "absolute path"),
        ("C:/windows/evil.txt", "absolute path"),
        ("pages\\evil.txt", "backslash"),
    ],
)
def test_hostile_member_names_are_rejected(name: str, problem: str) -> None:
    data = make_zip(("ok.txt", TEXT), (name, TEXT))
    with pytest.raises(IngestError) as caught:
        segment_file("upload.zip", data, max_bytes=MB)
    assert problem in str(caught.value) and "upload.zip" in str(caught.value)


def test_symlink_member_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link.txt")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(IngestError, match="symbolic link"):
        segment_file("upload.zip", buffer.getvalue(), max_bytes=MB)


@pytest.mark.parametrize("inner_name", ["inner.zip", "inner.txt"])
def test_nested_archives_are_rejected_by_name_and_by_content(inner_name: str) -> None:
    data = make_zip(("a.txt", TEXT), (inner_name, make_zip(("x.txt", TEXT))))
    with pytest.raises(IngestError, match="nested archives"):
        segment_file("upload.zip", data, max_bytes=MB)


def test_gzip_member_is_rejected_as_nested_archive() -> None:
    data = make_zip(("a.txt", b"\x1f\x8b\x08\x00" + b"\x00" * 20))
    with pytest.raises(IngestError, match="nested archives"):
        segment_file("upload.zip", data, max_bytes=MB)


def test_total_uncompressed_size_cap_is_checked_on_the_directory() -> None:
    data = make_zip(("a.txt", TEXT * 1000), ("b.txt", TEXT * 1000))
    limits = Limits(max_uncompressed_bytes=100_000)
    with pytest.raises(IngestError, match="more than 100000 bytes"):
        segment_file("upload.zip", data, max_bytes=MB, limits=limits)


def test_compression_ratio_bomb_is_rejected() -> None:
    data = make_zip(("bomb.txt", b"a" * 20_000_000))
    assert len(data) < 100_000
    with pytest.raises(IngestError, match="compression ratio"):
        segment_file("upload.zip", data, max_bytes=MB)


def test_sizes_are_checked_while_reading_when_the_directory_lies() -> None:
    real = b"The army said it captured the hill. " * 50_000  # 1.8 MB, stored
    data = bytearray(make_zip(("a.txt", real), compression=zipfile.ZIP_STORED))
    # forge the central directory: declare 100 bytes uncompressed
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 100)
    with pytest.raises(IngestError) as caught:
        segment_file("upload.zip", bytes(data), max_bytes=10 * MB)
    assert "upload.zip/a.txt" in str(caught.value)


def test_total_cap_is_inclusive_and_configurable() -> None:
    data = make_zip(("a.txt", b"word " * 100_000), ("b.txt", b"more " * 100_000))
    docs = segment_file("upload.zip", data, max_bytes=MB, limits=Limits(max_uncompressed_bytes=MB))
    assert len(docs) == 2
    with pytest.raises(IngestError, match="999999 bytes"):
        segment_file("upload.zip", data, max_bytes=MB, limits=Limits(max_uncompressed_bytes=MB - 1))


def test_encrypted_member_is_rejected() -> None:
    data = bytearray(make_zip(("a.txt", TEXT)))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature)
        flags = struct.unpack_from("<H", data, at + offset)[0] | 0x1
        struct.pack_into("<H", data, at + offset, flags)
    with pytest.raises(IngestError, match="encrypted"):
        segment_file("upload.zip", bytes(data), max_bytes=MB)


def test_corrupt_and_empty_archives_are_rejected() -> None:
    data = bytearray(make_zip(("a.txt", TEXT * 100)))
    data[60:80] = b"\x00" * 20
    with pytest.raises(IngestError):
        segment_file("upload.zip", bytes(data), max_bytes=MB)
    with pytest.raises(IngestError, match="no documents"):
        segment_file("upload.zip", make_zip(), max_bytes=MB)


def test_bad_member_names_the_member() -> None:
    data = make_zip(("good.txt", TEXT), ("photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 10))
    with pytest.raises(IngestError) as caught:
        segment_file("upload.zip", data, max_bytes=MB)
    assert caught.value.filename == "upload.zip/photo.txt"
    assert "wrong type" in str(caught.value)
