"""A scraped page → articles, and an article's paragraphs → units.

Article starts are found generically, from the shape of the lines:

* a *title-like* line (lines.is_title_like: short, no final punctuation, one
  sentence) starts an article when it is the first line of the page or of a
  section (after a separator such as "Related News", "مقالات متعلقة" or a rule
  line ``***``), or when header metadata follows it within a few lines: a date
  line, a byline, an outlet line, a repetition of the title, or a paragraph
  opening with a dateline (``BEIRUT, LEBANON (10:00 A.M.) –``);
* other title-like lines inside an article are subheadings, captions (a line
  seen three or more times on the page, such as an image's alt text), list
  items (runs of short lines), or bylines (a name closing the article);
* a line equal to the current title is a repeated headline (in the header) or a
  caption (after the body);
* an article with no body text (a list of related links after "Related News")
  is folded into the article before it, its title becoming a cross link.

Nothing is thrown away: every non-blank line becomes units of some
``unit_kind`` (boilerplate, caption, byline... are units with a near-zero
``claim_likelihood``); only ``body``, ``quote_continuation`` and ``list_item``
units are claim candidates (types.CLAIM_KINDS), and only they enter the
content hash.  An article spans from its title (or first line) to its last
unit, trailing "Related News" lines included.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Final

from annotations.ingest.collector import paused_gc
from annotations.ingest.dates import (
    fill_years,
    find_date,
    find_month_day,
    parse_date_line,
    parse_partial_line,
)
from annotations.ingest.hashing import content_hash
from annotations.ingest.language import (
    ENGLISH_HINT,
    OTHER_MIN_CHARS,
    UNDETERMINED,
    detect_language,
    mostly_arabic,
    other_language,
    paragraph_profile,
    unit_language,
)
from annotations.ingest.likelihood import FIXED_LIKELIHOOD, span_likelihood
from annotations.ingest.lines import (
    ARTIFACT,
    BODY,
    BOILER,
    BYLINE,
    DATE,
    LIST,
    SEP,
    SOURCE,
    TITLE,
    XLINK,
    Para,
    block_mode,
    byline_name,
    dated_byline,
    is_short,
    split_paragraphs,
)
from annotations.ingest.sentences import split_sentences
from annotations.ingest.types import CLAIM_KINDS, ArticleUnit, ParagraphUnit, SentenceUnit

RawUnit = tuple[int, int, str, str]  # start, end, unit_kind, unit_defect

_DATELINE_STRONG = re.compile(
    r"^(?P<dl>[A-Z][A-Z'’.\-]+(?:[ ,]+[A-Z][A-Z'’.\-]+){0,4}"
    r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"\s*,?\s*(?:\([^()\n]{1,40}\))?"
    r"\s*(?:[–—_]|-{1,2}))\s*(?=\S)"
)
_DATELINE_WEAK = re.compile(
    r"^(?P<dl>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s*[–—])\s+(?=[A-Z])"
    r"|^(?P<ar>[\u0621-\u064a]+(?:\s[\u0621-\u064a]+)?\s*[-–—]\s*"
    r"(?:(?:سانا|رويترز|الأناضول|وكالات|أ ف ب|ا ف ب)\s*[-–—:]\s*)?)(?=[\u0621-\u064a«\"“])"
)
_OUTLET_WORDS = re.compile(
    r"\b(?:front|news|times|post|press|agency|network|media|tv|daily|herald|journal|tribune"
    r"|blog|report|research|monitor|observer|gazette|today|online|review|insider|channel"
    r"|radio|magazine|wire|reuters|afp|sana|telegraph|guardian|chronicle|star|mail|desk)\b"
    r"|(?:وكالة|صحيفة|قناة|موقع|شبكة|نيوز|الأخبار|جريدة|تلفزيون|إذاعة|سانا|الميادين|المنار)",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")
_DIGIT = re.compile(r"\d")
_NAME_WORD = re.compile(r"^(?:[A-Z][\w'’.\-]*|[\u0621-\u064a][\u0621-\u064a\u064b-\u0652]*)$")
_FOR_OUTLET = re.compile(r"\s+for\s+(?=\S)", re.IGNORECASE)
_QUOTE_OPENERS: Final = frozenset('“«"')
_sentence_unit = partial(tuple.__new__, SentenceUnit)
_paragraph_unit = partial(tuple.__new__, ParagraphUnit)


@dataclass
class _Draft:
    title: str = ""
    title_start: int = -1
    title_end: int = -1
    title_key: str = ""
    outlet: str | None = None
    byline: str | None = None
    published: str | None = None
    partial: tuple[int, int] | None = None  # a month and day without a year (dates.py)
    dateline: str | None = None
    language: str | None = None
    url: str | None = None
    header: bool = True
    has_meta: bool = False  # a date, byline or outlet line was read in the header
    has_body: bool = False
    body_paras: int = 0
    first_body_unit: int = -1  # index in ``units`` of the first body paragraph's first unit
    first_body_para: int = -1  # index in ``paras`` of the first body paragraph
    prev_colon: bool = False
    last_body: tuple[int, int] | None = None
    units: list[RawUnit] = field(default_factory=list)
    paras: list[tuple[int, int, str]] = field(default_factory=list)

    def line(self, para: Para, kind: str, defect: str = "none") -> None:
        self.units.append((para.start, para.end, kind, defect))
        self.paras.append((para.start, para.end, kind))


def segment_page(text: str) -> list[ArticleUnit]:
    """All articles of a page, in order (see the module docstring)."""
    with paused_gc():  # many objects, no cycles: see collector.py
        paras = split_paragraphs(text)
        if not paras:
            return []
        counts = Counter(p.key for p in paras if p.key)
        drafts = _fold_bodiless(_assign(text, paras, counts))
        if any(d.partial for d in drafts):
            _fill_years(drafts)
        return [_finish(text, d) for d in drafts]


def _fill_years(drafts: list[_Draft]) -> None:
    """Dates printed without a year take it from the page's other articles (dates.fill_years)."""
    for d in drafts:
        if d.published is None and d.title:  # a full date in the title, as _finish reads it
            found = find_date(d.title)
            d.published = found[0] if found else None
    dated = fill_years([d.published for d in drafts], [d.partial for d in drafts])
    for d, iso in zip(drafts, dated, strict=True):
        d.published = iso


def build_article(
    text: str,
    start: int,
    end: int,
    *,
    title_span: tuple[int, int] | None = None,
    outlet: str | None = None,
    byline: str | None = None,
    published: str | None = None,
    language: str | None = None,
    url: str | None = None,
) -> ArticleUnit:
    """One article whose extent (and title) are known, e.g. a JSONL record.

    ``text[start:end]`` is segmented into units without looking for further
    article starts; the given metadata wins over what the text shows.
    """
    paras = split_paragraphs(text, start, end)
    counts = Counter(p.key for p in paras if p.key)
    draft = _Draft()
    if title_span is not None:
        ts, te = title_span
        title = text[ts:te].strip()
        if title:
            ts += len(text[ts:te]) - len(text[ts:te].lstrip())
            draft.title, draft.title_start, draft.title_end = title, ts, ts + len(title)
            draft.title_key = " ".join(title.casefold().split())
    for i, para in enumerate(paras):
        if draft.title and para.start < draft.title_end and para.end > draft.title_start:
            draft.line(para, "headline")
            continue
        _add_para(text, draft, paras, i, counts)
    draft.outlet = outlet or draft.outlet
    draft.byline = byline or draft.byline
    draft.published = published or draft.published
    draft.language = language
    draft.url = url
    return _finish(text, draft, start=start)


def _assign(text: str, paras: list[Para], counts: Counter[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    pending: list[int] = []  # indexes of furniture lines before the first article
    cur: _Draft | None = None
    after_sep = True
    blocks = block_mode(paras)
    n = len(paras)
    for i, para in enumerate(paras):
        kind = para.kind
        if kind in (SEP, BOILER, ARTIFACT, SOURCE):
            # furniture: a separator opens a section; other furniture changes nothing
            if cur is None:
                pending.append(i)
            else:
                _add_para(text, cur, paras, i, counts)
            after_sep = after_sep or kind == SEP
            continue
        if cur is not None and para.key and para.key == cur.title_key:
            if cur.header or _meta_follows(paras, i, counts, repeat_counts=False):
                cur.line(para, "headline")
                cur.header = True
            else:
                cur.line(para, "caption")
            after_sep = False
            continue
        block_start = blocks and para.blank_before and i + 1 < n and not paras[i + 1].blank_before
        if (
            kind == TITLE
            and not para.in_list
            and (cur is None or not (cur.header and cur.has_meta and not cur.has_body))
            and (cur is None or after_sep or block_start or _meta_follows(paras, i, counts))
        ):
            cur = _start(para, [paras[j] for j in pending])
            pending = []
            drafts.append(cur)
            after_sep = False
            continue
        after_sep = False
        if cur is None:
            cur = _Draft(header=False)
            for j in pending:
                _add_para(text, cur, paras, j, counts)
            pending = []
            drafts.append(cur)
        _add_para(text, cur, paras, i, counts)
    if pending:
        cur = _Draft(header=False)
        drafts.append(cur)
        for j in pending:
            _add_para(text, cur, paras, j, counts)
    return drafts


def _start(para: Para, pending: list[Para]) -> _Draft:
    draft = _Draft(title=para.text, title_start=para.start, title_end=para.end, title_key=para.key)
    for furniture in pending:
        kind = "boilerplate"
        defect = "artifact" if furniture.kind == ARTIFACT else "none"
        draft.line(furniture, kind, defect)
    draft.line(para, "headline")
    return draft


def _meta_follows(
    paras: list[Para], i: int, counts: Counter[str], *, repeat_counts: bool = True
) -> bool:
    """Does header metadata follow the title-like line ``paras[i]``?

    ``repeat_counts``: whether a repetition of the line itself counts as
    metadata (a title printed twice); not when the line is already a repeat.
    """
    key = paras[i].key if repeat_counts else None
    n = len(paras)
    j = i + 1
    looked = 0
    while j < n and looked < 4:
        q = paras[j]
        looked += 1
        if q.kind in (SOURCE, BOILER, ARTIFACT):
            j += 1
            continue
        if q.kind in (DATE, BYLINE) or (q.key and q.key == key):
            return True
        if q.kind == TITLE:
            if is_short(q) and not q.in_list and _outlet_or_name(q.text):
                nxt = paras[j + 1] if j + 1 < n else None
                return nxt is not None and nxt.kind in (BODY, DATE, BYLINE)
            if counts[q.key] >= 3 and not q.in_list:
                j += 1
                continue
            return False
        if q.kind == BODY:
            if _DATELINE_STRONG.match(q.text):
                return True
            # one caption-like sentence between the title and a dateline paragraph
            return (
                len(q.text) <= 200
                and j + 1 < n
                and paras[j + 1].kind == BODY
                and _DATELINE_STRONG.match(paras[j + 1].text) is not None
            )
        return False
    return False


def _outlet_or_name(text: str) -> bool:
    if _DIGIT.search(text) is not None:
        return False
    words = text.split()
    return all(
        _NAME_WORD.match(w) or w.lower() in ("of", "the", "al", "and", "&", "for") for w in words
    )


def _is_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 4 and all(_NAME_WORD.match(w) for w in words)


def _is_outlet(text: str) -> bool:
    return bool(_OUTLET_WORDS.search(text) or _ACRONYM.match(text))


def _add_para(text: str, d: _Draft, paras: list[Para], i: int, counts: Counter[str]) -> None:
    para = paras[i]
    kind = para.kind
    if kind == BODY:
        _add_body(text, d, para, "body")
    elif kind in (BOILER, SOURCE):
        d.line(para, "boilerplate")
    elif kind == ARTIFACT:
        d.line(para, "boilerplate", "artifact")
    elif kind == XLINK:
        d.line(para, "cross_link")
    elif kind == SEP:
        d.line(para, "boilerplate")
    elif kind == DATE:
        parsed = parse_date_line(para.text)
        if parsed is not None and (d.header or not d.has_body) and d.published is None:
            d.published = parsed[0]
            if parsed[1] and d.outlet is None:
                d.outlet = parsed[1]
        elif parsed is None and (d.header or not d.has_body) and d.partial is None:
            partial = parse_partial_line(para.text)  # "March 3": the year comes from the page
            if partial is not None:
                d.partial = partial[0]
                if partial[1] and d.outlet is None:
                    d.outlet = partial[1]
        d.has_meta = d.has_meta or d.header
        d.line(para, "dateline")
    elif kind == BYLINE:
        _take_byline(d, para.text)
        d.has_meta = d.has_meta or d.header
        d.line(para, "byline")
    elif kind == LIST or para.in_list:
        _add_body(text, d, para, "list_item")
    elif d.header and is_short(para) and _outlet_or_name(para.text):
        if _is_outlet(para.text):
            d.outlet = d.outlet or para.text
        elif _is_name(para.text):
            d.byline = d.byline or para.text
        else:
            d.line(para, "caption")  # a one-word line under the title: an image caption
            return
        d.has_meta = True
        d.line(para, "byline")
    elif counts[para.key] >= 3:
        d.line(para, "caption")
    elif d.has_body and _is_name(para.text):
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        if nxt is None or nxt.kind == SEP:
            d.byline = d.byline or para.text  # a signature closing the article
        d.line(para, "byline")
    else:
        d.line(para, "subheading")


def _take_byline(d: _Draft, line: str) -> None:
    """Read a byline line: ``By Aram Mirzaei for the Saker blog`` (byline and outlet),
    ``By X | March 5, 2020``, ``Posted on March 3, 2021 by X`` (date too),
    ``Reporting by X; Editing by Y`` (X)."""
    name = byline_name(line)
    if name is None:
        dated = dated_byline(line)
        if dated is None:
            return
        d.published = d.published or dated[0]
        name = dated[1]
    name = name.split(";")[0]
    for raw in name.split("|"):
        part = raw.strip()
        if not part:
            continue
        date = parse_date_line(part)
        if date is not None:
            d.published = d.published or date[0]
            continue
        partial = parse_partial_line(part)
        if partial is not None:
            d.partial = d.partial or partial[0]
            continue
        pieces = _FOR_OUTLET.split(part, maxsplit=1)
        if d.byline is None:
            d.byline = pieces[0].strip()
        if len(pieces) == 2 and d.outlet is None:
            d.outlet = pieces[1].strip()


def _add_body(text: str, d: _Draft, para: Para, kind: str) -> None:
    start = para.start
    ptext = para.text
    if kind == "body" and d.dateline is None and d.body_paras < 2:
        start = _take_dateline(d, para)
    if kind == "body" and ptext[0] in _QUOTE_OPENERS and (d.prev_colon or _left_open(d, text)):
        kind = "quote_continuation"
    language = "ar" if mostly_arabic(ptext) else "en"
    units = d.units
    first = len(units)
    units.extend(
        [(s, e, kind, defect) for s, e, defect in split_sentences(text, start, para.end, language)]
    )
    if ptext[0].islower() and len(units) > first and units[first][3] == "none":
        s, e, k, _ = units[first]
        units[first] = (s, e, k, "truncated")  # "h Al-Izza was...": cut by the scraper
    if d.body_paras == 0:
        d.first_body_unit = first
        d.first_body_para = len(d.paras)
    d.body_paras += 1
    d.paras.append((para.start, para.end, kind))
    d.has_body = True
    d.header = False
    d.last_body = (para.start, para.end)
    d.prev_colon = ptext[-1] == ":"


def _left_open(d: _Draft, text: str) -> bool:
    """Did the previous body paragraph leave a quotation open (a multi-paragraph quote)?"""
    if d.last_body is None:
        return False
    previous = text[d.last_body[0] : d.last_body[1]]
    return previous.count("“") + previous.count("«") > previous.count("”") + previous.count("»")


def _take_dateline(d: _Draft, para: Para) -> int:
    """Split a dateline off the first body paragraph (or the second, when the first
    was a one-line photo caption); returns where the body text starts."""
    ptext = para.text
    if d.body_paras == 0:
        match = _DATELINE_STRONG.match(ptext) or _DATELINE_WEAK.match(ptext)
    else:
        match = _DATELINE_STRONG.match(ptext)
        first = d.first_body_unit
        if match is None or first < 0 or d.units[first][1] - d.units[first][0] > 200:
            return para.start
        if any(u[2] != "body" for u in d.units[first:]) or len(d.units) - first != 1:
            return para.start
        s, e, _, defect = d.units[first]
        d.units[first] = (s, e, "caption", defect)
        ps, pe, _ = d.paras[d.first_body_para]
        d.paras[d.first_body_para] = (ps, pe, "caption")
    if match is None or match.end() >= len(ptext):
        return para.start
    dl = match.group(0).rstrip()
    d.dateline = dl
    if d.partial is None and (found := find_month_day(dl)) is not None:
        d.partial = found[:2]  # "AMMAN, March 3 (Reuters) -"
    d.units.append((para.start, para.start + len(dl), "dateline", "none"))
    return para.start + match.end()


def _fold_bodiless(drafts: list[_Draft]) -> list[_Draft]:
    """Fold articles without body text into a neighbour (related-link lists)."""
    if len(drafts) < 2:
        return drafts
    out: list[_Draft] = []
    carry: _Draft | None = None  # a leading bodiless draft, folded forward
    for d in drafts:
        if carry is not None:
            d.units = [_demote(u, "boilerplate") for u in carry.units] + d.units
            d.paras = carry.paras + d.paras
            carry = None
        if d.has_body or not d.title:
            out.append(d)
        elif out:
            prev = out[-1]
            prev.units.extend(_demote(u) for u in d.units)
            prev.paras.extend(d.paras)
        else:
            carry = d
    if carry is not None:
        out.append(carry)
    return out


def _demote(unit: RawUnit, kind_for_title: str = "cross_link") -> RawUnit:
    s, e, kind, defect = unit
    return (s, e, kind_for_title, defect) if kind == "headline" else unit


def _finish(text: str, d: _Draft, *, start: int | None = None) -> ArticleUnit:
    units = d.units
    body = [text[s:e] for s, e, kind, _ in units if kind in CLAIM_KINDS]
    if d.language:
        art_lang = d.language
    else:
        sample = " ".join(body[:8]) if body else " ".join(text[s:e] for s, e, _, _ in units[:8])
        art_lang = detect_language(sample[:800])
    # Units are built as plain tuples and turned into named tuples in one C-level pass.
    p_rows: list[tuple[int, int, str, str]] = []
    p_starts: list[int] = []
    p_ends: list[int] = []
    p_langs: list[str] = []
    mixed: list[bool] = []
    # ASCII paragraphs take the article's language (short ones too in English: longer ones are
    # checked for another language), as paragraph_profile would say, without the call
    inherits = art_lang != "ar" and art_lang != UNDETERMINED
    english = art_lang == "en"
    hint = ENGLISH_HINT.search
    for s, e, kind in d.paras:
        ptext = text[s:e]
        if (
            inherits
            and ptext.isascii()
            and (not english or e - s < OTHER_MIN_CHARS or hint(ptext) is not None)
        ):
            lang, is_mixed = art_lang, False
        else:
            lang, is_mixed = paragraph_profile(ptext, art_lang)
        p_rows.append((s, e, kind, lang))
        p_starts.append(s)
        p_ends.append(e)
        p_langs.append(lang)
        mixed.append(is_mixed)
    rows: list[tuple[int, int, str, str, str, float]] = []
    append = rows.append
    likelihood = span_likelihood
    fixed = FIXED_LIKELIHOOD
    p = 0
    n_paras = len(p_starts)
    for s, e, kind, defect in units:
        while p < n_paras and p_ends[p] <= s:
            p += 1
        if p < n_paras and p_starts[p] <= s:
            lang = p_langs[p]
            if mixed[p]:
                lang = unit_language(text[s:e], lang)
        else:
            lang = unit_language(text[s:e], art_lang)
        if (
            lang == "en"
            and e - s >= OTHER_MIN_CHARS
            and (kind == "body" or kind == "quote_continuation")
            and hint(text, s, e) is None
        ):
            lang = other_language(text, s, e) or lang  # a French sentence in an English article
        score = fixed.get(kind)
        if score is None:
            score = likelihood(text, s, e, kind, defect)
        append((s, e, lang, kind, defect, score))
    sentences: list[SentenceUnit] = list(map(_sentence_unit, rows))
    paragraphs: list[ParagraphUnit] = list(map(_paragraph_unit, p_rows))
    published = d.published
    if published is None and d.title:
        found = find_date(d.title)
        published = found[0] if found else None
    first = units[0][0] if units else (start if start is not None else 0)
    last = units[-1][1] if units else first
    if d.title:
        title_start, title_end = d.title_start, d.title_end
    else:
        title_start = title_end = first
    return ArticleUnit(
        start=min(first, title_start),
        end=max(last, title_end),
        title=d.title,
        title_start=title_start,
        title_end=title_end,
        outlet=d.outlet,
        byline=d.byline,
        published=published,
        language=art_lang,
        content_hash=content_hash(body),
        sentences=sentences,
        paragraphs=paragraphs,
        dateline=d.dateline,
        url=d.url,
    )
