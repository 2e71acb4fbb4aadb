"""GCM nonces: 12 random bytes from the OS, drawn in batches, never handed out twice."""

from __future__ import annotations

import os
import threading

from rempart.vault.hazmat import aead, random_nonce


def test_nonces_are_twelve_bytes_and_distinct_across_refills() -> None:
    seen = [random_nonce() for _ in range(5_000)]  # ~15 refills of the pool
    assert {len(n) for n in seen} == {12}
    assert len(set(seen)) == len(seen)


def test_threads_never_share_a_nonce() -> None:
    out: list[list[bytes]] = [[] for _ in range(8)]

    def work(i: int) -> None:
        out[i].extend(random_nonce() for _ in range(3_000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [n for chunk in out for n in chunk]
    assert len(set(every)) == len(every) == 24_000


def test_a_forked_child_does_not_reuse_the_parents_pending_nonces() -> None:
    random_nonce()  # the pool now holds nonces not handed out yet
    assert aead._nonce_pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its pool starts empty, so it draws its own
        try:
            os.close(read)
            status = 0 if not aead._nonce_pool else 1
            os.write(write, b"".join(random_nonce() for _ in range(400)))
        finally:
            os._exit(status)
    os.close(write)
    child = b""
    while chunk := os.read(read, 65536):
        child += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent = {random_nonce() for _ in range(400)}
    child_nonces = {child[i : i + 12] for i in range(0, len(child), 12)}
    assert len(child_nonces) == 400
    assert parent.isdisjoint(child_nonces)
