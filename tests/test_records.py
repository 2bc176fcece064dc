"""The measured figures the book prints carry their provenance."""

from __future__ import annotations

import math

import pytest

from gancourse.metrics.records import available_records, load_record


def test_shipped_records_are_present():
    assert {"inception-figures", "bench-fid"} <= set(available_records())


def test_inception_figures_state_how_they_were_made():
    rec = load_record("inception-figures")
    for key in ("command", "weights_file", "weights_sha256", "hardware", "date"):
        assert rec[key], key
    assert len(rec["weights_sha256"]) == 64
    assert rec["rows"]
    for row in rec["rows"]:
        assert row["n"] >= 2 and row["resize"] and math.isfinite(row["fid"])
        assert row["fid"] >= 0


def test_bench_record_has_machine_and_rows():
    rec = load_record("bench-fid")
    assert rec["machine"] and rec["date"] and rec["command"].startswith("python -m")
    names = [name for name, _ in rec["rows"]]
    assert any("sqrtm" in n for n in names) and any("cached" in n for n in names)


def test_unknown_record_lists_the_available_ones():
    with pytest.raises(FileNotFoundError, match="available"):
        load_record("no-such-record")
