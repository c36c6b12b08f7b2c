"""The start-up check of the field keys also guards the community's sealed data: a database whose
only sealed value is a watch-list entry still refuses a stray key file, and makes no new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwu.composition import field_keys
from jingwu.domain.identity import id_check_char
from jingwu.domain.watchlists import WatchList
from jingwu.service.community_keys import sealed_columns
from jingwu.service.personal_data import holds_sealed_data
from jingwu.store.fieldcrypt import FieldCryptError, generate_key_file
from tests.conftest import ServicesFactory

WANTED = "23010319900101123" + id_check_char("23010319900101123")


def test_each_capability_names_its_sealed_columns() -> None:
    named = {(table.name, column) for table, column, _ in sealed_columns()}
    for expected in (
        ("records_residents", "id_number"),
        ("watchlist_entries", "subject"),
        ("patrol_checks", "subject"),
        ("dispute_parties", "phone"),
        ("service_applications", "applicant_id_number"),
    ):
        assert expected in named
    for table, column, _ in sealed_columns():
        assert column in table.c, f"{table.name}.{column}"


def test_a_database_holding_only_a_watch_list_entry_refuses_a_stray_key_file(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services()
    assert not holds_sealed_data(services.engine)
    services.checks.add_entry(
        WatchList.WANTED, subject=WANTED, reason="网上追逃", label="王五", actor="chief", station_id="south"
    )
    assert holds_sealed_data(services.engine)
    settings = services.settings
    assert field_keys(settings, services.engine).current == services.personal.keys.current
    stray = tmp_path / "stray-keys"
    generate_key_file(stray)
    with pytest.raises(FieldCryptError, match="watchlist_entries"):
        field_keys(settings.model_copy(update={"field_key_file": stray}), services.engine)
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(FieldCryptError, match="no key file"):
        field_keys(settings.model_copy(update={"data_dir": elsewhere}), services.engine)
    assert not (elsewhere / "field-keys").exists()
