"""Files at rest are the service user's only: the data folder 0700, the keys, the database, the
outbox of guardians' phones and backups 0600, even under a lax umask (022) and over files an
older version left 0644; backups carry the printed letters (security issue #10)."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command

from guanai.contacts.gateways import FileGateway
from guanai.contacts.letters_pdf import letters_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def lax_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _start_app(data: Path) -> None:
    """Load the settings and open the database in a fresh process started with umask 022."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANAI_", "DATABASE_URL"))}
    env |= {"GUANAI_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "guanai.settings"}
    code = "import django; django.setup(); from django.db import connection; connection.cursor()"
    subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, preexec_fn=lambda: os.umask(0o022)
    )


def test_a_new_data_folder_and_its_keys_and_database_are_private(tmp_path):
    data = tmp_path / "data"
    _start_app(data)
    assert mode(data) == 0o700
    for name in ("secret.key", "field.key", "guanai.sqlite3"):
        assert mode(data / name) == 0o600, name


def test_an_older_open_data_folder_is_closed(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    _start_app(data)
    assert mode(data) == 0o700


def test_the_outbox_of_guardians_phones_is_private(tmp_path, settings):
    settings.GUANAI_MESSAGE_FILE = str(tmp_path / "new" / "outbox.jsonl")
    with lax_umask():
        FileGateway().send(phone="13912345678", text="家长会通知", ref="m1")
    outbox = tmp_path / "new" / "outbox.jsonl"
    assert (mode(outbox), mode(outbox.parent)) == (0o600, 0o700)
    outbox.chmod(0o644)  # as an older version left it
    FileGateway().send(phone="13912345678", text="家长会通知", ref="m2")
    assert mode(outbox) == 0o600
    assert len(outbox.read_text().splitlines()) == 2


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_private_and_keeps_the_printed_letters(tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    letter = letters_dir() / "letters-1.pdf"
    letter.write_bytes(b"%PDF-1.7 letters to families")
    target = tmp_path / "backups" / "guanai.backup"
    with lax_umask():
        call_command("backup", output=str(target))
    assert (mode(target), mode(target.parent)) == (0o600, 0o700)
    target.chmod(0o644)
    call_command("backup", output=str(target))  # replacing an older, wider backup
    assert mode(target) == 0o600
    letter.unlink()
    call_command("restore", str(target))
    assert letter.read_bytes() == b"%PDF-1.7 letters to families"
