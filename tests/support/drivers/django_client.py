"""Django with psycopg 3, the ORM in autocommit (Django's default) (contract: _common.py).

Default: Django sets psycopg's `prepare_threshold` to None itself and binds parameters on
the client, so plain queries prepare nothing; but `QuerySet.iterator()` uses a server-side
cursor, which in autocommit is declared `WITH HOLD` and fetched in later transactions.
Fix: `DISABLE_SERVER_SIDE_CURSORS = True`, which Django documents for transaction pooling.
Source: https://github.com/django/django/blob/main/django/db/backends/postgresql/base.py
(`get_connection_params`: prepare_threshold; `create_cursor`: withhold), and
https://docs.djangoproject.com/en/stable/ref/databases/#transaction-pooling-server-side-cursors
"""

from urllib.parse import unquote, urlsplit

import django
import psycopg
from _common import LIMIT, WrongResult, check, run, url, variant
from django.conf import settings

parts = urlsplit(url())
settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname,
            "PORT": parts.port,
            "DISABLE_SERVER_SIDE_CURSORS": variant() == "fix",
        }
    },
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.db import connection, models  # noqa: E402 - needs the settings above


class Item(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.TextField()

    class Meta:
        app_label = "matrix"
        db_table = "driver_item"
        managed = False


def setup():
    connection.ensure_connection()


def request(_, i):
    check([item.id for item in Item.objects.filter(id__gt=i).order_by("id")[:LIMIT]], i)
    # A report that streams rows: a server-side cursor, fetched 10 rows at a time.
    streamed = sum(1 for _ in Item.objects.order_by("id").iterator(chunk_size=10))
    if streamed != 50:
        raise WrongResult(f"wrong result: iterator() gave {streamed} rows, expected 50")


VERSION = f"{django.__version__} (psycopg {psycopg.__version__})"
run("django", VERSION, setup, request, lambda _: connection.close())
