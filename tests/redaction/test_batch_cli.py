"""Batch files and the ``rempart redact`` command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.redact import app
from rempart.redaction.batch import InputError, atomic_output, detect_jsonl, read_lines

CARD = "4111 1111 1111 1111"


def _jsonl(records: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def test_detect_jsonl_writes_exactly_id_and_spans() -> None:
    src = io.BytesIO(
        _jsonl(
            [
                {"id": "a", "lang": "fr", "text": f"carte {CARD}"},
                {"id": 2, "lang": "en", "text": "nothing here"},
            ]
        )
    )
    dst = io.StringIO()
    assert detect_jsonl(src, dst) == 2
    lines = [json.loads(x) for x in dst.getvalue().splitlines()]
    assert lines == [{"id": "a", "spans": [[6, 25, "CARD_NUMBER"]]}, {"id": 2, "spans": []}]


def test_offsets_are_characters_not_bytes() -> None:
    text = f"éééé carte {CARD}"
    dst = io.StringIO()
    detect_jsonl(io.BytesIO(_jsonl([{"id": 1, "lang": "fr", "text": text}])), dst)
    start, end, _ = json.loads(dst.getvalue())["spans"][0]
    assert text[start:end] == CARD


def test_invalid_utf8_names_line_and_byte_offset() -> None:
    data = b"ok\nfine\nbad \xff here\n"
    with pytest.raises(InputError) as err:
        list(read_lines(io.BytesIO(data)))
    assert err.value.line == 3
    assert err.value.byte_offset == 12
    assert "line 3" in err.value.detail
    assert "byte offset 12" in err.value.detail


def test_invalid_utf8_can_be_replaced_on_request() -> None:
    lines = list(read_lines(io.BytesIO(b"a\xffb\n"), "replace"))
    assert lines[0].text == "a\ufffdb"


def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"

    def write_then_fail() -> None:
        with atomic_output(target) as f:
            f.write("partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert list(tmp_path.iterdir()) == []


runner = CliRunner()


def test_cli_detect_jsonl_from_file_to_file(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(
        _jsonl([{"id": i, "lang": "fr", "text": f"ligne {i} carte {CARD}"} for i in range(600)])
    )
    result = runner.invoke(
        app, ["--detect", "--format", "jsonl", str(src), "-o", str(out), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 600
    assert json.loads(lines[599])["id"] == 599
    text = f"ligne 0 carte {CARD}"
    assert json.loads(lines[0])["spans"] == [[text.index(CARD), len(text), "CARD_NUMBER"]]


def test_cli_invalid_utf8_fails_without_partial_output(tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_bytes(f"carte {CARD}\n".encode() * 3 + b"\xc3\x28\n")
    result = runner.invoke(app, [str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert "line 4" in result.output
    assert "byte offset" in result.output
    assert list(tmp_path.iterdir()) == [src]


def test_cli_redacts_chosen_csv_columns(tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f'id,note,other\n1,"carte {CARD}",{CARD}\n', encoding="utf-8")
    result = runner.invoke(app, [str(src), "-o", str(out), "--format", "csv", "--columns", "note"])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == ["id,note,other", f"1,carte [CARD_NUMBER],{CARD}"]


def test_cli_redacts_jsonl_fields_with_a_mask(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(_jsonl([{"id": 1, "text": f"carte {CARD}", "keep": CARD}]))
    result = runner.invoke(
        app, [str(src), "-o", str(out), "--format", "jsonl", "--operator", "mask"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"id": 1, "text": "carte ****************", "keep": CARD}


def test_cli_empty_input_gives_empty_output(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"")
    result = runner.invoke(app, ["--detect", "--format", "jsonl", str(src), "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text() == ""


def test_cli_refuses_invalid_json_naming_the_line(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b'{"id": 1, "text": "ok"}\n{nope\n')
    result = runner.invoke(app, ["--detect", "--format", "jsonl", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert not out.exists()
