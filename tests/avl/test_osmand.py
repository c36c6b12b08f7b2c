"""The OsmAnd decoder on requests as the real apps send them (captured formats: Traccar Client
for Android and iOS, the newer JSON-posting Traccar Client, the OsmAnd app), each decoded fix
checked for plausibility, plus one case per fault a sender has been seen to make."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from jingwu.avl.osmand import KNOT_MPS, OsmAndRequestInvalid, decode
from jingwu.domain.gps import Fix

RECEIVED = datetime(2024, 11, 26, 6, 0, 0, tzinfo=UTC)
KEY = "dev_Qm9yaXNfMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def request_line(
    line: str, body: bytes = b"", content_type: str | None = None
) -> tuple[str, Fix | None, str | None]:
    """Decode a captured request line ('METHOD /path?query HTTP/1.1')."""
    _method, target, _version = line.split(" ")
    report = decode(
        query=urlsplit(target).query,
        content_type=content_type,
        body=body,
        received_at=RECEIVED,
        local_zone=SHANGHAI,
    )
    assert len(report.fixes) <= 1
    return target, (report.fixes[0] if report.fixes else None), report.key


def assert_plausible(fix: Fix) -> None:
    """What every decoded fix must look like (Traccar's ProtocolTest checks the same kind)."""
    assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180
    assert fix.ts.tzinfo is not None
    assert datetime(2000, 1, 1, tzinfo=UTC) < fix.ts < datetime(2030, 1, 1, tzinfo=UTC)
    assert fix.speed is None or fix.speed < 0 or fix.speed < 100  # m/s
    assert fix.battery is None or fix.battery <= 100


# ----------------------------------------------------------------- captured requests

# Traccar Client for Android (8.x) POSTs to the server URL with everything in the query string
# and an empty body; speed in knots (the phone's m/s × 1.943844), battery in percent.
ANDROID = (
    f"POST /api/osmand?id={KEY}&timestamp=1732600000&lat=45.7562183&lon=126.6418833&speed=23.3261"
    "&bearing=87.5&altitude=152.3000030517578&accuracy=8.0&batt=87.0&charge=true HTTP/1.1"
)
# Traccar Client for iOS (the Objective-C app): the same parameters; -1 for an unknown course and
# speed (CLLocation's marker, times 1.94384 for the speed).
IOS = (
    f"POST /api/osmand?id={KEY}&timestamp=1732600012&lat=45.7563&lon=126.6429&speed=-1.94384"
    "&bearing=-1&altitude=148&accuracy=65&batt=42 HTTP/1.1"
)
# The OsmAnd app's live tracking (GET; its URL template's {0}..{5}): timestamp in milliseconds,
# hdop, no id name (the template names it).
OSMAND_APP = (
    f"GET /api/osmand?id={KEY}&lat=45.756&lon=126.642&timestamp=1732600024000&hdop=6.0&altitude=224.0"
    "&speed=0.0 HTTP/1.1"
)


def test_traccar_client_android_request_decodes_with_speed_from_knots() -> None:
    _, fix, key = request_line(ANDROID)
    assert key == KEY
    assert fix is not None
    assert_plausible(fix)
    assert fix.ts == datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)
    assert (fix.lat, fix.lon) == (45.7562183, 126.6418833)
    assert fix.speed == pytest.approx(23.3261 * KNOT_MPS) and fix.speed == pytest.approx(12.0, abs=0.01)
    assert (fix.heading, fix.altitude, fix.accuracy, fix.battery, fix.valid) == (
        87.5,
        pytest.approx(152.3),
        8.0,
        87.0,
        True,
    )


def test_traccar_client_ios_request_keeps_its_unknown_markers_for_the_filter() -> None:
    _, fix, key = request_line(IOS)
    assert key == KEY and fix is not None
    assert_plausible(fix)
    # A negative speed stays unknown (not -1 knots converted); the bearing's -1 is left for the
    # filter, which reads negatives as unknown.
    assert fix.speed is None and fix.heading == -1.0
    assert (fix.accuracy, fix.battery) == (65.0, 42.0)


def test_osmand_app_request_reads_a_millisecond_timestamp() -> None:
    _, fix, key = request_line(OSMAND_APP)
    assert key == KEY and fix is not None
    assert_plausible(fix)
    assert fix.ts == datetime(2024, 11, 26, 5, 47, 4, tzinfo=UTC)
    assert fix.speed == 0.0 and fix.accuracy is None


def test_the_same_parameters_in_a_form_body_decode_alike() -> None:
    query = urlsplit(ANDROID.split(" ")[1]).query
    form = decode(
        query="",
        content_type="application/x-www-form-urlencoded",
        body=query.encode(),
        received_at=RECEIVED,
    )
    from_query = decode(query=query, content_type=None, body=b"", received_at=RECEIVED)
    assert form == from_query and len(form.fixes) == 1


# The newer Traccar Client apps (9.x, both platforms) POST their location library's record as
# JSON: speed in m/s, -1 where unknown; battery level 0..1; an ISO time.
JSON_ANDROID = (
    b'{"location":{"timestamp":"2024-11-26T05:46:40.862Z","coords":{"latitude":45.7562183,'
    b'"longitude":126.6418833,"accuracy":4.9,"speed":12.04,"heading":87.5,"altitude":152.3},'
    b'"is_moving":true,"odometer":1520.4,"event":"motionchange","battery":{"level":0.87,'
    b'"is_charging":false},"activity":{"type":"in_vehicle"},"extras":{},'
    b'"_":"&id=' + KEY.encode() + b'&lat=45.7562183&lon=126.6418833&timestamp=2024-11-26T05:46:40.862Z&"},'
    b'"device_id":"' + KEY.encode() + b'"}'
)
JSON_IOS_SIMULATOR = (
    b'{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,"longitude":126.642,'
    b'"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,"latitude":45.756,"accuracy":5,'
    b'"altitude_accuracy":-1,"altitude":0,"heading":-1},"is_moving":false,"age":188,"odometer":0,'
    b'"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8","event":"motionchange","battery":{"level":-1,'
    b'"is_charging":false},"activity":{"type":"unknown","confidence":100},'
    b'"timestamp":"2024-11-26T05:47:30.579Z"},"device_id":"' + KEY.encode() + b'"}'
)


def test_traccar_client_json_record_decodes_in_si_units() -> None:
    report = decode(query="", content_type="application/json", body=JSON_ANDROID, received_at=RECEIVED)
    assert report.key == KEY
    (fix,) = report.fixes
    assert_plausible(fix)
    assert fix.ts == datetime(2024, 11, 26, 5, 46, 40, 862000, tzinfo=UTC)
    assert (fix.lat, fix.lon, fix.speed, fix.heading, fix.accuracy, fix.altitude) == (
        45.7562183,
        126.6418833,
        12.04,
        87.5,
        4.9,
        152.3,
    )
    assert fix.battery == pytest.approx(87.0) and fix.valid


def test_a_mock_location_is_passed_on_as_an_invalid_fix() -> None:
    report = decode(
        query="",
        content_type="application/json; charset=utf-8",
        body=JSON_IOS_SIMULATOR,
        received_at=RECEIVED,
    )
    (fix,) = report.fixes
    assert not fix.valid  # the filter rejects it: the phone itself says the place is fake
    assert fix.battery is None and fix.speed == -1.0
    assert (
        decode(
            query=f"id={KEY}&lat=45.75&lon=126.64&mock=true",
            content_type=None,
            body=b"",
            received_at=RECEIVED,
        )
        .fixes[0]
        .valid
        is False
    )


def test_a_json_batch_of_buffered_locations_gives_every_fix() -> None:
    record = (
        b'{"timestamp":"2024-11-26T05:4%d:00Z","coords":{"latitude":45.75,"longitude":126.64,'
        b'"speed":1,"heading":0,"accuracy":9,"altitude":0}}'
    )
    body = b'{"device_id":"k","location":[' + b",".join(record % i for i in range(3)) + b"]}"
    report = decode(query="", content_type="application/json", body=body, received_at=RECEIVED)
    assert [f.ts.minute for f in report.fixes] == [40, 41, 42]


# ----------------------------------------------------------------- the variants Traccar accepts


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("1732600000", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        ("1732600000000", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        ("1732600000.5", datetime(2024, 11, 26, 5, 46, 40, 500000, tzinfo=UTC)),
        ("2024-11-26T05%3A46%3A40Z", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        ("2024-11-26T13%3A46%3A40%2B08%3A00", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        # Without a zone: the bureau's (as Traccar reads it in the server's), in either form.
        ("2024-11-26+13%3A46%3A40", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        ("2024-11-26T13%3A46%3A40", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
        ("2024-11-26T13%3A46%3A40.500", datetime(2024, 11, 26, 5, 46, 40, 500000, tzinfo=UTC)),
        # ddMMyyHHmmss, UTC (tracker firmware).
        ("261124054640", datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(stamp: str, expected: datetime) -> None:
    _, fix, _ = request_line(f"GET /api/osmand?id=k&lat=45.75&lon=126.64&timestamp={stamp} HTTP/1.1")
    assert fix is not None and fix.ts == expected


def test_a_json_time_without_a_zone_is_the_bureaus_as_in_the_query_string() -> None:
    _, fix, _ = request_line(
        "POST /api/osmand HTTP/1.1",
        body=b'{"device_id":"k","location":{"timestamp":"2024-11-26T13:46:40",'
        b'"coords":{"latitude":45.75,"longitude":126.64}}}',
        content_type="application/json",
    )
    assert fix is not None and fix.ts == datetime(2024, 11, 26, 5, 46, 40, tzinfo=UTC)


def test_a_report_without_a_time_is_stamped_on_receipt_and_deviceid_names_the_device() -> None:
    _, fix, key = request_line(
        "GET /api/osmand?lat=60.0&lon=30.0&speed=0.0&heading=45.0&deviceid=123456 HTTP/1.1"
    )
    assert key == "123456" and fix is not None
    assert fix.ts == RECEIVED and fix.heading == 45.0


def test_location_parameter_instead_of_lat_and_lon() -> None:
    _, fix, _ = request_line("GET /api/osmand?id=k&timestamp=1377177267&location=60.0,30.0 HTTP/1.1")
    assert fix is not None and (fix.lat, fix.lon) == (60.0, 30.0)


def test_a_report_without_coordinates_has_no_fix() -> None:
    # Traccar Client's heartbeat, or a tracker reporting only cell towers.
    _, fix, key = request_line(
        "GET /api/osmand?id=k&timestamp=1377177267&cell=257,02,16,2224&batt=50 HTTP/1.1"
    )
    assert key == "k" and fix is None
    assert (
        decode(
            query="",
            content_type="application/json",
            body=b'{"device_id":"k","location":{"timestamp":"2024-11-26T05:00:00Z"}}',
            received_at=RECEIVED,
        ).fixes
        == ()
    )


def test_valid_false_marks_the_fix_invalid() -> None:
    _, fix, _ = request_line("GET /api/osmand?id=k&lat=45.75&lon=126.64&valid=false HTTP/1.1")
    assert fix is not None and not fix.valid


def test_no_key_in_the_request_is_left_to_the_caller() -> None:
    _, fix, key = request_line("GET /api/osmand?lat=45.75&lon=126.64 HTTP/1.1")
    assert key is None and fix is not None


def test_nan_coordinates_are_decoded_for_the_filter_to_reject() -> None:
    _, fix, _ = request_line("GET /api/osmand?id=k&lat=nan&lon=126.64 HTTP/1.1")
    assert fix is not None and math.isnan(fix.lat)


@pytest.mark.parametrize(
    ("query", "body", "content_type"),
    [
        ("id=k&lat=north&lon=126.64", b"", None),
        ("id=k&lat=45.75&lon=126.64&timestamp=yesterday", b"", None),
        ("id=k&lat=45.75&lon=126.64&timestamp=99999999999999999999", b"", None),
        ("id=k&location=45.75", b"", None),
        ("", b"{not json", "application/json"),
        ("", b"[1, 2]", "application/json"),
        ("", b'{"device_id": {"a": 1}}', "application/json"),
        (
            "",
            b'{"device_id": "k", "location": {"coords": {"latitude": "45.7", "longitude": 126.6}}}',
            "application/json",
        ),
        (
            "",
            b'{"device_id": "k", "location": {"coords": {"latitude": 45.7, "longitude": 126.6}, '
            b'"timestamp": 5}}',
            "application/json",
        ),
        ("", b'{"device_id": "k", "location": ["x"]}', "application/json"),
        ("", b"id=k&lat=\xff", "application/x-www-form-urlencoded"),
        ("id=" + "k" * 600, b"", None),
    ],
)
def test_malformed_requests_are_refused_naming_the_fault(
    query: str, body: bytes, content_type: str | None
) -> None:
    with pytest.raises(OsmAndRequestInvalid) as refused:
        decode(query=query, content_type=content_type, body=body, received_at=RECEIVED)
    assert refused.value.code == "bad_osmand_request"
