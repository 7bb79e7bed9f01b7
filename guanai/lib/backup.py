"""Consistent online backups, encrypted, and their restore.

A backup is a tar holding the database (SQLite's online backup API, or `pg_dump -Fc` for
PostgreSQL), the uploads folder, the printed letters and a manifest, encrypted in 4 MiB AES-GCM
chunks with a key derived from GUANAI_FIELD_KEY — keep that key: without it a backup cannot be
read. The backup file is written 0600. A restore tries every key of the field key ring (the
current key, then GUANAI_FIELD_OLD_KEYS), so a backup made before `guanai rotate-key` restores
as long as its key is kept in the ring.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection

from guanai.lib import crypto

MAGIC = b"GUANAI-BACKUP-1\n"
CHUNK = 4 * 1024 * 1024


def _letters() -> Path:
    """The printed letters' PDFs (contacts.letters_pdf.letters_dir): kept, since a batch
    re-rendered later would no longer be the letter families received."""
    return Path(settings.DATA_DIR) / "letters"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; Chinese message."""


def _aes(master: str | None = None) -> AESGCM:
    master = settings.FIELD_KEY if master is None else master
    return AESGCM(hashlib.sha256(b"guanai-backup:" + master.encode()).digest())


def _ring_aes() -> list[AESGCM]:
    """The backup key of every field key of the ring, the current one first: a backup is
    encrypted with the key of its day, which a rotation moves to the old keys."""
    return [_aes(master) for master in crypto.ring_masters()]


def _encrypt_file(src: Path, dst: Path) -> None:
    aes = _aes()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when it replaces an older, wider file
    with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
        fout.write(MAGIC)
        index = 0
        while True:
            block = fin.read(CHUNK)
            last = len(block) < CHUNK
            nonce = os.urandom(12)
            aad = struct.pack(">Q?", index, last)  # order and end are authenticated
            data = aes.encrypt(nonce, block, aad)
            fout.write(struct.pack(">I?", len(data), last) + nonce + data)
            index += 1
            if last:
                break


_UNREADABLE = "无法解密备份：密钥不对或文件已损坏"


def _decrypt_file(src: Path, dst: Path) -> None:
    """Decrypt a backup into `dst`. The first chunk picks the key of the ring that opens it
    (GCM refuses a wrong key); every later chunk must open with that same key."""
    keys = _ring_aes()
    aes: AESGCM | None = None
    with src.open("rb") as fin, dst.open("wb") as fout:
        if fin.read(len(MAGIC)) != MAGIC:
            raise BackupError("这不是关爱的备份文件")
        index = 0
        while True:
            head = fin.read(5)
            if len(head) < 5:
                raise BackupError("备份文件不完整（被截断）")
            size, last = struct.unpack(">I?", head)
            nonce, data = fin.read(12), fin.read(size)
            aad = struct.pack(">Q?", index, last)
            if aes is None:
                aes, block = _open_first(keys, nonce, data, aad)
            else:
                try:
                    block = aes.decrypt(nonce, data, aad)
                except (InvalidTag, ValueError) as exc:
                    raise BackupError(_UNREADABLE) from exc
            fout.write(block)
            index += 1
            if last:
                break


def _open_first(keys: list[AESGCM], nonce: bytes, data: bytes, aad: bytes):
    for aes in keys:
        try:
            return aes, aes.decrypt(nonce, data, aad)
        except (InvalidTag, ValueError):
            continue
    raise BackupError(_UNREADABLE)


def _pg_args() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = [
        "-h",
        str(db.get("HOST") or "127.0.0.1"),
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        str(db.get("USER") or "postgres"),
        "-d",
        str(db["NAME"]),
    ]
    env = dict(os.environ, PGPASSWORD=str(db.get("PASSWORD") or ""))
    return args, env


def _dump_database(workdir: Path) -> str:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(workdir / "db.sqlite3")
        with target:
            connection.connection.backup(target)  # consistent while others keep writing
        target.close()
        return "sqlite"
    if connection.vendor == "postgresql":
        if not shutil.which("pg_dump"):
            raise BackupError("需要 pg_dump（Debian 软件包 postgresql-client）")
        args, env = _pg_args()
        subprocess.run(
            ["pg_dump", "-Fc", "-f", str(workdir / "db.pgdump"), *args],
            check=True,
            env=env,
            capture_output=True,
        )
        return "postgresql"
    raise BackupError(f"不支持的数据库：{connection.vendor}")


def create_backup(*, output: Path) -> dict:
    """Write an encrypted backup of the database, uploads and letters to `output`; returns the
    manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        engine = _dump_database(work)
        manifest = {"format": 1, "engine": engine, "created": datetime.now(UTC).isoformat()}
        tar_path = work / "backup.tar"
        with tarfile.open(tar_path, "w") as tar:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for name in ("db.sqlite3", "db.pgdump"):
                if (work / name).exists():
                    tar.add(work / name, arcname=name)
            uploads = Path(settings.MEDIA_ROOT)
            if uploads.exists():
                tar.add(uploads, arcname="uploads")
            if _letters().exists():
                tar.add(_letters(), arcname="letters")
        output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _encrypt_file(tar_path, output)
    return manifest


def restore_backup(*, source: Path) -> dict:
    """Replace the database, uploads and letters with those of an encrypted backup."""
    if not source.exists():
        raise BackupError(f"找不到备份文件 {source}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _decrypt_file(source, work / "backup.tar")
        with tarfile.open(work / "backup.tar") as tar:
            tar.extractall(work / "x", filter="data")
        manifest = json.loads((work / "x" / "manifest.json").read_text())
        if manifest["engine"] != connection.vendor:
            raise BackupError(
                f"备份来自 {manifest['engine']}，当前数据库是 {connection.vendor}，不能直接恢复"
            )
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            src = sqlite3.connect(work / "x" / "db.sqlite3")
            src.backup(connection.connection)
            src.close()
        else:
            args, env = _pg_args()
            subprocess.run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    *args,
                    str(work / "x" / "db.pgdump"),
                ],
                check=True,
                env=env,
                capture_output=True,
            )
        uploads = work / "x" / "uploads"
        if uploads.exists():
            shutil.copytree(uploads, settings.MEDIA_ROOT, dirs_exist_ok=True)
        letters = work / "x" / "letters"
        if letters.exists():
            shutil.copytree(letters, _letters(), dirs_exist_ok=True)
    return manifest


# --- retention ----------------------------------------------------------------------------------


def backup_dir() -> Path:
    """Where backups are kept for the retention rule: GUANAI_BACKUP_DIR (default: the data
    dir's `backups/`). A backup written elsewhere is the operator's to keep or delete."""
    return Path(settings.GUANAI_BACKUP_DIR)


def keep_days() -> int:
    """How long a backup is kept: GUANAI_BACKUP_KEEP_DAYS (default 90 days)."""
    return int(settings.GUANAI_BACKUP_KEEP_DAYS)


def backups(folder: Path | None = None) -> list[tuple[Path, datetime]]:
    """The backup files of a folder (those starting with the backup's magic bytes), oldest
    first, with the time each was written (the file's modification time: the manifest that
    dates it is inside the encryption)."""
    folder = backup_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        try:
            if not path.is_file():
                continue
            with path.open("rb") as fh:
                if fh.read(len(MAGIC)) != MAGIC:
                    continue
            found.append((path, datetime.fromtimestamp(path.stat().st_mtime, UTC)))
        except OSError:
            continue
    return sorted(found, key=lambda item: item[1])


def expired_backups(*, now: datetime, days: int, folder: Path | None = None) -> list[Path]:
    """Backups written more than `days` days before `now`."""
    limit = now - timedelta(days=days)
    return [path for path, written in backups(folder) if written < limit]


def prune_backups(*, now: datetime, days: int, folder: Path | None = None) -> list[Path]:
    """Delete the backups older than the retention; returns those deleted."""
    gone = expired_backups(now=now, days=days, folder=folder)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def backups_before(when: datetime, folder: Path | None = None) -> list[datetime]:
    """When each backup written before `when` was written (they hold the data of that day)."""
    return [written for _path, written in backups(folder) if written <= when]
