"""Vault benchmarks: field encryption against raw AES-GCM, HSM against local KEKs, re-wrap.

Run ``python benchmarks/vault.py`` (``--rewrap 1000000`` for the full
million-DEK re-wrap; the default is 100,000 to stay short on a shared machine).
Prints medians and the ratio against each anchor:

1. field encrypt/decrypt of 64 B and 1 KiB values with a cached DEK, against
   raw ``AESGCM.encrypt``/``decrypt`` calls of pyca/cryptography in the same
   process (random nonce and associated data included on both sides); goal
   >= 50% of the raw rate;
2. per-field cost with the tenant's KEK in SoftHSM2 against the local key file,
   from a cold DEK cache (one unwrap, then cached fields); goal within 2x;
3. re-wrap of N DEKs under a new KEK: time and peak memory.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rempart.types import TenantId
from rempart.vault import (
    FieldContext,
    LocalKeyFileProvider,
    MemoryKeyringStore,
    Vault,
)
from rempart.vault.keyring import wrap_aad
from rempart.vault.records import DekRecord, KeyStatus

TENANT = TenantId("bench-tenant")


def paired_rates(
    ours: Callable[[], object], theirs: Callable[[], object], n: int, rounds: int
) -> tuple[float, float, float]:
    """Median rates of both and median of per-round ratios, rounds interleaved so that
    load from other processes hits both sides alike. Rates are per second of this
    process's CPU time (``time.process_time``): on a shared machine, wall time also
    counts the time the scheduler gave to other processes."""
    ours_rates, their_rates, ratios = [], [], []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            ours()
        ours_rate = n / (time.process_time() - start)
        start = time.process_time()
        for _ in range(n):
            theirs()
        their_rate = n / (time.process_time() - start)
        ours_rates.append(ours_rate)
        their_rates.append(their_rate)
        ratios.append(ours_rate / their_rate)
    return statistics.median(ours_rates), statistics.median(their_rates), statistics.median(ratios)


Case = tuple[str, Callable[[], object], Callable[[], object]]


def field_cases(
    vault: Vault, raw: AESGCM, aad: bytes, ctx: FieldContext, value: bytes
) -> list[Case]:
    nonce = os.urandom(12)
    raw_ct = raw.encrypt(nonce, value, aad)
    stored = nonce + raw_ct
    ct = vault.encrypt_field(ctx, value)
    rows = itertools.cycle([f"row-{i:07d}" for i in range(1 << 16)])
    return [
        (
            "encrypt",
            lambda: vault.encrypt_field(ctx, value),
            lambda: raw.encrypt(os.urandom(12), value, aad),
        ),
        ("decrypt", lambda: vault.decrypt_field(ctx, ct), lambda: raw.decrypt(nonce, raw_ct, aad)),
        # Informational, not the goal's anchor: raw AES-GCM also splitting a stored
        # nonce || ciphertext on each call, as an application storing it would.
        (
            "decrypt (raw splits)",
            lambda: vault.decrypt_field(ctx, ct),
            lambda: raw.decrypt(stored[:12], stored[12:], aad),
        ),
        # A context not seen before on every call: a new FieldContext built in the call,
        # for the next of 65,536 distinct row ids (nothing is kept per row id; the DEK
        # is cached). The raw side is the same anchor as "encrypt".
        (
            "encrypt, new context",
            lambda: vault.encrypt_field(
                FieldContext(TENANT, "customers", "phone", next(rows)), value
            ),
            lambda: raw.encrypt(os.urandom(12), value, aad),
        ),
    ]


def bench_fields(vault: Vault, n: int, rounds: int) -> None:
    print(
        "== 1. field encryption, cached DEK, vs raw AES-GCM (median ops/s, median of "
        "per-round ratios)"
    )
    raw = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = b"rempart/vault/field/v1 tenant table column row"
    ctx = FieldContext(TENANT, "customers", "phone", "row-000042")
    vault.encrypt_field(ctx, b"warm-up")
    print(f"{'size':>6} {'op':>22} {'vault':>10} {'raw':>10} {'ratio':>6}")
    for size in (64, 1024):
        cases = field_cases(vault, raw, aad, ctx, os.urandom(size))
        for op, ours, theirs in cases:
            ours_rate, raw_rate, ratio = paired_rates(ours, theirs, n, rounds)
            print(f"{size:>5}B {op:>22} {ours_rate:>10,.0f} {raw_rate:>10,.0f} {ratio:>6.0%}")


def bench_hsm(workdir: Path, fields: int, rounds: int) -> None:
    print(
        "\n== 2. per-field cost, KEK in SoftHSM2 vs local key file "
        f"(cold DEK cache, then {fields} fields; median µs/field)"
    )
    try:
        from tests.vault.softhsm import init_token, missing_reason

        from rempart.vault.providers.pkcs11 import Pkcs11Provider
    except ImportError as exc:  # pragma: no cover - hsm extra missing
        print(f"skipped: {exc}")
        return
    reason = missing_reason()
    if reason is not None:
        print(f"skipped: {reason}")
        return
    hsm = init_token(workdir / "softhsm")
    hsm_provider = Pkcs11Provider(hsm.library, token_label=hsm.token_label, user_pin=hsm.user_pin)
    local = LocalKeyFileProvider(workdir / "hsm-bench-keys.json")
    vault = Vault(MemoryKeyringStore(), [local, hsm_provider])
    vault.create_tenant(TenantId("local"), provider="local")
    vault.create_tenant(TenantId("hsm"), provider="pkcs11")
    value = os.urandom(64)
    # Rounds alternate the two tenants (load from other processes hits both alike);
    # CPU time of this process, SoftHSM2 being a library in it.
    samples: dict[str, list[float]] = {"local": [], "hsm": []}
    ratios = []
    for _ in range(rounds):
        for tenant in ("local", "hsm"):
            ctx = FieldContext(TenantId(tenant), "customers", "phone", "r")
            vault.keys.cache.clear()
            start = time.process_time()
            for _ in range(fields):
                vault.decrypt_field(ctx, vault.encrypt_field(ctx, value))
            samples[tenant].append((time.process_time() - start) / fields * 1e6)
        ratios.append(samples["hsm"][-1] / samples["local"][-1])
    results = {tenant: statistics.median(values) for tenant, values in samples.items()}
    unwrap_samples = []
    dek = vault.keys.store.get_dek(TenantId("hsm"), "data", 1)
    kek = vault.keys.active_kek(TenantId("hsm"))
    if dek is not None and dek.wrapped is not None:
        for _ in range(20):
            start = time.perf_counter()
            hsm_provider.unwrap(
                kek.key_ref, dek.wrapped, wrap_aad(TenantId("hsm"), "data", 1, kek.version)
            )
            unwrap_samples.append((time.perf_counter() - start) * 1e6)
    print(f"local key file: {results['local']:.2f} µs/field (encrypt + decrypt)")
    print(f"SoftHSM2:       {results['hsm']:.2f} µs/field (encrypt + decrypt)")
    print(f"one SoftHSM2 unwrap: {statistics.median(unwrap_samples):.0f} µs (median)")
    print(
        f"ratio HSM / local: {statistics.median(ratios):.2f}x "
        "(median of per-round ratios; goal <= 2x)"
    )
    hsm_provider.close()


def bench_rewrap(workdir: Path, count: int, batch: int) -> None:
    print(
        f"\n== 3. re-wrap of {count:,} DEKs under a new KEK (local key file, batches of {batch:,})"
    )
    provider = LocalKeyFileProvider(workdir / "rewrap-keys.json")
    store = MemoryKeyringStore()
    vault = Vault(store, [provider])
    vault.create_tenant(TENANT)
    kek = vault.keys.active_kek(TENANT)
    now = datetime.now(UTC)
    start = time.perf_counter()
    for i in range(count):
        key_id = f"subject:{i:07d}"
        store.add_dek(
            DekRecord(
                TENANT,
                key_id,
                1,
                kek.version,
                provider.wrap(
                    kek.key_ref, os.urandom(32), wrap_aad(TENANT, key_id, 1, kek.version)
                ),
                KeyStatus.ACTIVE,
                now,
            )
        )
    print(f"setup: {count:,} wrapped DEKs in {time.perf_counter() - start:.1f} s")
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    vault.keys.rotate_kek(TENANT)
    report = vault.keys.rewrap(TENANT, batch_size=batch)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"re-wrap: {report.rewrapped:,} DEKs in {report.seconds:.1f} s "
        f"({report.rewrapped / report.seconds:,.0f} DEKs/s), {report.remaining} remaining"
    )
    print(
        f"peak RSS of the process: {rss_after / 1024:.0f} MiB "
        f"(grew {max(0, rss_after - rss_before) / 1024:.0f} MiB during the re-wrap)"
    )
    vault.keys.rotate_kek(TENANT)
    tracemalloc.start()
    traced = vault.keys.rewrap(TENANT, batch_size=batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory allocated by a second re-wrap (tracemalloc): {peak / 2**20:.1f} MiB "
        f"for {traced.rewrapped:,} DEKs"
    )


def bench_rewrap_sql(workdir: Path, count: int, batch: int) -> None:
    """The same re-wrap on the SQL keyring store (SQLite in a temporary data dir)."""
    print(
        f"\n== 4. re-wrap of {count:,} DEKs on the SQL keyring store (SQLite, batches of {batch:,})"
    )
    from sqlalchemy import insert

    from rempart.config import load_settings
    from rempart.storage import TenantContext
    from rempart.storage.migrate import upgrade
    from rempart.storage.open import open_database
    from rempart.storage.tenants import create_tenant
    from rempart.vault.models import VaultDek
    from rempart.vault.sql_store import SqlKeyringStore

    db = open_database(load_settings(data_dir=workdir / "sql"), admin=True)
    try:
        upgrade(db.engine)
        with db.platform_session() as session:
            tenant = TenantId(create_tenant(session, "bench", "Bench").id)
        provider = LocalKeyFileProvider(workdir / "sql-keys.json")
        vault = Vault(SqlKeyringStore(db), [provider])
        vault.create_tenant(tenant)
        kek = vault.keys.active_kek(tenant)
        now = datetime.now(UTC)
        start = time.perf_counter()
        rows = []
        for i in range(count):
            key_id = f"subject:{i:07d}"
            wrapped = provider.wrap(
                kek.key_ref, os.urandom(32), wrap_aad(tenant, key_id, 1, kek.version)
            )
            rows.append(
                {
                    "tenant_id": tenant,
                    "key_id": key_id,
                    "version": 1,
                    "kek_version": kek.version,
                    "wrapped": wrapped,
                    "status": KeyStatus.ACTIVE.value,
                    "created_at": now,
                    "encryptions": 0,
                }
            )
        with db.tenant_session(TenantContext(tenant)) as session:
            session.execute(insert(VaultDek), rows)
        del rows
        print(f"setup: {count:,} wrapped DEKs in {time.perf_counter() - start:.1f} s")
        vault.keys.rotate_kek(tenant)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = vault.keys.rewrap(tenant, batch_size=batch)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"re-wrap: {report.rewrapped:,} DEKs in {report.seconds:.1f} s "
            f"({report.rewrapped / report.seconds:,.0f} DEKs/s), {report.remaining} remaining; "
            f"peak RSS grew {max(0, rss_after - rss_before) / 1024:.0f} MiB"
        )
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000, help="calls per round (fields)")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--hsm-fields", type=int, default=2_000)
    parser.add_argument("--rewrap", type=int, default=100_000, help="DEKs to re-wrap")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument(
        "--rewrap-sql", type=int, default=20_000, help="DEKs to re-wrap on SQLite (0: skip)"
    )
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        vault = Vault(MemoryKeyringStore(), [LocalKeyFileProvider(workdir / "keys.json")])
        vault.create_tenant(TENANT)
        bench_fields(vault, args.ops, args.rounds)
        bench_hsm(workdir, args.hsm_fields, args.rounds)
        bench_rewrap(workdir, args.rewrap, args.batch)
        if args.rewrap_sql:
            bench_rewrap_sql(workdir, args.rewrap_sql, args.batch)


if __name__ == "__main__":
    main()
