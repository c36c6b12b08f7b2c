"""The password rules and the argon2id hashing, in one place so that every way of setting a
password (creation, a change, an administrator's reset) holds to the same rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jingwu.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 12
# A user name this long or longer must not appear anywhere in the password (sysadmin12345).
MIN_NAME_IN_PASSWORD = 3
# Refused whatever their length: the top of every leaked-password list, padded to 12.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "passw0rd1234",
        "123456789012",
        "1234567890ab",
        "qwerty123456",
        "qwertyuiop12",
        "1qaz2wsx3edc",
        "1q2w3e4r5t6y",
        "abc123456789",
        "iloveyou1234",
        "admin1234567",
        "administrator1",
        "changeme1234",
        "letmein12345",
        "welcome12345",
        "football1234",
        "sunshine1234",
        "princess1234",
        "woaini1314520",
        "a1b2c3d4e5f6",
        "jingwu123456",
        "police123456",
        "dispatcher123",
    }
)


def password_problem(username: str, password: str) -> tuple[str, str] | None:
    """The first password rule ``password`` breaks, as (rule, message), or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "min_length", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if len(classes) < 2:
        return (
            "character_classes",
            "a password needs characters of at least two kinds (letters, digits, others)",
        )
    if password.casefold() == username.casefold():
        return "not_username", "a password must not be the user name"
    # A name of one or two characters turns up in too many good passwords to refuse them all.
    if len(username) >= MIN_NAME_IN_PASSWORD and username.casefold() in password.casefold():
        return "contains_username", "a password must not contain the user name"
    if password.casefold() in COMMON_PASSWORDS:
        return "common", "this password is on the list of common passwords"
    return None


def check_password(username: str, password: str) -> None:
    """Refuse (422 ``weak_password``, naming the ``rule``) a password that breaks a rule."""
    problem = password_problem(username, password)
    if problem is not None:
        rule, message = problem
        raise ValidationFailed(message, code="weak_password", rule=rule)


# Looked up at each call, not imported by name elsewhere: the tests swap in a cheaper hasher.
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
# Made at the first such check, not at import: a hash takes about 0.2 s, which every command and
# process that imports the auth service would otherwise pay.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = PasswordHasher().hash("jingwu-no-such-user")
    return _DUMMY_HASH


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash. None (no such user) is checked against a
    dummy hash, so that the time taken tells nothing, and never matches. A stored value that is no
    hash (a device's) matches nothing."""
    try:
        matches = bool(_hasher.verify(stored if stored is not None else _dummy_hash(), password))
    except (VerificationError, InvalidHashError):
        return False
    return matches and stored is not None
