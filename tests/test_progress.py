"""Learner progress: every check(...) is recorded in a local JSON file, and
`gancourse progress` / homework.progress() show done / tried / not started."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
import torch.nn.functional as F

from gancourse import cli
from gancourse.homework import EXERCISES, PREDICTIONS, check, progress, tracking

# Exercises and predict-then-run questions are listed together.
ALL_IDS = [*EXERCISES, *PREDICTIONS]
CH01_IDS = [i for i in ALL_IDS if i.startswith("ch01.")]


def right_d_loss(lr, lf):
    return F.softplus(-lr).mean() + F.softplus(lf).mean()


def swapped_d_loss(lr, lf):
    return F.softplus(lr).mean() + F.softplus(-lf).mean()


def stub(*args):
    raise NotImplementedError


@pytest.fixture
def prog(tmp_path, monkeypatch):
    """A fresh progress file and a fresh once-per-session warning flag."""
    path = tmp_path / "sub" / "progress.json"
    monkeypatch.setenv("GANCOURSE_PROGRESS", str(path))
    monkeypatch.setattr(tracking, "_warned", False)
    return path


def test_env_var_moves_the_file(prog):
    assert tracking.progress_path() == prog


def test_default_location_is_the_platform_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("GANCOURSE_PROGRESS")
    monkeypatch.setattr(tracking.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert tracking.progress_path() == tmp_path / "xdg/gancourse/progress.json"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # invalid per the spec
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    want = tmp_path / "home/.local/share/gancourse/progress.json"
    assert tracking.progress_path() == want
    monkeypatch.setattr(tracking.sys, "platform", "darwin")
    assert tracking.progress_path() == (
        tmp_path / "home/Library/Application Support/gancourse/progress.json"
    )
    monkeypatch.setattr(tracking.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    assert tracking.progress_path() == tmp_path / "roaming/gancourse/progress.json"
    # never inside the repository
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setattr(tracking.sys, "platform", "linux")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert repo not in tracking.progress_path().parents


def test_the_suite_never_writes_the_real_file():
    # conftest.py points GANCOURSE_PROGRESS at a scratch folder for the session
    path = Path(os.environ["GANCOURSE_PROGRESS"])
    assert "gancourse-tests-" in str(path)


def test_check_records_each_verdict(prog):
    check("ch01.d_loss", stub, verbose=False)
    data = json.loads(prog.read_text())
    entry = data["exercises"]["ch01.d_loss"]
    assert entry["status"] == "not implemented" and entry["attempts"] == 1
    check("ch01.d_loss", swapped_d_loss, verbose=False)
    check("ch01.d_loss", right_d_loss, verbose=False)
    check("ch01.d_loss", swapped_d_loss, verbose=False)  # a later regression
    entry = json.loads(prog.read_text())["exercises"]["ch01.d_loss"]
    assert entry["attempts"] == 4
    assert entry["status"] == "failed"  # the last verdict
    assert entry["best"] == "passed"  # ... but it was done once
    assert entry["first"] <= entry["last"]
    assert not list(prog.parent.glob(".progress-*"))  # no temporary file left


def test_off_records_nothing(prog, monkeypatch):
    monkeypatch.setenv("GANCOURSE_PROGRESS", "off")
    check("ch01.d_loss", right_d_loss, verbose=False)
    assert tracking.progress_path() is None
    assert not prog.exists()


def test_statuses_aggregate_per_chapter(prog):
    check("ch01.d_loss", right_d_loss, verbose=False)  # done
    check("ch01.g_loss_nonsaturating", stub, verbose=False)  # stub: not started
    wrong_logit = lambda x, a, b, s: (x - a) ** 2 - (x - b) ** 2  # noqa: E731
    check("ch01.optimal_logit", wrong_logit, verbose=False)  # tried
    check("ch01.optimal_logit", wrong_logit, verbose=False)
    check("ch01.optimal_d", lambda p, q: p / (p + q), verbose=False)  # retired
    rows = {r.chapter: r for r in tracking.chapter_progress()}
    ch01 = rows["ch01"]
    assert ch01.done == ["ch01.d_loss"]
    assert ch01.tried == [("ch01.optimal_logit", "failed", 2)]  # no retired id
    assert set(ch01.not_started) == {
        "ch01.dcgan_up_block",
        "ch01.g_loss_nonsaturating",
        "ch01.train_step",
    } | {pid for pid in PREDICTIONS if pid.startswith("ch01.")}
    # every known exercise and question is listed, chapter by chapter
    assert set(rows) == {eid.split(".")[0] for eid in ALL_IDS}
    listed = sum(r.total for r in rows.values())
    assert listed == len(ALL_IDS)
    assert rows["ch02"].done == [] and rows["ch02"].tried == []


def test_corrupt_file_never_breaks_check(prog):
    prog.parent.mkdir(parents=True)
    prog.write_text("{not json")
    with pytest.warns(RuntimeWarning, match="damaged"):
        result = check("ch01.d_loss", right_d_loss, verbose=False)
    assert result  # the check itself is unaffected
    assert (prog.parent / "progress.json.corrupt").read_text() == "{not json"
    data = json.loads(prog.read_text())
    assert data["exercises"]["ch01.d_loss"]["status"] == "passed"
    # reading a damaged file for the table is tolerated too
    prog.write_text('["a list"]')
    assert tracking.chapter_progress()[0].done == []


def test_unwritable_file_warns_once(prog):
    prog.mkdir(parents=True)  # a folder where the file should be: cannot write
    with pytest.warns(RuntimeWarning, match="could not record") as seen:
        assert check("ch01.d_loss", right_d_loss, verbose=False)
        assert check("ch01.d_loss", right_d_loss, verbose=False)
    assert len([w for w in seen if "gancourse" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check("ch01.d_loss", right_d_loss, verbose=False)  # silent from now on


def test_progress_command_prints_the_table(prog, capsys):
    check("ch01.d_loss", right_d_loss, verbose=False)
    check("ch02.linear_critic", lambda r, f: r.mean() - f.mean(), verbose=False)
    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    assert str(prog) in out
    lines = out.splitlines()
    ch01 = next(line for line in lines if line.startswith("ch01 "))
    n = len(CH01_IDS)
    assert ch01.split() == ["ch01", f"1/{n}", "0", f"{n - 1}"]
    ch02 = next(line for line in lines if line.startswith("ch02 "))
    assert ch02.split()[2] == "1"  # one tried
    assert "linear_critic (failed, 1 attempt)" in out
    assert "d_loss" in out.split("ch01:")[1].split("ch02:")[0]
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[1] == f"1/{len(ALL_IDS)}"
    # the notebook helper prints the same table
    progress()
    assert capsys.readouterr().out.strip() == out.strip()


def test_progress_with_no_file_yet(prog, capsys):
    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    assert f"0/{len(ALL_IDS)}" in out
    assert not prog.exists()  # showing the table writes nothing
