"""Invariants (a) and (e): an interrupt of any kind at any epoch, then --resume, ends as the uninterrupted run.

Each example draws a whole configuration from OPTIONS, runs it uninterrupted, then runs it again
killed by a real signal (SIGINT, SIGTERM, SIGHUP or SIGKILL) at the end of a drawn epoch (once, or
a second time during the --resume), resumes to the end and compares weights, checkpoint (optimizer
and callback state, generators), history.csv and summary.json.  Nothing may be left beside the run,
no completed epoch lost, no other run touched; half of the examples reach the run through a link.
"""

from __future__ import annotations

import json
import os
import shutil

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fcnet.train.options import read_toml
from tests.invariants.harness import fcnet, history_rows, killed_at, sha, strict_json, without_timing, write_toml
from tests.invariants.options_space import configs, count, examples

CODES = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129, "SIGKILL": -9}
FULL_RUNS: dict = {}  # the configuration's TOML → its uninterrupted run (None: it diverged)


@settings(max_examples=examples(4, 80), deadline=None, suppress_health_check=list(HealthCheck))
@given(cfg=configs(), cut=st.integers(1, 4), cut2=st.integers(1, 3), sig=st.sampled_from(sorted(CODES)),
       twice=st.booleans(), via_link=st.booleans())
def test_interrupt_then_resume_equals_the_uninterrupted_run(tmp_path_factory, cfg, cut, cut2, sig, twice, via_link):
    d = tmp_path_factory.mktemp("resume")
    toml = write_toml(d / "cfg.toml", cfg)
    text = toml.read_text()
    if text not in FULL_RUNS:  # one uninterrupted run per configuration, copied for each example drawing it
        ref = tmp_path_factory.mktemp("full")
        shutil.copy(toml, ref / "cfg.toml")
        code, log = fcnet(["train", "--config", "cfg.toml", "--out", "full", "--quiet"], ref)
        FULL_RUNS[text] = ref / "full" if code == 0 else None
    assume(FULL_RUNS[text] is not None)  # a configuration that diverges is invariant (f)'s
    shutil.copytree(FULL_RUNS[text], d / "full")
    count("(a)(e) interrupt at any epoch, then --resume")
    shutil.copytree(d / "full", d / "other")
    other = sha(d / "other")
    epochs = json.loads((d / "full" / "summary.json").read_text())["epochs"]  # early stopping may end it sooner
    every = cfg["checkpoint_every"]
    (d / "cut").mkdir()
    target = "cut"
    if via_link:
        (d / "link").symlink_to(d / "cut", target_is_directory=True)
        target = "link"

    def interrupt(at: int, args: list) -> None:
        code, log = killed_at(at, sig, args, d)
        assert code == (CODES[sig] if at <= epochs else 0), log
        if at <= epochs:  # no completed epoch lost (SIGKILL: those saved, every --checkpoint-every epochs)
            want = at if sig != "SIGKILL" else max(at // every * every, before)
            path = d / "cut" / "checkpoint" / "state.json"
            state = strict_json(path) if path.is_file() else {"epoch": 0, "history": []}
            assert state["epoch"] == want and len(state["history"]) == want, (state["epoch"], want, log)
        assert sha(d / "other") == other

    before = 0
    interrupt(cut, ["train", "--config", toml, "--out", target])
    if not (d / "cut" / "checkpoint" / "state.json").is_file():
        assert sig == "SIGKILL" and cut < every  # killed before the first checkpoint: nothing to resume
        code, log = fcnet(["train", "--config", toml, "--out", target, "--quiet"], d)  # the same command again
        assert code == 0, log
        full, cut_ = d / "full", d / "cut"
        assert sorted(os.listdir(cut_)) == sorted(os.listdir(full))
        assert (cut_ / "model.safetensors").read_bytes() == (full / "model.safetensors").read_bytes()
        assert sha(d / "other") == other
        return
    if twice:
        before = json.loads((d / "cut" / "checkpoint" / "state.json").read_text())["epoch"]
        if before < epochs:
            interrupt(before + cut2, ["train", "--resume", target])
    code, log = fcnet(["train", "--resume", target, "--quiet"], d)
    assert code == 0, log
    full, cut_ = d / "full", d / "cut"
    assert sorted(os.listdir(cut_)) == sorted(os.listdir(full))  # no lock, staging or temporary file left
    assert sorted(os.listdir(d)) == sorted(["cfg.toml", "full", "cut", "other", *(["link"] if via_link else [])])
    for name in ("model.safetensors", "checkpoint/model.safetensors", "model.json"):
        assert (cut_ / name).read_bytes() == (full / name).read_bytes(), name
    configs_ = [read_toml(r / "config.toml") for r in (cut_, full)]
    assert [{k: v for k, v in c.items() if k != "out"} for c in configs_] == \
        [{k: v for k, v in configs_[1].items() if k != "out"}] * 2
    for name in ("summary.json", "checkpoint/state.json"):
        assert without_timing(strict_json(cut_ / name)) == without_timing(strict_json(full / name)), name
    assert history_rows(cut_ / "history.csv") == history_rows(full / "history.csv")
    assert sha(d / "other") == other
