"""Writes the known-answer vectors of the vault's formats (run by hand, output committed).

``python tests/vault/vectors/generate.py`` rewrites ``field_valid.json``,
``field_invalid.json``, ``stream_valid.json`` and ``stream_invalid.json``. The
tests check the valid vectors against an independent construction made from
pyca/cryptography calls and the format in docs/vault.md, so a change of format
cannot pass by regenerating alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rempart.types import TenantId
from rempart.vault.format import FieldContext, field_subkey, seal
from rempart.vault.hazmat import Aead
from rempart.vault.material import DekMaterial
from rempart.vault.stream import chunk_nonce, stream_header, stream_key

HERE = Path(__file__).parent
TENANT = "7f1c0e2a-6a3b-4d9e-9a51-2b8c2f0d4e11"
TENANT_V2 = "3c9a5b1e-0d2f-4e8a-b7c6-5a4d3e2f1a09"
"""Format-2 vectors live in another tenant, so both formats' keys fit in one store."""


def _dek(n: int) -> bytes:
    return bytes((n * 17 + i) % 256 for i in range(32))


def field_vectors() -> list[dict[str, Any]]:
    cases = [
        ("empty value", 1, "data", 1, b""),
        ("short phone number", 2, "data", 5, b"+33612345678"),
        ("second key version", 3, "data", 2, b"alice@example.com"),
        ("data subject key", 4, "subject:cust-42", 1, "Zoë Dupont, 12 rue des Lilas".encode()),
        ("one KiB", 5, "data", 7, bytes(range(256)) * 4),
    ]
    out = []
    for fmt, tenant, prefix, base in ((1, TENANT, "", 0), (2, TENANT_V2, "v2 ", 10)):
        for name, n, key_id, version, plaintext in cases:
            out.append(
                _field_vector(fmt, tenant, prefix + name, base + n, key_id, version, plaintext)
            )
    return out


def _field_vector(
    fmt: int, tenant: str, name: str, n: int, key_id: str, version: int, plaintext: bytes
) -> dict[str, Any]:
    dek = _dek(n)
    ctx = FieldContext(TenantId(tenant), "customers", "phone", f"row-{n % 10}")
    nonce = bytes((n + i) % 256 for i in range(12))
    aead = Aead(field_subkey(dek, ctx.tenant, key_id, version))
    ct = seal(aead, ctx, key_id, version, nonce, plaintext, version=fmt)
    return {
        "name": name,
        "format": fmt,
        "dek": dek.hex(),
        "tenant": ctx.tenant,
        "table": ctx.table,
        "column": ctx.column,
        "row_id": ctx.row_id,
        "key_id": key_id,
        "key_version": version,
        "nonce": nonce.hex(),
        "plaintext": plaintext.hex(),
        "ciphertext": ct.hex(),
    }


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


def field_invalid(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {v["name"]: v for v in valid}
    v2 = by_name["v2 short phone number"]
    ct = bytes.fromhex(v2["ciphertext"])
    extra = {
        "name": "v2 unknown format version 3",
        "based_on": v2["name"],
        "ciphertext": (ct[:2] + b"\x03" + ct[3:]).hex(),
        "context": {},
    }
    return [
        *_field_invalid(by_name["short phone number"], b"\x02"),
        *_field_invalid(v2, b"\x01", "v2 "),
        extra,
    ]


def _field_invalid(
    base: dict[str, Any], other_format: bytes, prefix: str = ""
) -> list[dict[str, Any]]:
    ct = bytes.fromhex(base["ciphertext"])
    kid_len = ct[3]
    cases: list[tuple[str, bytes, dict[str, str]]] = [
        ("magic byte flipped", _flip(ct, 0), {}),
        ("format version changed", ct[:2] + other_format + ct[3:], {}),
        ("key id length changed", _flip(ct, 3), {}),
        ("key id altered", _flip(ct, 4), {}),
        (
            "key version changed to another existing version",
            ct[: 4 + kid_len] + (2).to_bytes(4, "big") + ct[8 + kid_len :],
            {},
        ),
        ("key version zero", ct[: 4 + kid_len] + bytes(4) + ct[8 + kid_len :], {}),
        (
            "unknown key version",
            ct[: 4 + kid_len] + (99).to_bytes(4, "big") + ct[8 + kid_len :],
            {},
        ),
        ("nonce bit flipped", _flip(ct, 8 + kid_len), {}),
        ("ciphertext bit flipped", _flip(ct, 20 + kid_len), {}),
        ("tag bit flipped", _flip(ct, len(ct) - 1, 7), {}),
        ("truncated by one byte", ct[:-1], {}),
        ("truncated to the header", ct[: 20 + kid_len], {}),
        ("empty", b"", {}),
        ("byte appended", ct + b"\x00", {}),
        ("index key id instead of data", ct[:3] + b"\x05index" + ct[4 + kid_len :], {}),
        ("wrong tenant", ct, {"tenant": "00000000-0000-4000-8000-000000000000"}),
        ("wrong table", ct, {"table": "agents"}),
        ("wrong column", ct, {"column": "email"}),
        ("wrong row id", ct, {"row_id": "row-3"}),
    ]
    return [
        {"name": prefix + name, "based_on": base["name"], "ciphertext": data.hex(), "context": ctx}
        for name, data, ctx in cases
    ]


def stream_vectors() -> list[dict[str, Any]]:
    out = []
    for n, (name, chunk_size, size) in enumerate(
        [
            ("empty object", 256, 0),
            ("one partial chunk", 256, 100),
            ("exact multiple of the chunk size", 256, 512),
            ("several chunks", 300, 1000),
        ],
        1,
    ):
        dek = _dek(40 + n)
        ctx = FieldContext(TenantId(TENANT), "recordings", "audio", f"rec-{n}")
        material = DekMaterial(ctx.tenant, "data", 1, dek)
        salt = bytes((n * 3 + i) % 256 for i in range(32))
        prefix = bytes((n * 5 + i) % 256 for i in range(7))
        plaintext = bytes((i * 7 + n) % 256 for i in range(size))
        header = stream_header("data", 1, chunk_size, salt, prefix)
        aead = stream_key(material, ctx, header, salt)
        chunks = [plaintext[i : i + chunk_size] for i in range(0, size, chunk_size)] or [b""]
        body = b"".join(
            aead.seal(chunk_nonce(prefix, i, i == len(chunks) - 1), chunk, b"")
            for i, chunk in enumerate(chunks)
        )
        out.append(
            {
                "name": name,
                "dek": dek.hex(),
                "tenant": ctx.tenant,
                "table": ctx.table,
                "column": ctx.column,
                "row_id": ctx.row_id,
                "key_id": "data",
                "key_version": 1,
                "chunk_size": chunk_size,
                "salt": salt.hex(),
                "nonce_prefix": prefix.hex(),
                "plaintext": plaintext.hex(),
                "ciphertext": (header + body).hex(),
            }
        )
    return out


def stream_invalid(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = valid[3]
    ct = bytes.fromhex(base["ciphertext"])
    header_len = 4 + 4 + 8 + 32 + 7
    seg = base["chunk_size"] + 16
    body = ct[header_len:]
    segs = [body[i : i + seg] for i in range(0, len(body), seg)]
    other = bytes.fromhex(valid[2]["ciphertext"])
    cases = [
        ("last chunk dropped (truncation at a chunk boundary)", ct[: header_len + 3 * seg]),
        ("truncated inside the last chunk", ct[:-5]),
        ("header only", ct[:header_len]),
        ("first two chunks swapped", ct[:header_len] + segs[1] + segs[0] + b"".join(segs[2:])),
        (
            "chunk spliced from another stream",
            ct[:header_len] + other[header_len:][:seg] + b"".join(segs[1:]),
        ),
        ("chunk duplicated", ct[:header_len] + segs[0] + segs[0] + b"".join(segs[1:])),
        ("extra bytes appended", ct + b"\x00" * 16),
        ("magic flipped", _flip(ct, 0)),
        ("chunk size changed", ct[:8] + (301).to_bytes(4, "big") + ct[12:]),
        ("salt bit flipped", _flip(ct, 12)),
        ("nonce prefix bit flipped", _flip(ct, 44 + 4)),
        ("bit flipped in a middle chunk", _flip(ct, header_len + seg + 3)),
        ("bit flipped in the last tag", _flip(ct, len(ct) - 1)),
        ("empty", b""),
    ]
    return [
        {"name": name, "based_on": base["name"], "ciphertext": data.hex()} for name, data in cases
    ]


def main() -> None:
    valid = field_vectors()
    streams = stream_vectors()
    for name, doc in [
        ("field_valid.json", valid),
        ("field_invalid.json", field_invalid(valid)),
        ("stream_valid.json", streams),
        ("stream_invalid.json", stream_invalid(streams)),
    ]:
        (HERE / name).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
