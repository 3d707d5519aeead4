"""Training runs on real images: exact resume, loss going down, time budget, export, init weights."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_core.model.generator import InpaintGenerator
from inpaint_core.train.checkpoint import checkpoint_path, load_checkpoint
from inpaint_core.train.config import TrainConfig
from inpaint_core.train.run import TrainingDiverged, objective, train
from inpaint_core.train.trainer import Trainer
from inpaint_core.weights import DEFAULT_WEIGHTS, ModelCard, load_weights, read_card, save_weights

from .conftest import TRAIN_DIR


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def image_list(tmp_path: Path, count: int) -> Path:
    """A list file of the first ``count`` training images (never the eval set)."""
    paths = sorted(TRAIN_DIR.glob("*.jpg"))[:count]
    if len(paths) < count:
        pytest.skip("shared/data/train is not present beside the repo")
    listing = tmp_path / "train.txt"
    listing.write_text("\n".join(map(str, paths)) + "\n")
    return listing


def tiny(**changes) -> TrainConfig:
    values = dict(size=32, batch=2, workers=0, critic_steps=1, log_every=1, image_every=2, checkpoint_every=100)
    values.update(changes)
    return TrainConfig(**values)


def test_resume_continues_bit_identically(tmp_path):
    """One L1 warm-up step, then adversarial ones: the checkpoint at step 2 holds trained critics and both
    optimisers' moments, and the step after the resume must use all of them as the straight run did."""
    listing = image_list(tmp_path, 4)
    straight = train(tiny(warmup_steps=1, max_steps=3), listing, tmp_path / "straight", progress=False)
    train(tiny(warmup_steps=1, max_steps=2), listing, tmp_path / "resumed", progress=False)
    state = load_checkpoint(checkpoint_path(tmp_path / "resumed"))
    assert state["trainer"]["step"] == 2 and state["config"] == tiny(warmup_steps=1, max_steps=2).to_dict()
    assert state["trainer"]["opt_d"]["state"] and state["trainer"]["opt_g"]["state"]  # critics trained at step 2
    resumed = train(tiny(warmup_steps=1, max_steps=3), listing, tmp_path / "resumed", resume_state=state,
                    progress=False)
    assert resumed.step == straight.step == 3
    assert {"d_loss", "gp_global", "g_global"} <= set(resumed.losses)  # step 3 was adversarial
    assert resumed.losses == straight.losses  # the step after the resume, every loss, to the last bit
    for a, b in zip(straight.trainer.generator.state_dict().values(), resumed.trainer.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_time_budget_stops_cleanly_with_checkpoint_and_export(tmp_path):
    listing = image_list(tmp_path, 2)
    result = train(tiny(max_steps=50, max_minutes=1e-6, gan_loss_alpha=1e-4), listing, tmp_path / "run",
                   progress=False)
    assert result.stopped_by == "max_minutes" and result.step == 1
    assert load_checkpoint(result.checkpoint)["trainer"]["step"] == 1
    state, card = load_weights(result.export)
    assert card.channel_order == "RGB" and card.training["steps"] == 1 and card.training["size"] == 32
    assert card.training["data"] == str(listing) and card.training["images"] == 2 and "date" in card.training
    assert card.training["hardware"].startswith("CPU, ")
    assert card.training["objective"].startswith("generator: 0.0001 * (1 * WGAN global + WGAN local) + 1.2 * box L1")
    assert card.training["objective"].endswith("; 1 step of the full objective")
    assert set(card.metrics["losses"]) >= {"g_loss", "d_loss", "hole_l1"}
    InpaintGenerator().load_state_dict(state)
    assert (tmp_path / "run" / "config.yaml").is_file() and any((tmp_path / "run" / "tb").iterdir())


def test_the_objective_names_the_weights_and_phases_of_the_config_that_ran():
    config = tiny(warmup_steps=3, warmup_mode="coarse", critic_warmup_steps=4, gamma=1.0, gan_loss_alpha=2e-4)
    warm_only = objective(config.to_dict(), 2)
    assert warm_only.startswith("generator: 1.2 * box L1 (spatial discount gamma 1)") and "WGAN" not in warm_only
    assert warm_only.endswith("; no critics; 2 steps of the L1 terms alone (stage 1 only)")
    everything = objective(config.to_dict(), 10)
    assert everything.startswith("generator: 0.0002 * (1 * WGAN global + WGAN local) + 1.2 * box L1")
    assert everything.endswith("3 steps of the L1 terms alone (stage 1 only), then 4 steps training the critics "
                               "alone, then 3 steps of the full objective")


def test_the_shipped_model_card_states_the_objective_of_its_own_config():
    card = read_card(DEFAULT_WEIGHTS)
    assert card.training["objective"] == objective(card.training["config"], card.training["steps"])
    assert card.training["objective"].startswith("generator: 0.0001 * (")  # gan_loss_alpha 1e-4, as run


def test_init_weights_keep_their_channel_order(tmp_path):
    listing = image_list(tmp_path, 2)
    torch.manual_seed(1)
    start = InpaintGenerator().state_dict()
    weights = save_weights(tmp_path / "official.safetensors", start,
                           ModelCard(name="converted", channel_order="BGR", notes="CC BY-NC 4.0"))
    result = train(tiny(max_steps=1, lr=0.0, warmup_steps=1), listing, tmp_path / "run", init_weights=weights,
                   progress=False)
    state, card = load_weights(result.export)
    assert card.channel_order == "BGR" and card.notes == "CC BY-NC 4.0" and "official.safetensors" in card.source
    assert all(torch.equal(state[k], v) for k, v in start.items())  # lr 0: the weights it started from


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_step = Trainer.train_step

    def step_going_nan_at_3(self, next_batch):
        losses, *rest = real_step(self, next_batch)
        if self.step >= 3:
            losses["d_loss"] = torch.tensor(float("nan"))
        return (losses, *rest)

    monkeypatch.setattr(Trainer, "train_step", step_going_nan_at_3)
    listing = image_list(tmp_path, 2)
    with pytest.raises(TrainingDiverged, match=r"d_loss became NaN or infinite between steps 3 and 4; .* step 2"):
        train(tiny(max_steps=10, log_every=2, checkpoint_every=2), listing, tmp_path / "run", progress=False)
    assert load_checkpoint(checkpoint_path(tmp_path / "run"))["trainer"]["step"] == 2
    assert not (tmp_path / "run" / "generator.safetensors").exists()


def test_sigterm_ends_the_step_then_saves_and_exports(tmp_path, monkeypatch):
    """`kill` (or Ctrl+C) on a long run loses nothing: the run stops after the step it is in, with checkpoint
    and exported generator, and a second signal is no longer caught."""
    import os
    import signal

    listing = image_list(tmp_path, 2)
    real_step = Trainer.train_step
    after_first_signal = []

    def step_then_signal(self, next_batch):
        out = real_step(self, next_batch)
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
            after_first_signal.append(signal.getsignal(signal.SIGTERM))
        return out

    monkeypatch.setattr(Trainer, "train_step", step_then_signal)
    result = train(tiny(max_steps=50), listing, tmp_path / "run", progress=False)
    assert result.stopped_by == "SIGTERM" and result.step == 2
    assert after_first_signal == [signal.SIG_DFL]  # a second one would end the process at once
    assert load_checkpoint(result.checkpoint)["trainer"]["step"] == 2
    assert load_weights(result.export)[1].training["steps"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored after the run
