"""JSONL input: one article per line.

Record fields: ``title`` and ``text`` (required, non-empty strings);
``outlet``, ``url`` (http/https), ``published`` (a date: ISO ``2019-08-23``,
an ISO datetime, or a form dates.py reads), ``language`` (a language tag such
as ``en``, ``ar``, ``en-GB``) are optional strings or null.  Other keys are
ignored.

Offsets policy: each record becomes its own :class:`SourceDoc` named
``<file>:<line>`` whose text is ``title + "\\n\\n" + text`` (both exactly as
decoded from the JSON strings); the article's title is ``text[0:len(title)]``
(leading/trailing spaces of the title excluded) and every offset indexes that
string.  The record is one article: no article splitting is done inside it.

Validation is all-or-nothing: every bad line is reported (line number, byte
offset of the line start, reason) in one IngestError whose ``errors`` lists
them, and no document is returned if any line is bad.  Blank lines are
skipped; CRLF line ends are accepted.  Rejected: invalid JSON (a truncated last
line is named as such), a non-object, duplicate keys, ``NaN``/``Infinity`` and
numbers that overflow to infinity (``1e999``), nesting deeper than
``Limits.max_json_depth``, NUL characters and lone surrogates in strings
(``\\u0000``, ``\\ud800``), missing or wrongly typed fields.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from annotations.ingest.articles import build_article
from annotations.ingest.dates import parse_date
from annotations.ingest.decode import check_text
from annotations.ingest.errors import IngestError
from annotations.ingest.limits import DEFAULT_LIMITS, Limits
from annotations.ingest.types import SourceDoc

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?$")
_OPTIONAL = ("outlet", "url", "published", "language")
SEPARATOR = "\n\n"


class _LineProblem(Exception):
    pass


def jsonl_documents(name: str, text: str, limits: Limits = DEFAULT_LIMITS) -> list[SourceDoc]:
    """All records of a JSONL file as SourceDocs, or IngestError listing every bad line."""
    docs: list[SourceDoc] = []
    errors: list[IngestError] = []
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    byte_pos = 0
    records = 0
    for number, raw in enumerate(lines, start=1):
        line_bytes = len(raw.encode("utf-8", errors="surrogatepass")) + 1
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            byte_pos += line_bytes
            continue
        records += 1
        is_last = number == len(lines) or (number == len(lines) - 1 and ends_with_newline)
        try:
            record = _parse(line, limits, truncated_hint=is_last and not ends_with_newline)
            docs.append(_document(name, number, record))
        except _LineProblem as problem:
            if len(errors) < limits.max_line_errors:
                errors.append(IngestError(name, str(problem), line=number, byte=byte_pos))
        byte_pos += line_bytes
    if errors:
        shown = "" if len(errors) < limits.max_line_errors else " (first ones listed)"
        raise IngestError(
            name,
            f"{len(errors)} of {records} JSONL lines are invalid{shown}; nothing was imported",
            errors=errors,
        )
    if not docs:
        raise IngestError(name, "JSONL file holds no records")
    return docs


def _parse(line: str, limits: Limits, *, truncated_hint: bool) -> dict[str, Any]:
    depth = _depth(line)
    if depth > limits.max_json_depth:
        raise _LineProblem(f"JSON nested {depth} levels deep; the limit is {limits.max_json_depth}")
    try:
        value = json.loads(
            line,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except _LineProblem:
        raise
    except json.JSONDecodeError as exc:
        if truncated_hint and (
            exc.msg.startswith("Unterminated") or exc.pos >= len(line.rstrip()) - 1
        ):
            raise _LineProblem(
                f"truncated JSON at the end of the file ({exc.msg}); was the file cut off?"
            ) from None
        raise _LineProblem(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise _LineProblem(f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _LineProblem(f"a record must be a JSON object, not {type(value).__name__}")
    return value


def _depth(line: str) -> int:
    if "[" not in line and "{" not in line:
        return 0
    bare = _STRING.sub('""', line)
    depth = deepest = 0
    for match in _BRACKET.finditer(bare):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _LineProblem(f"duplicate key {key!r}")
        record[key] = value
    return record


def _no_constant(token: str) -> Any:
    raise _LineProblem(f"non-finite number {token} is not allowed")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _LineProblem(f"number {token[:40]} is not finite")
    return value


def _document(name: str, number: int, record: dict[str, Any]) -> SourceDoc:
    title = _required(record, "title")
    body = _required(record, "text")
    fields: dict[str, str | None] = {}
    for key in _OPTIONAL:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise _LineProblem(f"field {key!r} must be a string or null")
        fields[key] = (value.strip() or None) if isinstance(value, str) else None
    for key, value in (("title", title), ("text", body), *fields.items()):
        if value:
            try:
                check_text(value, name)
            except IngestError as exc:
                raise _LineProblem(f"field {key!r}: {exc.message}") from None
    published = _published(fields["published"])
    language = _language(fields["language"])
    url = fields["url"]
    if url is not None and (not url.lower().startswith(("http://", "https://")) or " " in url):
        raise _LineProblem("field 'url' must be an http(s) URL")
    text = title + SEPARATOR + body
    article = build_article(
        text,
        0,
        len(text),
        title_span=(0, len(title)),
        outlet=fields["outlet"],
        published=published,
        language=language,
        url=url,
    )
    return SourceDoc(name=f"{name}:{number}", text=text, articles=[article], format="jsonl")


def _required(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        raise _LineProblem(f"missing required field {key!r}")
    if not isinstance(value, str):
        raise _LineProblem(f"field {key!r} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise _LineProblem(f"field {key!r} is empty")
    return value


def _published(value: str | None) -> str | None:
    if value is None:
        return None
    iso = parse_date(value[:10]) if _ISO_DATE.match(value) else parse_date(value)
    if iso is None:
        raise _LineProblem(f"field 'published' is not a date: {value[:40]!r}")
    return iso


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    if not _LANGUAGE.match(value):
        raise _LineProblem(f"field 'language' is not a language tag: {value[:20]!r}")
    return value.split("-")[0].lower()
