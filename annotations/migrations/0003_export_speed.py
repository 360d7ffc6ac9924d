"""Export speed (P7): pseudonyms stored per (project, user) instead of an aggregate over every
label and decision before the first record; a log of the transactions that changed a project's
split inputs (the split cache's key); an index for the split assignment's claim counts.

Both tables are written by triggers, so every way of writing labels, decisions or claims keeps
them (the services, bulk SQL in imports and benchmarks, fixtures):
- PostgreSQL: statement-level triggers with transition tables (one query per statement, also
  for COPY and bulk INSERT … SELECT).
- SQLite: row-level triggers for the pseudonyms only (the split cache is not used there). SQLite
  drops a table's triggers when Django rebuilds the table: a later migration that alters
  annotations_label or annotations_decision on SQLite must create them again
  (tests/exports/test_speed_tables.py checks that they exist).

Pseudonyms keep the order the export used before (first label or decision, then user id);
existing rows are backfilled here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# --- PostgreSQL -----------------------------------------------------------------------------

PG_PSEUDONYM_FUNCTION = """
CREATE OR REPLACE FUNCTION annotations_{name}_pseudonym() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_pseudonym (project_id, user_id, role, first_at)
    SELECT i.project_id, n.{user}, '{role}', min(n.created_at)
    FROM changed_rows n JOIN annotations_item i ON i.id = n.item_id
    WHERE n.{user} IS NOT NULL
    GROUP BY i.project_id, n.{user}
    HAVING NOT EXISTS (
        SELECT 1 FROM annotations_pseudonym p
        WHERE p.project_id = i.project_id AND p.role = '{role}' AND p.user_id = n.{user}
          AND p.first_at <= min(n.created_at))
    ORDER BY 1, 2
    ON CONFLICT (project_id, role, user_id) DO UPDATE SET first_at = EXCLUDED.first_at
    WHERE EXCLUDED.first_at < annotations_pseudonym.first_at;
    RETURN NULL;
END $$
"""
PG_PSEUDONYM_TRIGGER = """
CREATE TRIGGER annotations_{name}_pseudonym_{event} AFTER {event_sql} ON annotations_{name}
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION annotations_{name}_pseudonym()
"""
# The split inputs: claims (added, removed, or a changed project, article, cluster or
# language) and articles (a changed outlet name). One row per project and transaction.
PG_SPLIT_FUNCTION = """
CREATE OR REPLACE FUNCTION annotations_{name}_split_input() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO annotations_splitinputchange (project_id, txid)
        SELECT DISTINCT project_id, txid_current() FROM new_rows
        ON CONFLICT (project_id, txid) DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO annotations_splitinputchange (project_id, txid)
        SELECT DISTINCT project_id, txid_current() FROM old_rows
        ON CONFLICT (project_id, txid) DO NOTHING;
    ELSE
        INSERT INTO annotations_splitinputchange (project_id, txid)
        SELECT DISTINCT unnest(ARRAY[n.project_id, o.project_id]), txid_current()
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE ({columns_new}) IS DISTINCT FROM ({columns_old})
        ON CONFLICT (project_id, txid) DO NOTHING;
    END IF;
    RETURN NULL;
END $$
"""
PG_SPLIT_TRIGGER = """
CREATE TRIGGER annotations_{name}_split_{event} AFTER {event_sql} ON annotations_{name}
REFERENCING {tables}
FOR EACH STATEMENT EXECUTE FUNCTION annotations_{name}_split_input()
"""
PG_SPLIT_EVENTS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows"),
    "delete": ("DELETE", "OLD TABLE AS old_rows"),
    "update": ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
}
SPLIT_COLUMNS = {
    "claim": ("project_id", "article_id", "cluster_id", "language"),
    "article": ("project_id", "outlet_name"),
}
PSEUDONYM_SOURCES = (("label", "annotator_id", "a"), ("decision", "reviewer_id", "r"))

# --- SQLite ---------------------------------------------------------------------------------

SQLITE_PSEUDONYM_TRIGGER = """
CREATE TRIGGER annotations_{name}_pseudonym_{event} AFTER {event_sql} ON annotations_{name}
FOR EACH ROW WHEN NEW.{user} IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO annotations_pseudonym (project_id, user_id, role, first_at)
    SELECT i.project_id, NEW.{user}, '{role}', NEW.created_at
    FROM annotations_item i WHERE i.id = NEW.item_id;
    UPDATE annotations_pseudonym SET first_at = NEW.created_at
    WHERE role = '{role}' AND user_id = NEW.{user} AND first_at > NEW.created_at
      AND project_id = (SELECT project_id FROM annotations_item WHERE id = NEW.item_id);
END
"""

# Existing rows, after the triggers exist (rows they write meanwhile keep the earlier time).
BACKFILL = """
INSERT INTO annotations_pseudonym (project_id, user_id, role, first_at)
SELECT i.project_id, n.{user}, '{role}', MIN(n.created_at)
FROM annotations_{name} n JOIN annotations_item i ON i.id = n.item_id
WHERE n.{user} IS NOT NULL
GROUP BY i.project_id, n.{user}
ON CONFLICT (project_id, role, user_id) DO UPDATE SET first_at = excluded.first_at
WHERE excluded.first_at < annotations_pseudonym.first_at
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, user, role in PSEUDONYM_SOURCES:
        events = (("insert", "INSERT"), ("update", "UPDATE"))
        if vendor == "postgresql":
            schema_editor.execute(PG_PSEUDONYM_FUNCTION.format(name=name, user=user, role=role))
            for event, event_sql in events:
                schema_editor.execute(
                    PG_PSEUDONYM_TRIGGER.format(name=name, event=event, event_sql=event_sql)
                )
        elif vendor == "sqlite":
            for event, event_sql in events:
                if event == "update":
                    event_sql += f" OF created_at, item_id, {user}"
                schema_editor.execute(
                    SQLITE_PSEUDONYM_TRIGGER.format(
                        name=name, user=user, role=role, event=event, event_sql=event_sql
                    )
                )
        schema_editor.execute(BACKFILL.format(name=name, user=user, role=role))
    if vendor == "postgresql":
        for name, columns in SPLIT_COLUMNS.items():
            schema_editor.execute(
                PG_SPLIT_FUNCTION.format(
                    name=name,
                    columns_new=", ".join(f"n.{c}" for c in columns),
                    columns_old=", ".join(f"o.{c}" for c in columns),
                )
            )
            # Articles: only updates matter (a new article has no claims; removing one removes
            # its claims, which the claim trigger logs).
            for event in ("update",) if name == "article" else PG_SPLIT_EVENTS:
                event_sql, tables = PG_SPLIT_EVENTS[event]
                schema_editor.execute(
                    PG_SPLIT_TRIGGER.format(
                        name=name, event=event, event_sql=event_sql, tables=tables
                    )
                )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, _, _ in PSEUDONYM_SOURCES:
        for event in ("insert", "update"):
            trigger = f"annotations_{name}_pseudonym_{event}"
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON annotations_{name}")
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        if vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS annotations_{name}_pseudonym()")
    if vendor == "postgresql":
        for name in SPLIT_COLUMNS:
            for event in ("insert", "delete", "update"):
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS annotations_{name}_split_{event} ON annotations_{name}"
                )
            schema_editor.execute(f"DROP FUNCTION IF EXISTS annotations_{name}_split_input()")


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0002_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Pseudonym",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(choices=[("a", "Annotator"), ("r", "Reviewer")], max_length=1),
                ),
                ("first_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="SplitInputChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("txid", models.BigIntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                fields=["project", "article", "cluster", "language"], name="claim_split_groups"
            ),
        ),
        migrations.AddField(
            model_name="pseudonym",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotations.project",
            ),
        ),
        migrations.AddField(
            model_name="pseudonym",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="splitinputchange",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotations.project",
            ),
        ),
        migrations.AddConstraint(
            model_name="pseudonym",
            constraint=models.UniqueConstraint(
                fields=("project", "role", "user"), name="pseudonym_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="splitinputchange",
            constraint=models.UniqueConstraint(
                fields=("project", "txid"), name="split_input_change_unique"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
