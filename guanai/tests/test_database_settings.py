"""How the app's database connections are set up (guanai/settings.py)."""

from django.db import connection


def test_connections_are_tuned_for_the_engine(db):
    """SQLite: foreign keys and in-memory temporary tables on every connection. PostgreSQL: no
    JIT (the town's due page spent 20 s compiling, a school's statistics 63 of 134 ms)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
            cursor.execute("PRAGMA temp_store")
            assert cursor.fetchone()[0] == 2  # MEMORY
        else:
            cursor.execute("SELECT current_setting('jit')")
            assert cursor.fetchone()[0] == "off"
