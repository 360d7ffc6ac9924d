"""Seed the database named by DATABASE_URL for the PostgreSQL outage test (run as
``python -m tests.reliability.outage_seed ARTICLES USERS``): project ``outage`` with overlap
K=2 whose claims come through a real JSONL import, and annotators with API tokens. Prints
``{"tokens": [...], "open_items": N}`` as one JSON line."""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> None:
    articles, users = int(argv[0]), int(argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotations.models import Item
    from annotations.services.accounts import membership_set
    from annotations.services.imports import import_file
    from annotations.services.projects import project_create
    from tests.reliability.helpers import corpus_jsonl

    project = project_create(slug="outage", overlap=2, suggestions="off")
    summary = import_file(
        project=project, filename="outage.jsonl", data=corpus_jsonl(articles), fill="none"
    )
    assert not summary["errors"], summary["errors"]
    tokens = []
    for u in range(users):
        # The first one can log in to the pages too.
        password = "x" * 20 if u == 0 else None
        user = get_user_model().objects.create_user(f"storm{u:02d}", password=password)
        membership_set(project=project, user=user, role="annotator")
        tokens.append(Token.objects.create(user=user).key)
    open_items = Item.objects.filter(project=project, status=Item.Status.OPEN).count()
    print(json.dumps({"tokens": tokens, "open_items": open_items}))


if __name__ == "__main__":
    main(sys.argv[1:])
