"""Field encryption: AES-GCM for values at rest, HMAC-SHA256 for exact lookups, over a key ring.

The ring is the current key (`settings.FIELD_KEY`, every new ciphertext and lookup hash) and the
older keys still readable while `guanai rotate-key` runs (`settings.FIELD_OLD_KEYS`). A text
ciphertext names its key: ``gk1$<key id>$<base64 of nonce + ciphertext + tag>``; the key id is
a short hash of the key, never the key. Ciphertexts written before the ring have no prefix
(plain base64) and are read by trying each key of the ring (GCM refuses a wrong key).

A lookup hash cannot carry a key id: a row's hash is under the key its ciphertext names, and
`lookup_hashes` gives the hash under every key of the ring, so a lookup finds rows on both sides
of a rotation (`filter(id_number_hash__in=crypto.lookup_hashes(number))`).
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "gk1$"
BYTES_MAGIC = b"GK1"


class FieldKeyError(ValueError):
    """A value the key ring cannot decrypt: its key is missing or the data is damaged."""


@dataclass(frozen=True)
class Key:
    kid: str  # 8 hex characters, a hash of the key: names it without giving it away
    aes: AESGCM
    mac: bytes


@lru_cache(maxsize=16)
def make_key(master: str) -> Key:
    enc = hashlib.sha256(b"guanai-enc:" + master.encode()).digest()
    mac = hashlib.sha256(b"guanai-mac:" + master.encode()).digest()
    kid = hashlib.sha256(b"guanai-kid:" + master.encode()).hexdigest()[:8]
    return Key(kid=kid, aes=AESGCM(enc), mac=mac)


def key_id(master: str) -> str:
    return make_key(master).kid


@lru_cache(maxsize=1)
def _configured_old_keys() -> str:
    """GUANAI_FIELD_OLD_KEYS, the file GUANAI_FIELD_OLD_KEYS_FILE names, or (a data-dir
    install) the data dir's field.old-keys that `guanai rotate-key --new-key-file` writes; for
    settings that do not define FIELD_OLD_KEYS themselves. Read once per process (the service
    is reloaded after a key change)."""
    if os.environ.get("GUANAI_FIELD_OLD_KEYS"):
        return os.environ["GUANAI_FIELD_OLD_KEYS"]
    if os.environ.get("GUANAI_FIELD_OLD_KEYS_FILE"):
        return Path(os.environ["GUANAI_FIELD_OLD_KEYS_FILE"]).read_text()
    keyed = os.environ.get("GUANAI_FIELD_KEY") or os.environ.get("GUANAI_FIELD_KEY_FILE")
    path = Path(getattr(settings, "DATA_DIR", ".")) / "field.old-keys"
    if not keyed and path.exists():
        return path.read_text()
    return ""


def _old_masters() -> list[str]:
    old = getattr(settings, "FIELD_OLD_KEYS", None)
    if old is None:
        old = _configured_old_keys()
    if isinstance(old, str):
        old = old.replace(",", "\n").split()
    return [k.strip() for k in old if k and k.strip()]


def ring_masters() -> list[str]:
    """The master keys of the ring: the current one first, then the older ones (no
    duplicates) — for what derives its own key from each (backups)."""
    return list(dict.fromkeys([settings.FIELD_KEY, *_old_masters()]))


def ring() -> list[Key]:
    """The current key first, then the older keys still readable (no duplicates)."""
    keys, seen = [], set()
    for master in [settings.FIELD_KEY, *_old_masters()]:
        key = make_key(master)
        if key.kid not in seen:
            seen.add(key.kid)
            keys.append(key)
    return keys


def current() -> Key:
    return make_key(settings.FIELD_KEY)


def _missing(kid: str) -> FieldKeyError:
    return FieldKeyError(
        f"无法解密：这项数据用编号为 {kid} 的字段密钥加密，当前密钥环里没有这把密钥。"
        "请检查 GUANAI_FIELD_KEY 和 GUANAI_FIELD_OLD_KEYS（轮换密钥期间旧密钥须保留）。"
    )


_WRONG = (
    "无法解密：当前密钥环里没有一把密钥能解开这项数据（密钥不对或数据已损坏）。"
    "请检查 GUANAI_FIELD_KEY 和 GUANAI_FIELD_OLD_KEYS。"
)


def token_kid(token: str) -> str | None:
    """The key id a text ciphertext names, or None for one written before the ring."""
    if token.startswith(PREFIX):
        return token[len(PREFIX) : len(PREFIX) + 8]
    return None


def encrypt(plaintext: str) -> str:
    """Encrypt to text: ``gk1$<key id>$`` + base64 of a 12-byte nonce + ciphertext + tag."""
    key = current()
    nonce = os.urandom(12)
    body = base64.b64encode(nonce + key.aes.encrypt(nonce, plaintext.encode(), None)).decode()
    return f"{PREFIX}{key.kid}${body}"


class Token(str):
    """A stored ciphertext handed to an encrypted column as it is (`lib/fields.py`): written or
    compared without being encrypted again (`guanai rotate-key`, the migrations)."""


def encrypt_text(value: str | None) -> str:
    """The stored form of an encrypted text column for a raw write: "" stays "" (the column's
    "not collected"), anything else is encrypted (`lib/fields.EncryptedText`)."""
    return encrypt(value) if value else ""


def _open(key: Key, raw: bytes) -> bytes:
    return key.aes.decrypt(raw[:12], raw[12:], None)


def decrypt_with_key(token: str) -> tuple[str, Key]:
    """The plaintext and the key of the ring that opened it (for `guanai rotate-key`)."""
    kid = token_kid(token)
    if kid is not None:
        key = next((k for k in ring() if k.kid == kid), None)
        if key is None:
            raise _missing(kid)
        try:
            return _open(key, base64.b64decode(token[len(PREFIX) + 9 :])).decode(), key
        except (InvalidTag, ValueError) as exc:
            raise FieldKeyError(_WRONG) from exc
    try:
        raw = base64.b64decode(token)
    except ValueError as exc:
        raise FieldKeyError(_WRONG) from exc
    for key in ring():
        try:
            return _open(key, raw).decode(), key
        except InvalidTag:
            continue
    raise FieldKeyError(_WRONG)


def decrypt(token: str) -> str:
    if not token:
        return ""
    return decrypt_with_key(token)[0]


def is_current(token: str) -> bool:
    """Whether a stored text value is empty or already under the current key."""
    return not token or token_kid(token) == current().kid


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a file's bytes: ``GK1`` + 4-byte key id + 12-byte nonce + ciphertext + tag."""
    key = current()
    nonce = os.urandom(12)
    return BYTES_MAGIC + bytes.fromhex(key.kid) + nonce + key.aes.encrypt(nonce, data, None)


def bytes_kid(token: bytes) -> str | None:
    return token[3:7].hex() if token[:3] == BYTES_MAGIC else None


def decrypt_bytes(token: bytes) -> bytes:
    kid = bytes_kid(token)
    if kid is not None:
        key = next((k for k in ring() if k.kid == kid), None)
        if key is not None:
            try:
                return _open(key, token[7:])
            except InvalidTag:
                pass
    # Written before the ring (or a nonce that happens to start like the magic): try every key.
    for key in ring():
        try:
            return _open(key, token)
        except InvalidTag:
            continue
    if kid is not None and all(k.kid != kid for k in ring()):
        raise _missing(kid)
    raise FieldKeyError(_WRONG)


def lookup_hash(value: str) -> str:
    """Keyed hash (current key) for finding a value without storing it in clear."""
    return hmac.new(current().mac, value.encode(), hashlib.sha256).hexdigest()


def lookup_hash_with(key: Key, value: str) -> str:
    return hmac.new(key.mac, value.encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """The value's lookup hash under every key of the ring, the current key's first: rows not
    yet rotated are still found (`filter(<field>__in=lookup_hashes(value))`)."""
    return [lookup_hash_with(key, value) for key in ring()]
