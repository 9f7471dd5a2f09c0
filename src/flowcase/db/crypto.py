"""Encryption at rest for installation secrets: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

Keys come from ``Settings.secret_keys`` (``FLOWCASE_SECRET_KEYS``): the first encrypts, all of them decrypt, so a
new key can be put first, ``flowcase db rotate-secrets`` re-encrypts every stored secret, and then the old key is
removed. Generate a key with ``flowcase db generate-key``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from flowcase.config import ConfigError


class SecretDecryptionError(ConfigError):
    """A stored secret could not be decrypted with any configured key."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("no encryption key configured (FLOWCASE_SECRET_KEYS)")
        fernets = []
        for index, key in enumerate(keys):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(
                    f"FLOWCASE_SECRET_KEYS entry {index + 1} is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        self._multi = MultiFernet(fernets)
        self._current = fernets[0]

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from None

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the current key (unchanged plaintext)."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from None

    def is_current(self, token: str) -> bool:
        try:
            self._current.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True
