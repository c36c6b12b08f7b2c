"""One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), the second factor of a log-in.

Pure: the caller supplies the key and the time (Unix seconds). Drawing a new secret is I/O
(randomness) and lives in the service; this module only encodes, derives and checks.

A code is accepted for the current time step and one step either side (clock drift between the
server and the officer's phone). :func:`verify` returns the step that matched, so the caller can
store it and refuse that step, or any earlier one, next time: a code is good once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import Literal
from urllib.parse import quote, urlencode

Algorithm = Literal["SHA1", "SHA256", "SHA512"]

DEFAULT_DIGITS = 6
DEFAULT_STEP_S = 30
DEFAULT_ALGORITHM: Algorithm = "SHA1"
# Steps either side of the current one that are still accepted (±30 s of clock drift).
DRIFT_STEPS = 1

_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def hotp(key: bytes, counter: int, *, digits: int = DEFAULT_DIGITS, algorithm: Algorithm = "SHA1") -> str:
    """The HOTP value of ``counter`` (RFC 4226 §5.3): HMAC, dynamic truncation, ``digits`` decimals."""
    if not 6 <= digits <= 10:
        raise ValueError("an HOTP value has 6 to 10 digits")
    if counter < 0:
        raise ValueError("the HOTP counter is not negative")
    mac = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    (binary,) = struct.unpack(">I", mac[offset : offset + 4])
    return str((binary & 0x7FFFFFFF) % 10**digits).zfill(digits)


def time_step(at: float, *, step: int = DEFAULT_STEP_S, t0: int = 0) -> int:
    """The TOTP time step T = floor((at − T0) / X) of Unix time ``at`` (RFC 6238 §4.2)."""
    if step <= 0:
        raise ValueError("the time step is positive")
    return int((at - t0) // step)


def totp(
    key: bytes,
    at: float,
    *,
    digits: int = DEFAULT_DIGITS,
    step: int = DEFAULT_STEP_S,
    algorithm: Algorithm = "SHA1",
    t0: int = 0,
) -> str:
    """The TOTP value at Unix time ``at``."""
    return hotp(key, time_step(at, step=step, t0=t0), digits=digits, algorithm=algorithm)


def matching_step(
    key: bytes,
    code: str,
    at: float,
    *,
    digits: int = DEFAULT_DIGITS,
    step: int = DEFAULT_STEP_S,
    algorithm: Algorithm = "SHA1",
    window: int = DRIFT_STEPS,
) -> int | None:
    """The time step within ``window`` steps of ``at`` whose code is ``code`` (the latest one if
    several match), or None. Ignores replay; see :func:`verify`."""
    if len(code) != digits or not code.isascii() or not code.isdigit():
        return None
    current = time_step(at, step=step)
    found = None
    for candidate in range(current - window, current + window + 1):
        if candidate < 0:
            continue
        # Every candidate is computed and compared in constant time; which one matched is no secret.
        if hmac.compare_digest(hotp(key, candidate, digits=digits, algorithm=algorithm), code):
            found = candidate
    return found


def verify(
    key: bytes,
    code: str,
    at: float,
    *,
    last_step: int | None = None,
    digits: int = DEFAULT_DIGITS,
    step: int = DEFAULT_STEP_S,
    algorithm: Algorithm = "SHA1",
    window: int = DRIFT_STEPS,
) -> int | None:
    """The matched time step when ``code`` is valid at ``at`` (±``window`` steps) and later than
    ``last_step`` (the step accepted last time: a replay, or an older code, is refused); else None."""
    found = matching_step(key, code, at, digits=digits, step=step, algorithm=algorithm, window=window)
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def encode_secret(key: bytes) -> str:
    """The key as authenticator apps take it: base32, upper case, without padding."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    """The key of a base32 secret (spaces and case ignored, padding optional)."""
    cleaned = secret.replace(" ", "").upper()
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error:
        raise ValueError("not a base32 secret") from None


def otpauth_uri(
    secret: str,
    account: str,
    *,
    issuer: str = "Jingwu",
    digits: int = DEFAULT_DIGITS,
    step: int = DEFAULT_STEP_S,
    algorithm: Algorithm = "SHA1",
) -> str:
    """The ``otpauth://totp/…`` URI of Google's Key URI format, which authenticator apps scan."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": algorithm, "digits": digits, "period": step},
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


__all__ = [
    "DEFAULT_ALGORITHM",
    "DEFAULT_DIGITS",
    "DEFAULT_STEP_S",
    "DRIFT_STEPS",
    "Algorithm",
    "decode_secret",
    "encode_secret",
    "hotp",
    "matching_step",
    "otpauth_uri",
    "time_step",
    "totp",
    "verify",
]
