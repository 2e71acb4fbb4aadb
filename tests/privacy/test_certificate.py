"""Erasure certificates: signed canonical JSON that verifies offline and only unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.audit import Checkpoint, Ed25519Signer, verifier_key
from rempart.audit.note import sign_checkpoint
from rempart.privacy import CertificateInvalid, sign_certificate, verify_certificate
from rempart.privacy.certificate import CERTIFICATE_FORMAT, DOMAIN

SIGNER = Ed25519Signer.generate("rempart-audit")
KEY = verifier_key(SIGNER)


def body(**changes: Any) -> dict[str, Any]:
    cert: dict[str, Any] = {
        "format": CERTIFICATE_FORMAT,
        "version": 1,
        "tenant": "t-1",
        "request_id": "r-1",
        "subject": "psn_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "legal_basis": "GDPR art. 17",
        "requested_at": "2026-11-29T03:00:00Z",
        "completed_at": "2026-11-29T03:00:02Z",
        "counts": {"interactions": 2, "segments": 4},
        "key_versions_destroyed": [1],
        "audit_entry": {"id": "a-1", "seq": 7},
    }
    cert.update(changes)
    return cert


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


@settings(max_examples=40)
@given(
    counts=st.dictionaries(
        st.sampled_from(["interactions", "segments", "lookups"]), st.integers(0, 10**9)
    ),
    subject=st.text(min_size=1, max_size=40),
    versions=st.lists(st.integers(1, 1000), max_size=5),
    data=st.data(),
)
def test_any_changed_leaf_breaks_the_signature(
    counts: dict[str, int], subject: str, versions: list[int], data: st.DataObject
) -> None:
    cert = body(counts=counts, subject=subject, key_versions_destroyed=versions)
    text = sign_certificate(cert, SIGNER)
    assert verify_certificate(text, KEY) == cert
    doc = json.loads(text)
    path = data.draw(st.sampled_from(_leaves(doc["certificate"])))
    target = doc["certificate"]
    for part in path[:-1]:
        target = target[part]
    old = target[path[-1]]
    target[path[-1]] = (old + 1) if isinstance(old, int) else f"{old}x"
    with pytest.raises(CertificateInvalid):
        verify_certificate(json.dumps(doc), KEY)


def _forged(cert: dict[str, Any], message: bytes, **extra: Any) -> str:
    return json.dumps(
        {
            "certificate": cert,
            "signature": {
                "algorithm": "Ed25519",
                "key": KEY,
                "value": base64.b64encode(SIGNER.sign(message)).decode(),
            },
            **extra,
        }
    )


def test_a_signature_without_the_domain_prefix_does_not_verify() -> None:
    cert = body()
    with pytest.raises(CertificateInvalid):
        verify_certificate(_forged(cert, rfc8785.dumps(cert)), KEY)
    assert verify_certificate(_forged(cert, DOMAIN + rfc8785.dumps(cert)), KEY) == cert


def test_a_checkpoint_signature_of_the_same_key_is_no_certificate() -> None:
    note = sign_checkpoint(Checkpoint("rempart/audit/tenant/t-1", 7, b"\0" * 32), SIGNER)
    sig = note.rsplit(" ", 1)[1].strip()
    raw = base64.b64decode(sig)[4:]
    doc = {
        "certificate": body(),
        "signature": {"algorithm": "Ed25519", "key": KEY, "value": base64.b64encode(raw).decode()},
    }
    with pytest.raises(CertificateInvalid):
        verify_certificate(json.dumps(doc), KEY)


def test_structurally_wrong_certificates_fail_even_when_signed() -> None:
    incomplete = body()
    del incomplete["audit_entry"]
    with pytest.raises(CertificateInvalid, match="lacks audit_entry"):
        verify_certificate(_forged(incomplete, DOMAIN + rfc8785.dumps(incomplete)), KEY)
    other = body(format="something-else")
    with pytest.raises(CertificateInvalid, match="not an erasure certificate"):
        verify_certificate(_forged(other, DOMAIN + rfc8785.dumps(other)), KEY)
    cert = body()
    with pytest.raises(CertificateInvalid):
        verify_certificate(_forged(cert, DOMAIN + rfc8785.dumps(cert), extra="member"), KEY)
    with pytest.raises(CertificateInvalid, match="too large"):
        verify_certificate(" " * (65 * 1024), KEY)
    with pytest.raises(ValueError, match="lacks"):
        sign_certificate(incomplete, SIGNER)


def test_a_certificate_names_the_key_that_signed_it() -> None:
    text = sign_certificate(body(), SIGNER)
    other = Ed25519Signer.generate("other-key")
    with pytest.raises(CertificateInvalid, match="not signed by key 'other-key'"):
        verify_certificate(text, verifier_key(other))
    same_name = Ed25519Signer.generate("rempart-audit")
    with pytest.raises(CertificateInvalid):
        verify_certificate(text, verifier_key(same_name))
