"""The SQL of the fast export path (fast.py): the claim records' query, whose JSON and CSV
segments are formatted exactly as Python's json and csv write them, and the articles' query."""

from __future__ import annotations

from ...models import (
    Article,
    Claim,
    ClaimPair,
    Decision,
    Document,
    EventCluster,
    Item,
    Label,
    Outlet,
)


def float_sql(expr: str) -> str:
    """SQL text of a float8 as Python's json writes it: PostgreSQL's shortest output equals
    Python's repr for plain decimals; an integral value gains '.0'; anything else (exponent,
    NaN, infinities) is marked for Python to format."""
    text = f"{expr}::text"
    return (
        f"CASE WHEN {expr} IS NULL THEN 'null' "
        f"WHEN strpos({text}, 'e') > 0 OR {text} IN ('NaN', 'Infinity', '-Infinity') "
        f"THEN E'\\x1e' || {text} || E'\\x1e' "
        f"WHEN strpos({text}, '.') = 0 THEN {text} || '.0' "
        f"ELSE {text} END"
    )


def iso_sql(expr: str) -> str:
    """SQL text of a timestamptz as the JSON string of Python's `isoformat()` in UTC."""
    utc = f"({expr} AT TIME ZONE 'UTC')"
    return (
        f"""'"' || CASE WHEN date_trunc('second', {utc}) = {utc} """
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US') END || '+00:00"'"""
    )


def json_text(expr: str) -> str:
    return f"coalesce(to_json({expr})::text, 'null')"


def bool_sql(expr: str) -> str:
    return f"CASE WHEN {expr} IS NULL THEN 'null' WHEN {expr} THEN 'true' ELSE 'false' END"


def _jsonl_select(adjudication_tail: str) -> str:
    return f"""
        SELECT c.article_id, c.cluster_id, i.status = 'settled', i.gold::text,
               i.aggregate::text, d.changed_fields::text,
               CASE WHEN d.version IS NOT NULL THEN {adjudication_tail} END,
               ',"claim_id":' || c.id || ',"dataset_version":' || %(dataset_version)s || ',',
               ',"end":' || c."end" || ',"event_cluster":' || {json_text("ec.key")}
                   || ',"gold":',
               ',"guidelines_version":' || %(schema_version)s || ',"id":"claim-' || c.id
                   || '","item_id":' || i.id || ',"labels":[',
               lab.lp, lab.lv,
               '],"language":' || CASE WHEN c.language = '' THEN 'null'
                   ELSE to_json(c.language)::text END
                   || ',"n_labels":' || coalesce(lab.n, 0) || ',',
               ',"start":' || c.start || ',"status":' || {json_text("i.status")}
                   || ',"text":' || {json_text("c.text")}
                   || ',"unit_defect":' || {json_text("c.unit_defect")}
                   || ',"unit_kind":' || {json_text("c.unit_kind")} || '}}',
               c.language, c.unit_defect, d.action, d.overrides_majority
    """


# A text cell as formats.csv_text writes it: '' for NULL; a leading = + - @ tab or CR gets an
# apostrophe; quoted (quotes doubled) when it holds a quote, comma, CR or LF.
_CSV_SPECIAL = "E'[\",\\r\\n]'"
_FORMULA = "('=', '+', '-', '@', E'\\t', E'\\r')"


def csv_text_sql(expr: str) -> str:
    quoted = f"replace({expr}, '\"', '\"\"') || '\"'"
    return (
        f"CASE WHEN {expr} IS NULL THEN '' "
        f"WHEN left({expr}, 1) IN {_FORMULA} THEN CASE WHEN {expr} ~ {_CSV_SPECIAL} "
        f"THEN '\"''' || {quoted} ELSE '''' || {expr} END "
        f"WHEN {expr} ~ {_CSV_SPECIAL} THEN '\"' || {quoted} ELSE {expr} END"
    )


def _csv_select(adjudication_tail: str) -> str:
    """CSV line segments: up to the article's cells; from language to the gold cell; the
    labels (as for JSONL); from n_labels to the soft labels; from event_cluster to the split."""
    return f"""
        SELECT c.article_id, c.cluster_id, i.status = 'settled', i.gold::text,
               i.aggregate::text, d.changed_fields::text,
               CASE WHEN d.version IS NOT NULL THEN {adjudication_tail} END,
               'claim-' || c.id || %(csv_head)s || i.id || ',' || c.id || ',',
               ',' || {csv_text_sql("nullif(c.language, '')")} || ',' || c.start
                   || ',' || c."end" || ',' || {csv_text_sql("c.text")}
                   || ',' || {csv_text_sql("c.unit_kind")}
                   || ',' || {csv_text_sql("c.unit_defect")}
                   || ',' || {csv_text_sql("i.status")}
                   || CASE WHEN i.status = 'settled' THEN ',true,' ELSE ',false,' END,
               lab.lp, lab.lv,
               ',' || coalesce(lab.n, 0) || ',',
               ',' || {csv_text_sql("ec.key")} || ',',
               c.language, c.unit_defect, d.action, d.overrides_majority
    """


def _tabular_select(adjudication_tail: str) -> str:
    return f"""
        SELECT c.article_id, c.cluster_id, i.status = 'settled', i.gold::text,
               i.aggregate::text, d.changed_fields::text,
               CASE WHEN d.version IS NOT NULL THEN {adjudication_tail} END,
               c.id, i.id, c.language, c.start, c."end", c.text, c.unit_kind, c.unit_defect,
               i.status, lab.lp, lab.lv, coalesce(lab.n, 0), ec.key,
               d.action, d.overrides_majority
    """


def _label_prefix() -> str:
    """One label's JSON up to its values (the values are aggregated apart, as raw jsonb)."""
    return (
        """'{"accepted":' || """
        + bool_sql("l.accepted")
        + """ || ',"annotator":"a' || l.pos || '","created_at":' || """
        + iso_sql("l.created_at")
        + """ || ',"schema_version":' || """
        + "coalesce((%(sv_numbers)s::bigint[])[array_position(%(sv_ids)s::bigint[], "
        + "l.schema_version_id)]::text, 'null')"
        + """ || ',"seconds":' || """
        + float_sql("l.seconds")
        + """ || ',"suggested":' || """
        + bool_sql("l.suggested")
        + """ || ',"values":'"""
    )


def _adjudication_tail() -> str:
    """The adjudication's JSON after its changed fields (Python writes those)."""
    return (
        """',"decided_at":' || """
        + iso_sql("d.created_at")
        + """ || ',"method":' || CASE WHEN d.action = 'auto_settle' THEN '"auto_settle"' """
        + """ELSE '"reviewer"' END || ',"note":' || """
        + json_text("d.note")
        + """ || ',"overrides_majority":' || """
        + bool_sql("d.overrides_majority")
        + """ || ',"reviewer":' || coalesce('"r' || """
        + "array_position(%(reviewers)s::bigint[], d.reviewer_id) || '\"', 'null')"
        + """ || ',"version":' || d.version || '}'"""
    )


def claims_sql(include: str, mode: str = "jsonl") -> str:
    """The records' query. "jsonl" and "csv": ready-made segments of the line; "tabular"
    (Parquet): plain column values. All carry the labels as SEP-joined JSON prefixes and raw
    jsonb values."""
    claim = Claim._meta.db_table
    cluster = EventCluster._meta.db_table
    select = {"jsonl": _jsonl_select, "csv": _csv_select, "tabular": _tabular_select}[mode](
        _adjudication_tail()
    )
    joins = f"""
        JOIN {claim} c ON c.id = i.claim_id
        LEFT JOIN {cluster} ec ON ec.id = c.cluster_id
    """
    return _records_sql(select, joins, "claim", include)


def pairs_sql(include: str) -> str:
    """The pair records' query: plain column values (fast_pairs.py builds every format from
    them), both claims' own columns, the labels as for claims."""
    pair = ClaimPair._meta.db_table
    claim = Claim._meta.db_table
    cluster = EventCluster._meta.db_table
    claim_columns = ", ".join(
        f'{c}.id, {c}.start, {c}."end", {c}.text, {c}.language, {c}.unit_kind, '
        f"{c}.unit_defect, e{c}.key"
        for c in ("ca", "cb")
    )
    select = f"""
        SELECT ca.article_id, cb.article_id, p.cluster_id, ca.cluster_id,
               i.status = 'settled', i.gold::text, i.aggregate::text, d.changed_fields::text,
               CASE WHEN d.version IS NOT NULL THEN {_adjudication_tail()} END,
               i.id, p.id, p.method, p.score, p.features::text, i.status,
               lab.lp, lab.lv, coalesce(lab.n, 0), ec.key, {claim_columns}
    """
    joins = f"""
        JOIN {pair} p ON p.id = i.pair_id
        JOIN {claim} ca ON ca.id = p.claim_a_id
        JOIN {claim} cb ON cb.id = p.claim_b_id
        LEFT JOIN {cluster} ec ON ec.id = p.cluster_id
        LEFT JOIN {cluster} eca ON eca.id = ca.cluster_id
        LEFT JOIN {cluster} ecb ON ecb.id = cb.cluster_id
    """
    return _records_sql(select, joins, "pair", include)


def _records_sql(select: str, joins: str, kind: str, include: str) -> str:
    item = Item._meta.db_table
    label = Label._meta.db_table
    decision = Decision._meta.db_table
    where = "i.status = 'settled'" if include == "settled" else "lab.n > 0"
    # Identifiers come from model metadata, `kind` and `where` are constants of this module;
    # every value is a query parameter.
    return f"""
        {select}
        FROM {item} i
        {joins}
        LEFT JOIN LATERAL (
            SELECT count(*) AS n,
                   string_agg({_label_prefix()}, E'\\x1f' ORDER BY l.pos) AS lp,
                   string_agg(l."values"::text, E'\\x1f' ORDER BY l.pos) AS lv
            FROM (SELECT x.*, array_position(%(annotators)s::bigint[], x.annotator_id) AS pos
                  FROM {label} x WHERE x.item_id = i.id) l
        ) lab ON true
        LEFT JOIN LATERAL (
            SELECT * FROM {decision} dd WHERE dd.item_id = i.id AND i.status = 'settled'
            ORDER BY dd.version DESC LIMIT 1
        ) d ON i.status = 'settled'
        WHERE i.project_id = %(project)s AND i.kind = '{kind}' AND {where}
        ORDER BY i.id
    """  # noqa: S608


def article_sql() -> str:
    article = Article._meta.db_table
    document = Document._meta.db_table
    outlet = Outlet._meta.db_table
    # The columns of _ArticleCache.entry, as its ORM query reads them.
    return f"""
        SELECT a.id, a.title, a.published, a.outlet_name, a.document_id, d.name, d.url,
               d.sha256, o.name, o.country, o.kind, o.affiliation, o.reviewed,
               SUBSTRING(d.text, a.start + 1, a."end" - a.start)
        FROM {article} a
        JOIN {document} d ON d.id = a.document_id
        LEFT JOIN {outlet} o ON o.id = a.outlet_id
        WHERE a.id = ANY(%s)
    """  # noqa: S608 - table names from model metadata
