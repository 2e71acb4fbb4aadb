"""Checkpoint notes: the transparency-dev signed-note format with Ed25519 keys."""

from __future__ import annotations

import base64

import pytest

from rempart.audit.errors import CheckpointError
from rempart.audit.note import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    sign_checkpoint,
    verifier_key,
)

# The example key and note of the Go note package documentation
# (golang.org/x/mod/sumdb/note), a known answer for key hashes and signatures.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ROOT = bytes(range(32))


def test_known_answer_key_hash_and_signature_of_the_go_note_package() -> None:
    signer = Ed25519Signer.from_skey(GO_SKEY)
    assert verifier_key(signer) == GO_VKEY
    blob = signer.key_hash() + signer.sign(GO_TEXT.encode())
    assert base64.b64encode(blob).decode() == GO_SIG
    assert signer.to_skey() == GO_SKEY


def test_signed_checkpoint_round_trips(signer: Ed25519Signer, verifier: NoteVerifier) -> None:
    cp = Checkpoint("rempart/audit/tenant/x", 42, ROOT)
    note = sign_checkpoint(cp, signer)
    lines = note.split("\n")
    assert lines[:4] == ["rempart/audit/tenant/x", "42", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith("\u2014 rempart-test ")
    assert verifier.verify(note) == cp


def test_a_note_signed_by_another_key_is_refused(verifier: NoteVerifier) -> None:
    other = Ed25519Signer.generate("rempart-test")  # same name, other key
    note = sign_checkpoint(Checkpoint("o", 1, ROOT), other)
    with pytest.raises(CheckpointError, match="no signature"):
        verifier.verify(note)


@pytest.mark.parametrize(
    ("old", "new"),
    [("\n42\n", "\n43\n"), ("rempart/audit/t\n", "rempart/audit/u\n")],
    ids=["size", "origin"],
)
def test_an_altered_body_breaks_the_signature(
    signer: Ed25519Signer, verifier: NoteVerifier, old: str, new: str
) -> None:
    note = sign_checkpoint(Checkpoint("rempart/audit/t", 42, ROOT), signer)
    with pytest.raises(CheckpointError, match="invalid"):
        verifier.verify(note.replace(old, new, 1))


def test_a_signature_with_a_flipped_bit_is_refused(
    signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    note = sign_checkpoint(Checkpoint("o", 7, ROOT), signer)
    body, sig_line = note.rsplit("\n\n", 1)
    name, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 0x01
    forged = f"{body}\n\n{name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointError):
        verifier.verify(forged)


@pytest.mark.parametrize(
    "note",
    [
        "",
        "o\n1\nAAAA\n",
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\nnot a signature\n",
        "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 rempart-test ***\n",
    ],
    ids=["empty", "unsigned", "no-signature-lines", "garbage-line", "bad-base64"],
)
def test_malformed_notes_are_refused(verifier: NoteVerifier, note: str) -> None:
    with pytest.raises(CheckpointError):
        verifier.verify(note)


@pytest.mark.parametrize(
    "body",
    [
        "o\n-1\nAAAA\n",
        "o\n01\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n1\n" + base64.b64encode(b"short").decode() + "\n",
        "\n1\n" + base64.b64encode(ROOT).decode() + "\n",
        "o\n1\n",
    ],
    ids=["negative", "leading-zero", "short-root", "no-origin", "no-root"],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_a_verifier_key_whose_hash_does_not_match_is_refused() -> None:
    name, _hash, key = GO_VKEY.split("+", 2)
    with pytest.raises(CheckpointError):
        NoteVerifier.from_vkey(f"{name}+00000000+{key}")
    with pytest.raises(CheckpointError):
        NoteVerifier.from_vkey(f"Someone+c74f20a3+{key}")


def test_the_signer_repr_hides_the_key(signer: Ed25519Signer) -> None:
    assert signer.to_skey().split("+")[-1] not in repr(signer)
    assert "hidden" in repr(signer)
