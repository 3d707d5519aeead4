"""``python -m inpaint_core train``: a run, its export, resume, and one-line errors for user mistakes."""
from __future__ import annotations

import pytest

from inpaint_core.cli.main import main
from inpaint_core.train.checkpoint import checkpoint_path, load_checkpoint
from inpaint_core.weights import load_weights

from .test_train_run import image_list

TINY = ["--size", "32", "--batch", "2", "--workers", "0", "--no-progress"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_export_resume(tmp_path, capsys):
    listing = image_list(tmp_path, 2)
    config = tmp_path / "tiny.yaml"
    config.write_text("critic_steps: 1\nwarmup_steps: 1\n")
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(listing), "--run-dir", str(run_dir), "--config", str(config), *TINY]
    assert main(args + ["--max-steps", "1"]) == 0
    assert "stopped at step 1" in capsys.readouterr().out
    _, card = load_weights(run_dir / "generator.safetensors")
    assert card.training["steps"] == 1 and card.training["config"]["critic_steps"] == 1

    config.write_text("gamma: 1.0\n")  # on resume a config file changes only the keys it names
    assert main(["train", "--run-dir", str(run_dir), "--resume", "--config", str(config), "--max-steps", "2",
                 "--no-progress"]) == 0
    assert "stopped at step 2" in capsys.readouterr().out  # the run's data and config were reused
    resumed = load_checkpoint(checkpoint_path(run_dir))["config"]
    assert (resumed["gamma"], resumed["critic_steps"], resumed["size"], resumed["max_steps"]) == (1.0, 1, 32, 2)

    assert main(["train", "--run-dir", str(run_dir), "--export", str(tmp_path / "g.safetensors")]) == 0
    _, card = load_weights(tmp_path / "g.safetensors")
    assert card.training["steps"] == 2 and card.channel_order == "RGB"


@pytest.mark.parametrize("extra, message", [
    (["--resume", "--size", "64"], "cannot change size"),
    (["--max-steps", "3"], "already holds a run"),
    (["--resume", "--init-weights", "x.safetensors"], "drop --init-weights"),
])
def test_resume_mistakes(tmp_path, capsys, extra, message):
    listing = image_list(tmp_path, 2)
    run_dir = tmp_path / "run"
    assert main(["train", "--data", str(listing), "--run-dir", str(run_dir), "--max-steps", "1",
                 "--warmup-steps", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["train", "--data", str(listing), "--run-dir", str(run_dir), *extra, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--data", "{tmp}/nothing"], "no such folder"),
    (["--data", "{tmp}/train.txt", "--size", "30"], "size must be"),
    (["--data", "{tmp}/train.txt", "--amp", "fp16", "--device", "cpu"], "CUDA"),
    (["--resume"], "no checkpoint"),
    (["--export", "{tmp}/g.safetensors"], "no checkpoint"),
    ([], "--data is required"),
])
def test_user_errors_are_one_line(tmp_path, capsys, args, message):
    image_list(tmp_path, 2)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["train", "--run-dir", str(tmp_path / "run"), *TINY, "--max-steps", "1", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_signal_to_the_whole_process_group_still_stops_cleanly(tmp_path):
    """Ctrl+C in a terminal signals every process of the job, data workers included (so does `pkill -f`):
    the workers must leave the stop to the main process, which finishes its step, saves and exports."""
    import os
    import signal
    import subprocess
    import sys
    import time

    listing = image_list(tmp_path, 2)
    run_dir = tmp_path / "run"
    config = tmp_path / "tiny.yaml"
    config.write_text("critic_steps: 1\ncheckpoint_every: 1\n")
    args = [sys.executable, "-m", "inpaint_core", "train", "--data", str(listing), "--run-dir", str(run_dir),
            "--config", str(config), "--size", "32", "--batch", "2", "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not checkpoint_path(run_dir).exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "(SIGTERM)" in out
    step = load_checkpoint(checkpoint_path(run_dir))["trainer"]["step"]
    assert step >= 1 and load_weights(run_dir / "generator.safetensors")[1].training["steps"] == step
