"""`guanai rotate-key`: re-encrypt every encrypted value under the current field key and
recompute its lookup hash, in small transactions, while the app keeps running.

Progress is derived from the key ids the ciphertexts carry (`lib/crypto.py`): a value still
under an older key is what is left to do, so an interrupted run simply continues when run
again, and `pending()` (`--check`) counts what is left. Each row is written with a conditional
UPDATE (the old ciphertext must still be there), so a teacher's edit made meanwhile is never
overwritten; his new value is already under the current key. `QuerySet.update` writes no
history row and leaves `updated_at` alone: a rotation changes no fact of the card.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, Q, TextField

from guanai.contacts.families import rehash_family_keys
from guanai.lib import crypto


@dataclass(frozen=True)
class Column:
    enc: str
    hash: str | None  # the lookup hash beside it, recomputed with it (None: no hash kept)
    label: str


@dataclass(frozen=True)
class Table:
    model: str
    label: str
    columns: tuple[Column, ...]


_ID = Column("id_number_enc", "id_number_hash", "身份证号")
_ID_HISTORY = Column("id_number_enc", None, "身份证号")
_PHONE = Column("phone", None, "电话")
_HEALTH = Column("health", None, "健康状况")
_INCIDENT = (Column("what", None, "情况"), Column("outcome", None, "处理结果"))
_DROPOUT = (Column("reason_asked", None, "了解到的原因"), Column("closing_note", None, "结案说明"))

# Every encrypted column (grep `crypto.encrypt` and `_enc =` when adding one), the history
# tables (simple_history keeps the ciphertexts, not the hashes) included.
TABLES: tuple[Table, ...] = (
    Table(
        "children.Child",
        "儿童档卡",
        (_ID, Column("student_no_enc", "student_no_hash", "学籍号"), _HEALTH),
    ),
    Table("children.Parent", "父母", (_ID, _PHONE)),
    Table("children.Guardian", "监护人", (_ID, _PHONE, _HEALTH)),
    Table(
        "children.HistoricalChild",
        "儿童档卡历史",
        (_ID_HISTORY, Column("student_no_enc", None, "学籍号"), _HEALTH),
    ),
    Table("children.HistoricalParent", "父母历史", (_ID_HISTORY, _PHONE)),
    Table("children.HistoricalGuardian", "监护人历史", (_ID_HISTORY, _PHONE, _HEALTH)),
    Table("accounts.TOTPDevice", "动态口令", (Column("secret_enc", None, "密钥"),)),
    # Columns declared `EncryptedText` (lib/fields.py): phones, health, psychology, incidents.
    Table("screening.VacationPlan", "假期去向", (Column("contact_phone", None, "看护人电话"),)),
    Table("contacts.Contact", "家校联系", (Column("psych_text", None, "心理情况"),)),
    Table("contacts.HistoricalContact", "家校联系历史", (Column("psych_text", None, "心理情况"),)),
    Table("contacts.Recipient", "短信收信人", (Column("phone", None, "号码"),)),
    Table("pairing.ProxyParent", "代理家长", (_PHONE,)),
    Table("pairing.HistoricalProxyParent", "代理家长历史", (_PHONE,)),
    Table("care.Observation", "心理观察", (Column("what", None, "看到的情况"),)),
    Table("care.Session", "辅导记录", (Column("notes", None, "辅导记录"),)),
    Table("protection.Incident", "强制报告", _INCIDENT),
    Table("protection.HistoricalIncident", "强制报告历史", _INCIDENT),
    Table("protection.IncidentFollowUp", "强制报告跟进", (Column("note", None, "跟进情况"),)),
    Table("protection.DropoutCase", "控辍保学", _DROPOUT),
    Table("protection.HistoricalDropoutCase", "控辍保学历史", _DROPOUT),
    Table("protection.DropoutAttempt", "劝返记录", (Column("result", None, "结果"),)),
    Table(
        "protection.AlertResolution", "监护缺失提醒处理", (Column("action", None, "采取的措施"),)
    ),
)


def encrypted_files() -> list[Path]:
    """Files kept encrypted with the field key: the rejected rows of finished imports."""
    folder = Path(settings.MEDIA_ROOT) / "imports" / "rejected"
    return sorted(folder.glob("*.bin")) if folder.exists() else []


def _stale(table: Table, prefix: str) -> Q:
    cond = Q()
    for col in table.columns:
        cond |= ~Q(**{col.enc: ""}) & ~Q(**{f"{col.enc}__startswith": prefix})
    return cond


def _prefix() -> crypto.Token:
    # A Token: an `EncryptedText` column compares it as it is (lib/fields.py)
    return crypto.Token(f"{crypto.PREFIX}{crypto.current().kid}$")


def _raw(name: str) -> ExpressionWrapper:
    """A column as stored: an `EncryptedText` column's value without its decryption."""
    return ExpressionWrapper(F(name), output_field=TextField())


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)  # "儿童档卡·身份证号" → values rotated
    files: int = 0
    skipped: int = 0  # changed by someone meanwhile (already under the current key)
    hash_kept: int = 0  # a hash that was not the value's hash under its key: left as it was
    seconds: float = 0.0
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def pending() -> dict[str, int]:
    """Values (and files) still under an older key, by table and column."""
    prefix = _prefix()
    counts: dict[str, int] = {}
    for table in TABLES:
        model = apps.get_model(table.model)
        for col in table.columns:
            counts[f"{table.label}·{col.label}"] = (
                model._base_manager.exclude(**{col.enc: ""})
                .exclude(**{f"{col.enc}__startswith": prefix})
                .count()
            )
    current = crypto.current().kid
    counts["导入退回行文件"] = sum(
        1 for p in encrypted_files() if crypto.bytes_kid(p.read_bytes()[:7]) != current
    )
    counts["家长信·家庭标识"] = rehash_family_keys(check=True)
    return counts


def after_batch(number: int) -> None:
    """Called after each committed batch (tests interrupt a run here)."""


def rotate(
    *,
    batch_size: int = 500,
    out: Callable[[str], None] = lambda line: None,
) -> Summary:
    """Re-encrypt every value not under the current key, `batch_size` rows per transaction.
    Raises crypto.FieldKeyError (in Chinese) when a value cannot be read with the ring."""
    started = time.perf_counter()
    summary = Summary()
    prefix = _prefix()
    for table in TABLES:
        model = apps.get_model(table.model)
        manager = model._base_manager
        stale = _stale(table, prefix)
        total = manager.filter(stale).count()
        for col in table.columns:
            summary.rows.setdefault(f"{table.label}·{col.label}", 0)
        if not total:
            continue
        names = []
        for col in table.columns:
            names += [col.enc] + ([col.hash] if col.hash else [])
        done, last_pk = 0, None
        while True:
            with transaction.atomic():
                rows = manager.filter(stale)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                raw = rows.order_by("pk").values("pk", **{f"raw_{n}": _raw(n) for n in names})
                batch = [
                    {"pk": r["pk"], **{n: r[f"raw_{n}"] for n in names}} for r in raw[:batch_size]
                ]
                if not batch:
                    break
                _rotate_rows(model, table, batch, prefix, summary)
                last_pk = batch[-1]["pk"]
            done += len(batch)
            summary.batches += 1
            out(f"{table.label}：{done}/{total}")
            after_batch(summary.batches)
    current = crypto.current().kid
    for path in encrypted_files():
        data = path.read_bytes()
        if crypto.bytes_kid(data) == current:
            continue
        part = path.with_suffix(".part")
        part.write_bytes(crypto.encrypt_bytes(crypto.decrypt_bytes(data)))
        os.replace(part, path)
        summary.files += 1
    if summary.files:
        out(f"导入退回行文件：{summary.files}")
    # Letters group a family by a keyed hash of its phone: moved to the new key while the old
    # one is still in the ring, so a family's letters before and after the rotation stay one.
    letters = rehash_family_keys(batch_size=batch_size)
    summary.rows["家长信·家庭标识"] = letters
    if letters:
        out(f"家长信家庭标识：{letters}")
    summary.seconds = time.perf_counter() - started
    return summary


def _rotate_rows(model, table: Table, batch: list[dict], prefix: str, summary: Summary) -> None:
    """One UPDATE per row, sent with executemany (the ORM's per-row update costs ~1 ms), each
    conditional on the old ciphertexts: a row changed meanwhile is left as it now is."""
    groups: dict[tuple[Column, ...], list[list]] = {}
    for row in batch:
        cols: list[Column] = []
        sets: list = []
        olds: list = []
        for col in table.columns:
            token = row[col.enc]
            if not token or token.startswith(prefix):
                continue
            plain, key = crypto.decrypt_with_key(token)
            cols.append(col)
            sets.append(crypto.encrypt(plain))
            olds.append(token)
            old_hash = row.get(col.hash) if col.hash else None
            if col.hash:
                if old_hash and old_hash == crypto.lookup_hash_with(key, plain):
                    sets.append(crypto.lookup_hash(plain))
                else:
                    if old_hash:
                        summary.hash_kept += 1
                    sets.append(old_hash)
        if cols:
            groups.setdefault(tuple(cols), []).append([*sets, row["pk"], *olds])
    quote = connection.ops.quote_name
    meta = model._meta
    for cols, params in groups.items():
        assign = []
        for col in cols:
            assign.append(f"{quote(meta.get_field(col.enc).column)} = %s")
            if col.hash:
                assign.append(f"{quote(meta.get_field(col.hash).column)} = %s")
        where = [f"{quote(meta.pk.column)} = %s"]
        where += [f"{quote(meta.get_field(col.enc).column)} = %s" for col in cols]
        sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(assign)} WHERE {' AND '.join(where)}"
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
            changed = cursor.rowcount if cursor.rowcount >= 0 else len(params)
        summary.skipped += len(params) - changed
        for col in cols:
            summary.rows[f"{table.label}·{col.label}"] += changed


def _env_keyed() -> bool:
    return bool(os.environ.get("GUANAI_FIELD_KEY") or os.environ.get("GUANAI_FIELD_KEY_FILE"))


def read_key_file(path: Path) -> str:
    from guanai.lib.errors import Invalid

    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise Invalid({"new_key_file": f"读不到新密钥文件 {path}：{exc.strerror}"}) from exc
    if len(key) < 32 or any(ch.isspace() or ch == "," for ch in key):
        raise Invalid(
            {
                "new_key_file": "新密钥须是一行至少 32 个字符、不含空格和逗号的随机串"
                '（可用 python3 -c "import secrets; print(secrets.token_urlsafe(48))" 生成）'
            }
        )
    return key


def install_key(new_key: str) -> bool:
    """Make `new_key` the current field key and keep the present one readable: in the data
    directory (`field.key` and `field.old-keys`) and in this process's settings. Returns False
    when it already was the current key. Deployments that set GUANAI_FIELD_KEY change their
    environment instead (docs/privacy.md)."""
    from guanai.lib.errors import Invalid

    if new_key == settings.FIELD_KEY:
        return False
    if _env_keyed():
        raise Invalid(
            {
                "new_key_file": "这台服务器用环境变量 GUANAI_FIELD_KEY 设定字段密钥：请把新密钥设为 "
                "GUANAI_FIELD_KEY、旧密钥加入 GUANAI_FIELD_OLD_KEYS，重新加载服务后再运行 "
                "guanai rotate-key（不带 --new-key-file）"
            }
        )
    data = Path(settings.DATA_DIR)
    old = settings.FIELD_KEY
    olds_path = data / "field.old-keys"
    olds = olds_path.read_text().split() if olds_path.exists() else []
    if old not in olds:
        olds.append(old)
    _write_secret(olds_path, "\n".join(olds) + "\n")
    _write_secret(data / "field.key", new_key)
    settings.FIELD_OLD_KEYS = [*crypto._old_masters(), old]
    settings.FIELD_KEY = new_key
    return True


def _write_secret(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.chmod(0o600)
    os.replace(part, path)


def old_key_ids() -> list[str]:
    return [k.kid for k in crypto.ring()[1:]]
