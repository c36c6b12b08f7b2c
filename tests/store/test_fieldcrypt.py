import base64
import os
import stat
from pathlib import Path

import pytest

from jingwu.store.fieldcrypt import FieldCryptError, KeyRing, format_key_line, generate_key_file

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
PHONE = "incidents.reporter_phone"
ID_NUMBER = "residents.id_number"

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def ring(*kids: str, current: str | None = None) -> KeyRing:
    keys = {"k1": K1, "k2": K2}
    return KeyRing(keys={k: keys[k] for k in kids}, current=current or kids[-1])


def flip_payload_byte(token: str, at: int) -> str:
    version, kid, encoded = token.split(":")
    data = bytearray(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    data[at] ^= 0x01
    return f"{version}:{kid}:{base64.urlsafe_b64encode(bytes(data)).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    "plaintext", ["13800138000", "张三", "黑龙江省哈尔滨市南岗区 110105194912310021", ""]
)
def test_encrypt_then_decrypt_returns_the_plaintext(plaintext: str) -> None:
    r = ring("k1")
    assert r.decrypt(r.encrypt(plaintext, context=PHONE), context=PHONE) == plaintext


def test_token_has_the_documented_form_and_never_contains_the_plaintext() -> None:
    token = ring("k1").encrypt("13800138000", context=PHONE)
    version, kid, payload = token.split(":")
    assert (version, kid) == ("v1", "k1")
    assert "=" not in payload
    assert "13800138000" not in token
    assert b"13800138000" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_same_value_gives_different_tokens_but_equal_blind_indexes() -> None:
    r = ring("k1")
    assert r.encrypt("13800138000", context=PHONE) != r.encrypt("13800138000", context=PHONE)
    assert r.blind_index("13800138000", kind="phone") == r.blind_index("13800138000", kind="phone")
    assert len(r.blind_index("13800138000", kind="phone")) == 32


def test_blind_index_differs_by_kind_and_by_key() -> None:
    one, other = KeyRing(keys={"k1": K1}, current="k1"), KeyRing(keys={"k2": K2}, current="k2")
    assert one.blind_index("110105", kind="phone") != one.blind_index("110105", kind="id_number")
    assert one.blind_index("110105", kind="phone") != other.blind_index("110105", kind="phone")


def test_blind_index_kind_cannot_alias_through_the_separator() -> None:
    with pytest.raises(FieldCryptError):
        ring("k1").blind_index("b", kind="a\x00")


def test_encryption_key_rotation_keeps_blind_indexes() -> None:
    before, after = ring("k1"), ring("k1", "k2")
    assert after.index_key_id == "k1"
    assert after.blind_index("13800138000", kind="phone") == before.blind_index("13800138000", kind="phone")


def test_a_token_under_an_old_key_decrypts_and_needs_rotation() -> None:
    old_token = ring("k1").encrypt("张三", context=PHONE)
    rotated_ring = ring("k1", "k2")
    assert rotated_ring.decrypt(old_token, context=PHONE) == "张三"
    assert rotated_ring.needs_rotation(old_token)
    assert not rotated_ring.needs_rotation(rotated_ring.encrypt("张三", context=PHONE))


def test_rotate_reencrypts_under_the_current_key() -> None:
    old_token = ring("k1").encrypt("张三", context=PHONE)
    rotated_ring = ring("k1", "k2")
    new_token = rotated_ring.rotate(old_token, context=PHONE)
    assert new_token.startswith("v1:k2:")
    assert not rotated_ring.needs_rotation(new_token)
    assert ring("k2").decrypt(new_token, context=PHONE) == "张三"
    assert rotated_ring.rotate(new_token, context=PHONE) == new_token


def test_a_token_moved_to_another_column_fails_to_decrypt() -> None:
    r = ring("k1")
    token = r.encrypt("110105194912310021", context=ID_NUMBER)
    with pytest.raises(FieldCryptError, match="failed authentication"):
        r.decrypt(token, context=PHONE)


@pytest.mark.parametrize("at", [0, 11, 12, -1])  # nonce, first ciphertext byte, tag
def test_a_tampered_token_fails_with_fieldcrypterror(at: int) -> None:
    r = ring("k1")
    token = r.encrypt("13800138000", context=PHONE)
    with pytest.raises(FieldCryptError, match="failed authentication") as err:
        r.decrypt(flip_payload_byte(token, at), context=PHONE)
    assert "13800138000" not in str(err.value)


def test_a_token_under_other_key_material_with_the_same_kid_fails() -> None:
    token = KeyRing(keys={"k1": K2}, current="k1").encrypt("x", context=PHONE)
    with pytest.raises(FieldCryptError, match="failed authentication"):
        ring("k1").decrypt(token, context=PHONE)


def test_an_unknown_kid_fails_naming_the_kid() -> None:
    token = ring("k2").encrypt("13800138000", context=PHONE)
    with pytest.raises(FieldCryptError, match="'k2'") as err:
        ring("k1").decrypt(token, context=PHONE)
    assert err.value.kid == "k2"


@pytest.mark.parametrize(
    "token",
    ["13800138000", "v2:k1:AAAA", "v1:k1", "v1:bad kid:AAAA", "v1:k1:not base64!", "v1:k1:AAAA", "v1:k1:"],
)
def test_a_malformed_token_fails_without_quoting_it(token: str) -> None:
    with pytest.raises(FieldCryptError) as err:
        ring("k1").decrypt(token, context=PHONE)
    assert "13800138000" not in str(err.value)
    assert "bad kid" not in str(err.value)


def test_a_ring_repr_shows_no_key() -> None:
    text = repr(ring("k1", "k2"))
    assert "k1" in text
    assert base64.b64encode(K1).decode() not in text
    assert repr(K1) not in text


# ------------------------------------------------------------------ parse


def test_parse_takes_the_last_entry_as_current_and_the_first_as_index_key() -> None:
    spec = f"{format_key_line('k1', K1)},{format_key_line('k2', K2)}"
    parsed = KeyRing.parse(spec)
    assert (list(parsed.keys), parsed.current, parsed.index_key_id) == (["k1", "k2"], "k2", "k1")
    assert parsed.keys["k1"] == K1


def test_parse_tolerates_newlines_whitespace_and_comment_lines() -> None:
    spec = f"# keys\n  {format_key_line('k1', K1)} ,\n\n# new one\n{format_key_line('k2', K2)}\n"
    assert KeyRing.parse(spec) == ring("k1", "k2")


def test_parse_accepts_a_pinned_index_key() -> None:
    spec = f"{format_key_line('k1', K1)},{format_key_line('k2', K2)}"
    assert KeyRing.parse(spec, index_key_id="k2").blind_index("x", kind="name") == KeyRing(
        keys={"k2": K2}, current="k2"
    ).blind_index("x", kind="name")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no keys"),
        ("  \n# only a comment\n", "no keys"),
        (f"k1:{base64.b64encode(bytes(31)).decode()}", "32 bytes"),
        (f"k1:{base64.b64encode(bytes(33)).decode()}", "32 bytes"),
        ("k1:not*base64", "not valid base64"),
        (base64.b64encode(K1).decode(), "kid:BASE64KEY"),
        (f"k.1:{base64.b64encode(K1).decode()}", "key id"),
        (f"{'k' * 17}:{base64.b64encode(K1).decode()}", "key id"),
        (f"k1:{base64.b64encode(K1).decode()},k1:{base64.b64encode(K2).decode()}", "twice"),
    ],
)
def test_parse_rejects_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(FieldCryptError, match=message) as err:
        KeyRing.parse(spec)
    assert base64.b64encode(K1).decode() not in str(err.value)


def test_a_ring_rejects_a_missing_current_or_index_key() -> None:
    with pytest.raises(FieldCryptError, match="current key 'k2'"):
        KeyRing(keys={"k1": K1}, current="k2")
    with pytest.raises(FieldCryptError, match="blind-index key 'k9'"):
        KeyRing(keys={"k1": K1}, current="k1", index_key_id="k9")


def test_with_new_key_makes_it_current_and_gives_the_line_to_append() -> None:
    old = ring("k1")
    new, line = old.with_new_key("k2")
    assert (new.current, new.index_key_id) == ("k2", "k1")
    assert KeyRing.parse(f"{format_key_line('k1', K1)}\n{line}") == new
    assert new.decrypt(old.encrypt("张三", context=PHONE), context=PHONE) == "张三"
    with pytest.raises(FieldCryptError, match="already"):
        new.with_new_key("k1")


# ------------------------------------------------------------------ key files


@posix_only
def test_from_file_refuses_a_file_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(format_key_line("k1", K1) + "\n")
    path.chmod(0o644)
    with pytest.raises(FieldCryptError, match="chmod 600"):
        KeyRing.from_file(path)


def test_from_file_reads_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# comment\n{format_key_line('k1', K1)}\n{format_key_line('k2', K2)}\n")
    path.chmod(0o600)
    assert KeyRing.from_file(path) == ring("k1", "k2")


def test_from_file_names_the_file_when_it_is_missing_or_bad(tmp_path: Path) -> None:
    with pytest.raises(FieldCryptError, match="cannot read key file"):
        KeyRing.from_file(tmp_path / "absent")
    path = tmp_path / "keys"
    path.write_text("k1:AAAA\n")
    path.chmod(0o600)
    with pytest.raises(FieldCryptError, match=f"key file {path}: key 'k1' must be 32 bytes"):
        KeyRing.from_file(path)


@posix_only
def test_generate_key_file_creates_an_owner_only_file_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    made = generate_key_file(path, kid="k1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyRing.from_file(path)
    assert loaded == made
    assert loaded.decrypt(made.encrypt("张三", context=PHONE), context=PHONE) == "张三"


def test_generate_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("precious\n")
    with pytest.raises(FieldCryptError, match="already exists"):
        generate_key_file(path)
    assert path.read_text() == "precious\n"
