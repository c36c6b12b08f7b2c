"""Stream faults in words a person can act on, and never with the password in them: FFmpeg's
error text names the URL it opened, credentials and all."""

from __future__ import annotations

import av

from jingwu.video.source import classify, public_url

URL = "rtsp://admin:S3cret401@10.0.0.5:554/ch1"


def test_an_unnamed_fault_keeps_ffmpegs_words_but_not_the_password() -> None:
    fault = classify(
        av.error.FFmpegError(1482175992, "Server returned 5XX Server Error reply", URL), shown=public_url(URL)
    )
    assert fault.code == "stream_unreachable"
    assert "5XX" in fault.message and "S3cret" not in fault.message and "admin" not in fault.message


def test_digits_in_the_password_do_not_make_a_refused_connection_a_wrong_password() -> None:
    refused = av.error.ConnectionRefusedError(111, "Connection refused", URL)
    assert classify(refused, shown=public_url(URL)).code == "stream_unreachable"
    denied = av.error.HTTPUnauthorizedError(
        -825242872, "Server returned 401 Unauthorized (authorization failed)", URL
    )
    assert classify(denied, shown=public_url(URL)).code == "stream_auth_failed"
    missing = av.error.HTTPNotFoundError(-1094995529, "Server returned 404 Not Found", URL)
    assert classify(missing, shown=public_url(URL)).code == "stream_not_found"


def test_a_password_in_the_path_or_query_is_refused_with_the_form_that_seals_it() -> None:
    import pytest

    from jingwu.domain.cameras import split_stream_url
    from jingwu.errors import ValidationFailed

    for url in (
        "rtsp://10.0.0.5/cam/realmonitor?channel=1&user=admin&password=x1",
        "rtsp://10.0.0.5/user=admin&password=x1&channel=1&stream=0.sdp",
    ):
        with pytest.raises(ValidationFailed) as refused:
            split_stream_url(url)
        assert refused.value.code == "password_in_url_path" and "x1" not in refused.value.message
    assert split_stream_url("rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=1")[1] is None
