"""The training step: who gets which gradients, warm-up modes, initialisation, mixed precision, masks."""
from __future__ import annotations

import copy
import math

import pytest
import torch

from inpaint_core.model.layers import GenConv
from inpaint_core.train.config import ConfigError, TrainConfig
from inpaint_core.train.trainer import Trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _images(n: int = 2, size: int = 32) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(module: torch.nn.Module, before: dict[str, torch.Tensor]) -> set[str]:
    return {k for k, v in module.named_parameters() if not torch.equal(v, before[k])}


def test_each_network_learns_only_from_its_own_loss():
    trainer = Trainer(TrainConfig(size=32, batch=2, critic_steps=1), torch.device("cpu"))
    g_before, d_before = _snapshot(trainer.generator), _snapshot(trainer.critics)
    losses = trainer.critic_step(_images())
    assert set(losses) == {"d_loss", "d_global", "d_local", "gp_global", "gp_local"}
    assert not _changed(trainer.generator, g_before)
    assert all(p.grad is None for p in trainer.generator.parameters())
    # the critic loss cannot move the dense biases: they cancel in mean(D(fake)) - mean(D(real))
    assert _changed(trainer.critics, d_before) == {k for k in d_before if not k.endswith("fc.bias")}

    d_after, d_grads = _snapshot(trainer.critics), [p.grad.clone() for p in trainer.critics.parameters()]
    losses, out, mask = trainer.generator_step(_images())
    assert {"g_global", "g_local", "l1_loss", "ae_loss", "g_loss", "hole_l1"} <= set(losses)
    assert not _changed(trainer.critics, d_after)
    assert all(torch.equal(p.grad, g) for p, g in zip(trainer.critics.parameters(), d_grads))
    assert all(p.requires_grad for p in trainer.critics.parameters())
    assert _changed(trainer.generator, g_before) == set(g_before)


def test_warmup_uses_no_critic_and_coarse_mode_trains_stage_one_only():
    trainer = Trainer(TrainConfig(size=32, batch=2, warmup_steps=1, warmup_mode="coarse"), torch.device("cpu"))
    g_before, d_before = _snapshot(trainer.generator), _snapshot(trainer.critics)
    calls = []
    losses, *_ = trainer.train_step(lambda: calls.append(1) or _images())
    assert len(calls) == 1 and trainer.step == 1  # no critic batches
    assert "g_global" not in losses and "d_loss" not in losses
    changed = _changed(trainer.generator, g_before)
    assert changed == {k for k in g_before if k.startswith("coarse.")}
    assert not _changed(trainer.critics, d_before)
    losses, *_ = trainer.train_step(lambda: calls.append(1) or _images())  # after warm-up: the full schedule
    assert len(calls) == 1 + 1 + 5 and "d_loss" in losses and "g_global" in losses
    assert _changed(trainer.generator, g_before) == set(g_before)  # stage 2 trains again


def test_critic_warmup_trains_the_critics_and_leaves_the_generator_alone():
    trainer = Trainer(TrainConfig(size=32, batch=2, critic_steps=2, warmup_steps=1, critic_warmup_steps=1),
                      torch.device("cpu"))
    trainer.train_step(_images)  # the L1 warm-up
    g_before, d_before = _snapshot(trainer.generator), _snapshot(trainer.critics)
    losses, *_ = trainer.train_step(_images)
    assert not _changed(trainer.generator, g_before)
    assert _changed(trainer.critics, d_before) == {k for k in d_before if not k.endswith("fc.bias")}
    assert "d_loss" in losses and "g_global" in losses and "l1_loss" in losses  # still logged
    trainer.train_step(_images)  # the critic warm-up is over: the generator follows the critics
    assert _changed(trainer.generator, g_before) == set(g_before)


def test_tf_default_initialisation():
    trainer = Trainer(TrainConfig(size=32), torch.device("cpu"))
    for model in (trainer.generator, trainer.critics):
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = module.weight[0].numel()
                fan_out = module.weight.shape[0] * module.weight[0, 0].numel()
                limit = math.sqrt(6 / (fan_in + fan_out))
                assert module.weight.abs().max() <= limit and module.weight.abs().max() > 0.9 * limit
                assert not module.bias.any()


def test_masks_per_sample_or_per_batch():
    import numpy as np

    rng = np.random.default_rng(0)
    per_sample = Trainer(TrainConfig(size=32, stroke_prob=0.5), torch.device("cpu"))
    mask, boxes = per_sample.sample_masks(4, rng)
    assert mask.shape == (4, 1, 32, 32) and boxes.shape == (4, 2) and set(mask.unique().tolist()) == {0.0, 1.0}
    shared = Trainer(TrainConfig(size=32, per_sample_masks=False), torch.device("cpu"))
    mask, boxes = shared.sample_masks(4, rng)
    assert mask.shape == (1, 1, 32, 32) and boxes.shape == (4, 2) and (boxes == boxes[0]).all()


def test_same_step_same_randomness():
    a = Trainer(TrainConfig(size=32, critic_steps=1), torch.device("cpu"))
    b = Trainer(TrainConfig(size=32, critic_steps=1), torch.device("cpu"))
    la, lb = a.critic_step(_images()), b.critic_step(_images())
    assert all(torch.equal(la[k], lb[k]) for k in la)


def test_bf16_keeps_the_attention_in_fp32():
    config = TrainConfig(size=32, batch=2, critic_steps=1, amp="bf16")
    trainer = Trainer(config, torch.device("cpu"))
    reference = Trainer(TrainConfig(size=32, batch=2, critic_steps=1), torch.device("cpu"))
    seen = {}
    for module in trainer.generator.modules():
        if isinstance(module, GenConv) and module.tf_scope == "pmconv9":  # reads the attention's output
            module.register_forward_pre_hook(lambda m, args: seen.update(dtype=args[0].dtype))
    losses = trainer.critic_step(_images())
    g_losses, out, _ = trainer.generator_step(_images())
    assert seen["dtype"] == torch.float32 and out.refined.dtype == torch.bfloat16
    assert all(torch.isfinite(v) for v in {**losses, **g_losses}.values())
    ref_losses, *_ = reference.generator_step(_images())
    # bf16 rounds each conv's inputs and weights to 8 bits (2^-9 = 2e-3 relative; the sums stay float32), about
    # 1 % after ~30 layers if those errors add up like a random walk (sqrt(30) * 2e-3); the loss, a mean of
    # |truth - output|, moves by at most as much. 5 % leaves a 4x margin.
    assert g_losses["l1_loss"].item() == pytest.approx(ref_losses["l1_loss"].item(), rel=0.05)
    with pytest.raises(ConfigError, match="CUDA"):
        Trainer(TrainConfig(size=32, amp="fp16"), torch.device("cpu"))


def test_state_dict_round_trip():
    a = Trainer(TrainConfig(size=32, critic_steps=1), torch.device("cpu"))
    a.train_step(_images)
    b = Trainer(TrainConfig(size=32, critic_steps=1, seed=5), torch.device("cpu"))
    b.load_state_dict(copy.deepcopy(a.state_dict()))  # Adam's load keeps references to the given tensors
    assert b.step == 1
    assert all(torch.equal(x, y) for x, y in zip(a.generator.state_dict().values(), b.generator.state_dict().values()))
    la, *_ = a.train_step(_images)
    b.config = a.config  # same seed: same masks
    lb, *_ = b.train_step(_images)
    assert all(torch.equal(la[k], lb[k]) for k in la)


def test_critics_can_learn_at_their_own_rate():
    """Adam's first step moves every parameter by about its learning rate: critics by critic_lr, the
    generator by lr; a resumed run takes both rates from its (possibly new) config."""
    config = TrainConfig(size=32, critic_steps=1, lr=1e-5, critic_lr=1e-3)
    trainer = Trainer(config, torch.device("cpu"))
    generator, critics = _snapshot(trainer.generator), _snapshot(trainer.critics)
    trainer.train_step(_images)

    def largest_move(module: torch.nn.Module, before: dict[str, torch.Tensor]) -> float:
        return max(float((v.detach() - before[k]).abs().max()) for k, v in module.named_parameters())

    # Adam's first step is lr * g / (|g| + 1e-8): lr itself wherever |g| >> 1e-8. Read back as a difference of
    # float32 parameters of size |p| <= 1, it is off by at most 2^-24 * |p| / lr: 6e-3 relative for lr 1e-5.
    assert largest_move(trainer.critics, critics) == pytest.approx(1e-3, rel=0.05)
    assert largest_move(trainer.generator, generator) == pytest.approx(1e-5, rel=0.05)
    resumed = Trainer(TrainConfig(size=32, critic_steps=1, lr=2e-5), torch.device("cpu"))
    resumed.load_state_dict(copy.deepcopy(trainer.state_dict()))
    assert [g["lr"] for g in resumed.opt_d.param_groups] == [2e-5]  # critic_lr unset: the new lr
    assert TrainConfig().critic_learning_rate == TrainConfig().lr
    with pytest.raises(ConfigError, match="critic_lr"):
        TrainConfig(critic_lr=0.0).validate()
