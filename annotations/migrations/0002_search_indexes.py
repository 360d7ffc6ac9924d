"""PostgreSQL-only search indexes for the claims list at scale: full-text ('simple' config,
which tokenises Arabic as well as English) and trigram for substring search. The expressions
match what the ORM generates for SearchVector("text", config="simple") and icontains, so the
planner uses them. Skipped on SQLite. pg_trgm needs CREATE EXTENSION rights; without them the
trigram index is skipped and substring search stays a scan."""

from django.db import migrations

FTS = (
    "CREATE INDEX IF NOT EXISTS claim_text_fts ON annotations_claim "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
)
TRGM = (
    "CREATE INDEX IF NOT EXISTS claim_text_trgm ON annotations_claim "
    "USING gin (UPPER(text::text) gin_trgm_ops)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FTS)
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SAVEPOINT trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(TRGM)
            cursor.execute("RELEASE SAVEPOINT trgm")
    except Exception:  # no privilege for the extension: keep the full-text index only
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ROLLBACK TO SAVEPOINT trgm")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS claim_text_fts")
    schema_editor.execute("DROP INDEX IF EXISTS claim_text_trgm")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
