import pytest

from jingwu.domain import totp

RFC_KEY_SHA1 = b"12345678901234567890"
RFC_KEY_SHA256 = b"12345678901234567890123456789012"
RFC_KEY_SHA512 = b"1234567890" * 6 + b"1234"


@pytest.mark.parametrize(
    ("counter", "value"),
    list(
        enumerate(
            [
                "755224",
                "287082",
                "359152",
                "969429",
                "338314",
                "254676",
                "287922",
                "162583",
                "399871",
                "520489",
            ]
        )
    ),
)
def test_hotp_matches_rfc_4226_appendix_d(counter: int, value: str) -> None:
    assert totp.hotp(RFC_KEY_SHA1, counter) == value


# RFC 6238 Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits, 30-second steps from T0 = 0.
RFC_6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC_6238)
def test_totp_matches_rfc_6238_appendix_b(at: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp.totp(RFC_KEY_SHA1, at, digits=8) == sha1
    assert totp.totp(RFC_KEY_SHA256, at, digits=8, algorithm="SHA256") == sha256
    assert totp.totp(RFC_KEY_SHA512, at, digits=8, algorithm="SHA512") == sha512


def test_time_steps_are_thirty_seconds_from_the_epoch() -> None:
    assert totp.time_step(59) == 1
    assert totp.time_step(1111111109) == 0x023523EC  # RFC 6238 Appendix B's T
    assert totp.time_step(20000000000) == 0x27BC86AA
    assert totp.time_step(60) == 2 and totp.time_step(89.99) == 2


def test_verify_accepts_one_step_of_drift_either_way_and_returns_the_step() -> None:
    at = 1_800_000_015.0
    now = totp.time_step(at)
    for drift in (-1, 0, 1):
        code = totp.totp(RFC_KEY_SHA1, at + drift * 30)
        assert totp.verify(RFC_KEY_SHA1, code, at) == now + drift
    for drift in (-2, 2):
        assert totp.verify(RFC_KEY_SHA1, totp.totp(RFC_KEY_SHA1, at + drift * 30), at) is None


def test_a_code_is_good_once_and_older_codes_are_refused_after_it() -> None:
    at = 1_800_000_015.0
    code = totp.totp(RFC_KEY_SHA1, at)
    accepted = totp.verify(RFC_KEY_SHA1, code, at)
    assert accepted is not None
    # Replayed within its window: refused.
    assert totp.verify(RFC_KEY_SHA1, code, at + 20, last_step=accepted) is None
    # The previous step's code, still inside the drift window, is older than the one used: refused.
    previous = totp.totp(RFC_KEY_SHA1, at - 30)
    assert totp.verify(RFC_KEY_SHA1, previous, at, last_step=accepted) is None
    # The next step's code is fine.
    following = totp.totp(RFC_KEY_SHA1, at + 30)
    assert totp.verify(RFC_KEY_SHA1, following, at + 30, last_step=accepted) == accepted + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", " 12345", "12345\n"])
def test_malformed_codes_never_match(code: str) -> None:
    assert totp.matching_step(RFC_KEY_SHA1, code, 59) is None


def test_wrong_code_and_wrong_key_are_refused() -> None:
    code = totp.totp(RFC_KEY_SHA1, 1_800_000_000)
    wrong = str((int(code) + 1) % 10**6).zfill(6)
    assert totp.verify(RFC_KEY_SHA1, wrong, 1_800_000_000) is None
    assert totp.verify(RFC_KEY_SHA256, code, 1_800_000_000) is None


def test_secrets_round_trip_through_base32() -> None:
    secret = totp.encode_secret(RFC_KEY_SHA1)
    assert secret == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" and "=" not in secret
    assert totp.decode_secret(secret.lower()) == RFC_KEY_SHA1
    assert totp.decode_secret(totp.encode_secret(b"\x00" * 10)) == b"\x00" * 10
    with pytest.raises(ValueError):
        totp.decode_secret("not base32!")


def test_otpauth_uri_names_issuer_account_and_parameters() -> None:
    uri = totp.otpauth_uri("GEZDGNBV", "dispatcher 01")
    assert uri == (
        "otpauth://totp/Jingwu:dispatcher%2001"
        "?secret=GEZDGNBV&issuer=Jingwu&algorithm=SHA1&digits=6&period=30"
    )
