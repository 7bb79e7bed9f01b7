"""Field encryption: AES-GCM for values at rest, HMAC-SHA256 for exact lookups."""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


@lru_cache(maxsize=4)
def _keys(master: str) -> tuple[AESGCM, bytes]:
    enc = hashlib.sha256(b"guanai-enc:" + master.encode()).digest()
    mac = hashlib.sha256(b"guanai-mac:" + master.encode()).digest()
    return AESGCM(enc), mac


def _current() -> tuple[AESGCM, bytes]:
    return _keys(settings.FIELD_KEY)


def encrypt(plaintext: str) -> str:
    """Encrypt to base64 text: 12-byte nonce + ciphertext + tag."""
    aes, _ = _current()
    nonce = os.urandom(12)
    return base64.b64encode(nonce + aes.encrypt(nonce, plaintext.encode(), None)).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    aes, _ = _current()
    raw = base64.b64decode(token)
    return aes.decrypt(raw[:12], raw[12:], None).decode()


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a file's bytes (12-byte nonce + ciphertext + tag) with the field key."""
    aes, _ = _current()
    nonce = os.urandom(12)
    return nonce + aes.encrypt(nonce, data, None)


def decrypt_bytes(token: bytes) -> bytes:
    aes, _ = _current()
    return aes.decrypt(token[:12], token[12:], None)


def lookup_hash(value: str) -> str:
    """Keyed hash for finding a value without storing it in clear."""
    _, mac = _current()
    return hmac.new(mac, value.encode(), hashlib.sha256).hexdigest()
