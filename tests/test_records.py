"""The measured figures the book prints carry their provenance."""

from __future__ import annotations

import math

import pytest

from gancourse.metrics.records import available_records, load_record


def test_shipped_records_are_present():
    assert {
        "inception-figures",
        "bench-fid",
        "ch02-equal-time",
        "ch02-ring",
        "ch03-conditional",
    } <= set(available_records())


def test_chapter_2_records_state_how_they_were_made():
    cmp = load_record("ch02-equal-time")
    assert cmp["command"].startswith("python tools/wgan_comparison.py")
    assert cmp["machine"] and cmp["date"] and cmp["budget_s"] > 0
    assert set(cmp["runs"]) == {"DCGAN", "WGAN", "WGAN-GP"}
    for label, run in cmp["runs"].items():
        assert run["command"].startswith("gancourse train --preset"), label
        assert "train.max_time_s=" in run["command"]
        # equal wall time: every run stopped at the budget (within one step)
        assert run["wall_time_s"] >= cmp["budget_s"] * 0.98, label
        assert run["curve"] and math.isfinite(run["final_fid"])
        assert run["final_fid"] == run["curve"][-1]["fid"]
    ring = load_record("ch02-ring")
    assert ring["command"].startswith("python tools/ring_comparison.py")
    assert {r["preset"] for r in ring["rows"]} == {"vanilla-ring8", "wgangp-ring8"}
    for r in ring["rows"]:
        assert 0 <= r["modes_final"] <= 8 and 0 <= r["near_modes_final"] <= 1


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


def test_chapter_3_record_supports_what_the_chapter_says():
    # Section 3.6 reads these patterns off the record; if a re-recording changes
    # them, the prose must change too.
    rec = load_record("ch03-conditional")
    assert rec["command"].startswith("python tools/conditional_metrics.py")
    m = rec["models"]

    def mean(name, key):
        return sum(r[key] for r in m[name]["per_class"]) / 10

    def acc(name):
        return m[name]["class_accuracy"]["accuracy"]

    lower = sum(
        a["recall"] < c["recall"]
        for a, c in zip(m["acgan-fashion"]["per_class"], m["cgan-fashion"]["per_class"])
    )
    # AC-GAN: about cGAN's class accuracy, less within-class coverage
    assert abs(acc("acgan-fashion") - acc("cgan-fashion")) < 0.05
    assert lower >= 7 and mean("acgan-fashion", "recall") < mean(
        "cgan-fashion", "recall"
    )
    assert mean("acgan-fashion", "fid") > mean("cgan-fashion", "fid")
    assert m["acgan-fashion"]["cas"]["accuracy"] < m["cgan-fashion"]["cas"]["accuracy"]
    # the projection model follows its labels for well under half of its samples
    assert acc("projgan-fashion") < 0.5
    assert max(mean(n, "fid") for n in m) == mean("projgan-fashion", "fid")
    # CAS below the real-data baseline for every model
    assert all(x["cas"]["accuracy"] < rec["cas_real"]["accuracy"] for x in m.values())
    # real test images: the floor at this N
    assert rec["real_test"]["class_accuracy"]["accuracy"] > 0.85
