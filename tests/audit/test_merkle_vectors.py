"""The transparency-dev/merkle proof vectors: every happy path verifies, every corruption fails."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from rempart.audit.errors import InvalidProof
from rempart.audit.merkle import verify_consistency, verify_inclusion

MERKLE_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "merkle"


def _files(kind: str) -> list[Path]:
    return sorted((MERKLE_VECTORS / kind).glob("*/*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in case["proof"] or []]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


INCLUSION = _files("inclusion")
CONSISTENCY = _files("consistency")


@pytest.mark.usefixtures("merkle_vectors")
def test_the_vector_sets_are_complete() -> None:
    # Guards against a silently empty parametrisation.
    assert len(INCLUSION) >= 40
    assert len(CONSISTENCY) >= 90
    wanted = [_load(p)["wantErr"] for p in INCLUSION + CONSISTENCY]
    assert wanted.count(False) >= 10
    assert wanted.count(True) >= 100


@pytest.mark.usefixtures("merkle_vectors")
@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        _proof(case),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(InvalidProof):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.usefixtures("merkle_vectors")
@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    args = (
        case["size1"],
        case["size2"],
        _proof(case),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(InvalidProof):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
