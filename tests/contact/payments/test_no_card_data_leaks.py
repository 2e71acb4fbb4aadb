"""After full captures, the PAN (grouped any way) and the CVV are nowhere to be read back.

Searched: every log line (structlog and the standard library), every row of
every table (audit records, transcripts, capture sessions, vault tables: text
as text, binary as bytes), every HTTP response the IVR and the agent got,
and the server-sent event stream.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from rempart.logs import configure_logging
from rempart.storage import Database
from tests.contact.payments.conftest import (
    CAPTURES,
    CVV,
    EXPIRY,
    PAN,
    Flow,
    keys,
    open_capture,
    push_call,
)

BAD_PAN = PAN[:-1] + "0"  # fails Luhn: typed first, rejected, must not linger either
SEP = r"[^0-9A-Za-z]{0,3}"


def _spread(digits: str) -> re.Pattern[str]:
    """The digits with any grouping: spaces, dashes, dots, quotes, commas between them."""
    return re.compile(SEP.join(re.escape(d) for d in digits))


PATTERNS = {
    "pan": _spread(PAN),
    "pan without its last four": _spread(PAN[:-4]),
    "rejected pan": _spread(BAD_PAN[:-4]),
    "cvv": re.compile(rf"(?<![0-9A-Za-z]){CVV}(?![0-9A-Za-z])"),
}


def _leaks(haystack: str) -> list[str]:
    return [name for name, pattern in PATTERNS.items() if pattern.search(haystack)]


def _all_rows(db: Database, flow: Flow) -> list[tuple[str, str]]:
    """(table, text of one value) for every value of every table the tenant can see."""
    out: list[tuple[str, str]] = []
    with db.engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT set_config('rempart.tenant_id', :t, true)"),
                {"t": flow.ivr.ctx.tenant_id},
            )
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        out.append((table, bytes(value).decode("latin-1")))
                    elif value is not None:
                        out.append((table, str(value)))
    return out


def _capture_everything(client: TestClient, flow: Flow) -> list[str]:
    responses: list[str] = []

    def note(r: Any) -> Any:
        responses.append(r.text)
        return r

    call = push_call(client, flow)
    capture = open_capture(client, flow, call)
    for digit in BAD_PAN:
        note(keys(client, flow, capture, digit))
    note(keys(client, flow, capture, "#"))
    # Card data sent the wrong way: in a bad key batch, in an unknown member, as a number.
    note(keys(client, flow, capture, PAN + "x"))
    note(keys(client, flow, capture, PAN + PAN))
    note(
        client.post(
            f"{CAPTURES}/{capture}/dtmf",
            json={"keys": "4", "pan": PAN, "cvv": CVV},
            headers=flow.ivr.headers,
        )
    )
    note(
        client.post(f"{CAPTURES}/{capture}/dtmf", json={"keys": int(PAN)}, headers=flow.ivr.headers)
    )
    note(keys(client, flow, capture, PAN[:8]))
    note(client.get(f"{CAPTURES}/{capture}", headers=flow.agent.headers))
    note(keys(client, flow, capture, PAN[8:] + "#"))
    note(keys(client, flow, capture, EXPIRY))
    note(keys(client, flow, capture, CVV + "9"))  # too many digits: refused whole
    note(keys(client, flow, capture, CVV))
    note(client.post(f"{CAPTURES}/{capture}/complete", headers=flow.ivr.headers))
    note(client.post(f"{CAPTURES}/{capture}/complete", headers=flow.ivr.headers))
    note(client.get(f"{CAPTURES}/{capture}/events", headers=flow.agent.headers))
    # A second capture on the same call, abandoned half-way.
    second = open_capture(client, flow, call)
    note(keys(client, flow, second, PAN + "#" + EXPIRY))
    note(client.post(f"{CAPTURES}/{second}/cancel", headers=flow.ivr.headers))
    note(
        client.get(
            f"/api/v1/payments/interactions/{call}/recording-pauses", headers=flow.pusher.headers
        )
    )
    return responses


def test_a_full_capture_leaves_no_card_data_in_logs_rows_or_responses(
    client: TestClient, alice: Flow, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    buf = io.StringIO()
    configure_logging("debug", "json", stream=buf)
    caplog.set_level(logging.DEBUG)
    try:
        responses = _capture_everything(client, alice)
    finally:
        configure_logging("info", "json")
    log_lines = buf.getvalue().splitlines() + [r.getMessage() for r in caplog.records]
    assert any("payments/captures" in line for line in log_lines)  # the logs were captured
    for line in log_lines:
        assert _leaks(line) == [], line
    rows = _all_rows(db, alice)
    tables = {table for table, _ in rows}
    assert {
        "payment_captures",
        "audit_records",
        "vault_card_tokens",
        "transcript_segments",
    } <= tables
    for table, value in rows:
        assert _leaks(value) == [], table
    for body in responses:
        assert _leaks(body) == [], body


def test_the_leak_search_finds_card_data_when_it_is_there() -> None:
    # The negative control: the patterns catch every grouping a leak could take.
    for leaked in (
        PAN,
        "4970 1012 3456 7893",
        "4970-1012-3456-7893",
        '["4970","1012","3456","7893"]',
        "4 9 7 0 1 0 1 2 3 4 5 6",
        f"cvv={CVV}",
        f'"{CVV}"',
    ):
        assert _leaks(leaked), leaked
    assert _leaks("**** **** **** 7893 1229 tok_abc 2026-11-02T09:30:00Z") == []
