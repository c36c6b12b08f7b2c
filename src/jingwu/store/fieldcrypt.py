"""At-rest encryption of personal data in single columns, with a keyed blind index for exact search.

Why: a stolen database file, dump or backup must not reveal residents' ID numbers, phone numbers,
names or officers' TOTP secrets. Those columns hold ``encrypt()`` tokens (AES-256-GCM) instead of
the values, and the keys live apart from the database (a key file or the environment), so the
data alone is useless to whoever took it.

Exact search still has to work ("every incident reported from 13800138000"), and decrypting every
row to find one would be slow and would put every value in memory. So beside the token a column
can keep ``blind_index()``: an HMAC of the (normalised) value under a secret key. The query
computes the same HMAC and looks for equal index values; without the key, the index cannot be
reversed by trying all phone numbers. What it does reveal, by design, is equality: rows with the
same value of the same kind share an index value.

Each token is bound to its column by the AES-GCM associated data (``context``, e.g.
``"incidents.reporter_phone"``): a ciphertext copied into another column fails to decrypt
instead of passing for that column's value. It is not bound to its row; a caller who needs
that can put the row's id into the context.

Keys: a ``KeyRing`` holds named 32-byte master keys. From each, HKDF-SHA256 derives a separate
encryption subkey and blind-index subkey, so neither use weakens the other. New values are
encrypted under the ring's *current* key; old tokens name their key id and still decrypt, and
``rotate()`` re-encrypts them under the current key. Blind indexes, however, are always computed
with ONE fixed key, the ring's ``index_key_id`` (by default the oldest key), so rotating the
encryption key leaves every index value unchanged. Changing the index key changes every index
value: it means recomputing the index of every row (from the decrypted values) before search
works again. Hence: never drop the index key from the ring without pinning a new one and
re-indexing.

Nothing here is global: the application loads one ``KeyRing`` and passes it down.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "KEY_BYTES",
    "FieldCryptError",
    "KeyRing",
    "format_key_line",
    "generate_key_file",
]

KEY_BYTES = 32
"""Length of a master key: AES-256 and HMAC-SHA256 both want 32 bytes of key."""

TOKEN_VERSION = "v1"
NONCE_BYTES = 12  # the GCM standard nonce; random, so at most ~2**32 encryptions per key are safe
TAG_BYTES = 16
INDEX_HEX_CHARS = 32  # 128 bits: collisions are out of reach, and the column stays small

_ENCRYPTION_INFO = b"jingwu field encryption v1"
_INDEX_INFO = b"jingwu blind index v1"
_KID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
_ENTRY_SPLIT_RE = re.compile(r"[\s,]+")


class FieldCryptError(Exception):
    """A key ring could not be loaded, or a token could not be read.

    The message names the key id or the problem, never a plaintext, a token's payload or a key:
    these errors end up in logs. ``kid`` is the key id involved, when one is known.

    Deliberately not a ``JingwuError``: those are answered to API clients with their message,
    whereas a token that fails to decrypt is a fault of ours (wrong keys deployed, or tampered
    data) whose details belong in the log, behind the API's generic "internal error".
    """

    def __init__(self, message: str, *, kid: str | None = None) -> None:
        super().__init__(message)
        self.kid = kid


def _derive(master: bytes, info: bytes) -> bytes:
    # No salt: the master keys are uniformly random already; ``info`` separates the two uses.
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes | None:
    """Strict unpadded base64url: None unless ``text`` is the canonical encoding of some bytes."""
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if _b64url_encode(data) == text else None


def format_key_line(kid: str, key: bytes) -> str:
    """One ``kid:BASE64KEY`` entry, as ``KeyRing.parse`` reads it (standard, padded base64)."""
    _check_kid(kid)
    if len(key) != KEY_BYTES:
        raise FieldCryptError(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
    return f"{kid}:{base64.b64encode(key).decode('ascii')}"


def _check_kid(kid: str) -> None:
    if not _KID_RE.fullmatch(kid):
        # The id is not echoed: a malformed entry may be (part of) a key.
        raise FieldCryptError("a key id must be 1–16 characters of A-Z a-z 0-9 _ -")


@dataclass(frozen=True, slots=True, repr=False)
class KeyRing:
    """Named 32-byte master keys: ``current`` encrypts, all of them decrypt, one computes indexes.

    ``keys`` maps key id -> master key, oldest first. ``index_key_id`` names the key whose
    derived subkey computes every blind index; left empty, it is the oldest (first) key. Keep
    it fixed: a different index key gives different index values, and search finds nothing
    until every row is re-indexed.

    ``repr()`` shows the key ids only, so a ring in a log line or a traceback reveals no key.
    """

    keys: Mapping[str, bytes]
    current: str
    index_key_id: str = ""
    _aead: Mapping[str, AESGCM] = field(init=False, compare=False)
    _index_key: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise FieldCryptError("a key ring needs at least one key")
        keys: dict[str, bytes] = {}
        for kid, key in self.keys.items():
            _check_kid(kid)
            if len(key) != KEY_BYTES:
                raise FieldCryptError(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
            keys[kid] = bytes(key)
        if self.current not in keys:
            raise FieldCryptError(f"the current key {self.current!r} is not in the key ring")
        index_kid = self.index_key_id or next(iter(keys))
        if index_kid not in keys:
            raise FieldCryptError(f"the blind-index key {index_kid!r} is not in the key ring")
        # A private copy: the caller's mapping changing later must not change the ring.
        object.__setattr__(self, "keys", MappingProxyType(keys))
        object.__setattr__(self, "index_key_id", index_kid)
        aead = {kid: AESGCM(_derive(key, _ENCRYPTION_INFO)) for kid, key in keys.items()}
        object.__setattr__(self, "_aead", MappingProxyType(aead))
        object.__setattr__(self, "_index_key", _derive(keys[index_kid], _INDEX_INFO))

    def __repr__(self) -> str:
        return (
            f"KeyRing(kids={list(self.keys)!r}, current={self.current!r}, index_key_id={self.index_key_id!r})"
        )

    # ------------------------------------------------------------ loading

    @classmethod
    def parse(cls, spec: str, *, index_key_id: str = "") -> KeyRing:
        """Read ``"kid1:BASE64KEY,kid2:BASE64KEY"`` (the environment form of a key ring).

        Order matters: entries are oldest first, and the LAST entry is the current key, the
        one new values are encrypted with. To rotate, append a new entry; keep the old ones
        until ``rotate()`` has re-encrypted every token that names them. The FIRST entry is the
        blind-index key unless ``index_key_id`` names another, so do not drop the first entry
        without pinning the index key (see the module docstring).

        Entries are separated by commas and/or whitespace, so a key file may hold one per line;
        a line starting with ``#`` is a comment. Keys are standard base64 of exactly 32 bytes.
        """
        keys: dict[str, bytes] = {}
        lines = (line.strip() for line in spec.splitlines())
        entries = [e for line in lines if not line.startswith("#") for e in _ENTRY_SPLIT_RE.split(line) if e]
        for number, entry in enumerate(entries, start=1):
            kid, sep, encoded = entry.partition(":")
            if not sep:
                raise FieldCryptError(f"key entry {number} is not of the form kid:BASE64KEY")
            try:
                _check_kid(kid)
            except FieldCryptError as exc:
                raise FieldCryptError(f"key entry {number}: {exc}") from None
            if kid in keys:
                raise FieldCryptError(f"key id {kid!r} appears twice in the key ring")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise FieldCryptError(f"key {kid!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise FieldCryptError(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
            keys[kid] = key
        if not keys:
            raise FieldCryptError("the key ring specification holds no keys")
        return cls(keys=keys, current=next(reversed(keys)), index_key_id=index_key_id)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, index_key_id: str = "") -> KeyRing:
        """Read a key file in the ``parse`` format.

        On POSIX the file must not be readable or writable by group or others: keys readable by
        every local account are not secret, so the service refuses to start on them.
        """
        try:
            with open(path, encoding="utf-8") as f:
                if os.name == "posix":
                    mode = os.fstat(f.fileno()).st_mode
                    if mode & 0o077:
                        raise FieldCryptError(
                            f"key file {os.fspath(path)} has mode {mode & 0o777:o}; group and others "
                            f"must have no access: chmod 600 {os.fspath(path)}"
                        )
                text = f.read()
        except OSError as exc:
            raise FieldCryptError(f"cannot read key file {os.fspath(path)}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise FieldCryptError(f"key file {os.fspath(path)} is not UTF-8 text") from None
        try:
            return cls.parse(text, index_key_id=index_key_id)
        except FieldCryptError as exc:
            raise FieldCryptError(f"key file {os.fspath(path)}: {exc}") from None

    def with_new_key(self, kid: str) -> tuple[KeyRing, str]:
        """A fresh random key ``kid`` made current, and the line to append to the key file.

        The index key stays as it is, so blind indexes do not change.
        """
        _check_kid(kid)
        if kid in self.keys:
            raise FieldCryptError(f"key id {kid!r} is already in the key ring")
        key = os.urandom(KEY_BYTES)
        ring = KeyRing(keys={**self.keys, kid: key}, current=kid, index_key_id=self.index_key_id)
        return ring, format_key_line(kid, key)

    # ------------------------------------------------------------ tokens

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """``"v1:<kid>:<base64url(nonce || ciphertext+tag)>"`` under the current key.

        ``context`` names where the value is stored (``"table.column"``); it is authenticated
        but not encrypted, and ``decrypt`` must be given the same one. Each call draws a fresh
        random nonce, so equal values give different tokens: the tokens reveal nothing, not even
        equality (the blind index is what reveals equality, on purpose).
        """
        aad = _context_bytes(context)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.current].encrypt(nonce, _text_bytes(plaintext, "a plaintext"), aad)
        return f"{TOKEN_VERSION}:{self.current}:{_b64url_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of ``token``, which must have been encrypted for this ``context``.

        Raises FieldCryptError for a malformed token, a key id not in the ring, or a token that
        fails authentication (tampered, another column's, or encrypted under other key material).
        """
        kid, payload = _split_token(token)
        aead = self._aead.get(kid)
        if aead is None:
            raise FieldCryptError(f"token names key {kid!r}, which is not in the key ring", kid=kid)
        aad = _context_bytes(context)
        try:
            plain = aead.decrypt(payload[:NONCE_BYTES], payload[NONCE_BYTES:], aad)
        except InvalidTag:
            raise FieldCryptError(
                f"token under key {kid!r} failed authentication for context {context!r}: "
                "it was tampered with, belongs to another column, or the key differs",
                kid=kid,
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise FieldCryptError(f"token under key {kid!r} does not hold UTF-8 text", kid=kid) from None

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` names a key other than the current one (reads the header only).

        An unknown key id also answers True; ``rotate`` then raises naming it.
        """
        kid, _ = _split_token(token)
        return kid != self.current

    def rotate(self, token: str, *, context: str) -> str:
        """``token`` re-encrypted under the current key; a token already current comes back as is.

        The token is decrypted (and so authenticated) either way, so a re-encryption sweep also
        finds tokens that no longer decrypt.
        """
        plaintext = self.decrypt(token, context=context)
        if not self.needs_rotation(token):
            return token
        return self.encrypt(plaintext, context=context)

    # ------------------------------------------------------------ blind index

    def blind_index(self, value: str, *, kind: str) -> str:
        """128-bit hex HMAC-SHA256 of ``value`` for exact-match search, always under the index key.

        ``kind`` (``"phone"``, ``"id_number"``, ``"name"`` …) is part of the MAC input, so equal
        strings of different kinds get unrelated index values and one kind's index cannot be
        matched against another's.

        Callers normalise before indexing, identically when storing and when searching: the
        index of ``"138 0013 8000"`` is not that of ``"13800138000"``, nor ``"11010519491231002x"``
        that of ``"11010519491231002X"``. Normalisation is per kind and belongs with the kind.
        """
        if not kind or "\x00" in kind:
            # NUL separates kind from value; a kind containing one could alias another pair.
            raise FieldCryptError("a blind-index kind must be non-empty and contain no NUL")
        message = _text_bytes(f"{kind}\x00{value}", "a blind-index value")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:INDEX_HEX_CHARS]


def _text_bytes(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates; the message must not quote the text
        raise FieldCryptError(f"{what} is not valid Unicode text") from None


def _context_bytes(context: str) -> bytes:
    if not context:
        raise FieldCryptError("an encryption context (the table.column the value lives in) is required")
    return _text_bytes(context, "the context")


def _split_token(token: str) -> tuple[str, bytes]:
    """(kid, nonce || ciphertext) of a token; never quotes the token, which may be a plaintext
    that was never encrypted (a row written before encryption was switched on)."""
    version, sep1, rest = token.partition(":")
    kid, sep2, encoded = rest.partition(":")
    if not (sep1 and sep2) or version != TOKEN_VERSION:
        raise FieldCryptError(f"not a {TOKEN_VERSION} field-encryption token")
    if not _KID_RE.fullmatch(kid):
        raise FieldCryptError("malformed field-encryption token: bad key id")
    payload = _b64url_decode(encoded)
    if payload is None:
        raise FieldCryptError(f"malformed token under key {kid!r}: payload is not unpadded base64url")
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        raise FieldCryptError(f"malformed token under key {kid!r}: payload too short")
    return kid, payload


def generate_key_file(path: str | os.PathLike[str], kid: str = "k1") -> KeyRing:
    """Write a new key file holding one random key, readable by its owner only; return its ring.

    The file is created with O_CREAT|O_EXCL and mode 0o600, so an existing file (whose keys may
    be all that can decrypt a database) is never overwritten, and there is no moment at which
    the new file is readable by others. To rotate, append ``KeyRing.with_new_key()``'s line.
    """
    key = os.urandom(KEY_BYTES)
    line = format_key_line(kid, key)
    text = (
        "# Jingwu field-encryption keys: one kid:BASE64KEY per line, oldest first.\n"
        "# The last line is the current key; the first is the blind-index key, keep it.\n"
        "# Keep this file apart from the database and its backups, mode 600.\n"
        f"{line}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FieldCryptError(f"key file {os.fspath(path)} already exists; not overwriting it") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(path)  # a half-written key file would later fail to load with a puzzling error
        raise
    return KeyRing(keys={kid: key}, current=kid)
