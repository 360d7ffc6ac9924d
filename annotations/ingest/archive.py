"""Reading zip uploads defensively.

Rejected (IngestError naming the archive and member):

* names that escape the extraction root or are absolute (``../x``,
  ``/etc/passwd``, ``C:\\x``, backslash paths), names with NUL, duplicates;
* symbolic links, encrypted members, nested archives (by name and by content);
* more than ``Limits.max_members`` members;
* a total uncompressed size over ``Limits.max_uncompressed_bytes`` — checked on
  the sizes declared in the central directory *and* on the bytes actually
  produced while reading in chunks (declared sizes can lie);
* a compression ratio over ``Limits.max_ratio`` for members larger than
  ``Limits.ratio_min_bytes`` (again both declared and actual);
* corrupt data (bad CRC, truncated archive).

Directory entries and macOS metadata (``__MACOSX/``, ``.DS_Store``) are skipped.
Nothing is written to disk.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from annotations.ingest.errors import IngestError
from annotations.ingest.formats import ARCHIVE_EXTENSIONS, binary_kind, extension
from annotations.ingest.limits import DEFAULT_LIMITS, Limits

_DRIVE = re.compile(r"^[A-Za-z]:")


def read_zip(
    filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS
) -> list[tuple[str, bytes]]:
    """``[(member name, bytes)]`` of a zip upload, in archive order."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise IngestError(filename, f"not a valid zip archive ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise IngestError(
                filename, f"zip has {len(infos)} members; the limit is {limits.max_members}"
            )
        members = _check_directory(filename, infos, limits)
        return _read_members(filename, archive, members, limits)


def _check_directory(
    filename: str, infos: list[zipfile.ZipInfo], limits: Limits
) -> list[zipfile.ZipInfo]:
    members: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        name = info.filename
        where = f"{filename}/{name}"
        _check_name(filename, name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise IngestError(where, "zip member is a symbolic link; links are not accepted")
        if info.is_dir():
            continue
        if name.startswith("__MACOSX/") or PurePosixPath(name).name == ".DS_Store":
            continue
        if info.flag_bits & 0x1:
            raise IngestError(where, "zip member is encrypted")
        if extension(name) in ARCHIVE_EXTENSIONS:
            raise IngestError(where, "nested archives are not accepted")
        if name in seen:
            raise IngestError(where, "zip holds two members with the same name")
        seen.add(name)
        declared_total += info.file_size
        if declared_total > limits.max_uncompressed_bytes:
            raise IngestError(
                filename,
                f"zip would expand to more than {limits.max_uncompressed_bytes} bytes"
                " (declared sizes); the limit is configurable",
            )
        _check_ratio(where, info.file_size, info.compress_size, limits)
        members.append(info)
    return members


def _check_name(filename: str, name: str) -> None:
    problem = None
    if not name or "\x00" in name:
        problem = "an empty name or a NUL character"
    elif name.startswith(("/", "\\")) or _DRIVE.match(name):
        problem = "an absolute path"
    elif "\\" in name:
        problem = "a backslash in its path"
    elif ".." in PurePosixPath(name).parts:
        problem = "a '..' path component (zip-slip)"
    if problem:
        raise IngestError(filename, f"zip member name {name!r} has {problem}; rejected")


def _check_ratio(where: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.ratio_min_bytes and size > limits.max_ratio * max(compressed, 1):
        raise IngestError(
            where,
            f"compression ratio {size / max(compressed, 1):.0f}:1 exceeds {limits.max_ratio:.0f}:1"
            " (zip bomb?)",
        )


def _read_members(
    filename: str, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: Limits
) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    total = 0
    for info in members:
        where = f"{filename}/{info.filename}"
        chunks: list[bytes] = []
        size = 0
        try:
            with archive.open(info) as stream:
                while True:
                    chunk = stream.read(limits.read_chunk_bytes)
                    if not chunk:
                        break
                    size += len(chunk)
                    total += len(chunk)
                    if total > limits.max_uncompressed_bytes:
                        raise IngestError(
                            filename,
                            f"zip expands to more than {limits.max_uncompressed_bytes} bytes",
                        )
                    if size > info.file_size:
                        raise IngestError(where, "zip member is larger than its declared size")
                    _check_ratio(where, size, info.compress_size, limits)
                    chunks.append(chunk)
        except IngestError:
            raise
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            OSError,
            EOFError,
            ValueError,
        ) as exc:
            raise IngestError(where, f"corrupt zip member ({exc})") from None
        except NotImplementedError as exc:
            raise IngestError(where, f"unsupported zip compression ({exc})") from None
        data = b"".join(chunks)
        kind = binary_kind(data)
        if kind is not None and kind.endswith("archive"):
            raise IngestError(where, f"nested archives are not accepted (content is {kind})")
        out.append((info.filename, data))
    return out
