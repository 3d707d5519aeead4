"""The generator, the critics, their optimisers and one training step of the official schedule.

One step = ``critic_steps`` critic updates (each on its own batch and mask, against a generator forward pass
without gradients), then one generator update on another batch. During warm-up the critics are neither
trained nor used; during the critic warm-up that follows, the critics train and the generator is not updated
(its losses on the step's batch are still computed, for the logs). Every random choice of a step (masks,
interpolation factors) comes from a generator keyed by (seed, rank, step, sub-step), so a step is
reproducible from its number alone.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..masks import TrainingMasks
from ..model.critics import Critics
from ..model.generator import GeneratorOutput, InpaintGenerator
from ..weights import load_generator_state
from .config import ConfigError, TrainConfig
from .distributed import Processes
from .losses import crop, gradient_penalty, hole_l1, interpolates, reconstruction_losses, wgan_losses

Losses = dict[str, torch.Tensor]


def tf_default_init(model: nn.Module) -> None:
    """TF1's defaults for ``conv2d``/``dense``, which the official models were trained from: Glorot-uniform
    kernels, zero biases (PyTorch's default init differs)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """None for "off"; bf16 anywhere; fp16 on CUDA only (with loss scaling). The generator's contextual
    attention computes in fp32 under autocast regardless (its softmax scale of 10 amplifies rounding)."""
    if amp == "off":
        return None
    if amp == "fp16" and device.type != "cuda":
        raise ConfigError("amp fp16 needs a CUDA device; use bf16 on the CPU")
    return torch.bfloat16 if amp == "bf16" else torch.float16


def _wrap(model: nn.Module, procs: Processes, device: torch.device) -> nn.Module:
    """DDP over the parameters that require gradients now (so it must be rebuilt when that set changes)."""
    if not procs.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


class Trainer:
    """Models, optimisers and the training step; no files and no data loading (see ``run.py``)."""

    def __init__(self, config: TrainConfig, device: torch.device, procs: Processes = Processes(),
                 generator_state: dict[str, torch.Tensor] | None = None, init_source: str = "") -> None:
        self.config, self.device, self.procs = config, device, procs
        torch.manual_seed(config.seed)  # identical initial weights in every process (DDP also broadcasts them)
        self.generator = InpaintGenerator()
        self.critics = Critics(config.size, config.local_size)
        tf_default_init(self.generator)
        tf_default_init(self.critics)
        if generator_state is not None:
            load_generator_state(self.generator, generator_state, init_source)
        self.generator.to(device)
        self.critics.to(device)

        self.amp_dtype = autocast_dtype(config.amp, device)
        self.generator_ddp: nn.Module = self.generator
        self._stage2_frozen: bool | None = None  # set (and the generator wrapped) by the first generator step
        self.critics_ddp = _wrap(self.critics, procs, device)

        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.critics.parameters(), lr=config.critic_learning_rate, betas=betas)
        fp16 = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(device.type, enabled=fp16)
        self.masks = TrainingMasks(config.size, config.local_size, config.delta, config.margin, config.stroke_prob)
        self.step = 0

    # --- randomness -------------------------------------------------------------------------------------------
    def rng(self, sub: int) -> np.random.Generator:
        """The generator of sub-step ``sub`` (critic steps 0..k-1, generator step k) of the current step."""
        return np.random.default_rng((self.config.seed, self.procs.rank, self.step, sub))

    def sample_masks(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(mask ``[n or 1, 1, H, W]`` float, boxes ``[n, 2]`` top-left of each sample's local crop)."""
        count = n if self.config.per_sample_masks else 1
        masks, boxes = zip(*(self.masks.sample(rng) for _ in range(count)))
        mask = torch.from_numpy(np.stack(masks)[:, None].astype(np.float32)).to(self.device)
        tops_lefts = torch.tensor([[b.top, b.left] for b in boxes]).expand(n, 2)
        return mask, tops_lefts

    # --- steps ------------------------------------------------------------------------------------------------
    @property
    def in_warmup(self) -> bool:
        return self.step < self.config.warmup_steps

    @property
    def in_critic_warmup(self) -> bool:
        return 0 <= self.step - self.config.warmup_steps < self.config.critic_warmup_steps

    @property
    def coarse_only(self) -> bool:
        """Warming up stage 1 alone (the official PRETRAIN_COARSE_NETWORK)."""
        return self.in_warmup and self.config.warmup_mode == "coarse"

    def _prepare_generator(self) -> None:
        """Freeze stage 2 while only stage 1 trains (its parameters get no gradient, and DDP would wait for
        them), thaw it afterwards; rewrap the generator for DDP whenever that changes."""
        if self._stage2_frozen == self.coarse_only:
            return
        self.generator.refine.requires_grad_(not self.coarse_only)
        self.generator_ddp = _wrap(self.generator, self.procs, self.device)
        self._stage2_frozen = self.coarse_only

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def critic_step(self, images: torch.Tensor, sub: int = 0) -> Losses:
        """One critic update: WGAN loss of the composited fill against the truth, plus the masked penalty."""
        cfg, size = self.config, self.config.local_size
        rng = self.rng(sub)
        mask, boxes = self.sample_masks(images.shape[0], rng)
        with torch.no_grad(), self.autocast():
            refined = self.generator(images, mask).refined.float()
        fake = refined * mask + images * (1.0 - mask)
        real_local, fake_local = crop(images, boxes, size), crop(fake, boxes, size)
        alpha = torch.from_numpy(rng.random((2, images.shape[0]), dtype=np.float32)).to(self.device)
        mixed = interpolates(images, fake, alpha[0])
        mixed_local = interpolates(real_local, fake_local, alpha[1])
        with self.autocast():
            scores_global, scores_local = self.critics_ddp(torch.cat([images, fake]),
                                                           torch.cat([real_local, fake_local]))
            mixed_global_scores, mixed_local_scores = self.critics_ddp(mixed, mixed_local)
        d_global, _ = wgan_losses(*scores_global.float().chunk(2))
        d_local, _ = wgan_losses(*scores_local.float().chunk(2))
        scale = self.scaler_d.get_scale() if self.scaler_d.is_enabled() else 1.0
        gp_global = gradient_penalty(mixed_global_scores, mixed, mask, scale)
        gp_local = gradient_penalty(mixed_local_scores, mixed_local, crop(mask, boxes, size), scale)
        loss = d_global + d_local + cfg.wgan_gp_lambda * (gp_global + gp_local)
        self._update(loss, self.opt_d, self.scaler_d)
        losses = {"d_loss": loss, "d_global": d_global, "d_local": d_local, "gp_global": gp_global,
                  "gp_local": gp_local}
        return {k: v.detach() for k, v in losses.items()}

    def generator_step(self, images: torch.Tensor) -> tuple[Losses, GeneratorOutput, torch.Tensor]:
        """One generator update; also returns its output and mask for pictures."""
        cfg, size = self.config, self.config.local_size
        gan = not self.in_warmup
        mask, boxes = self.sample_masks(images.shape[0], self.rng(cfg.critic_steps))
        self._prepare_generator()
        coarse_only, update = self.coarse_only, not self.in_critic_warmup
        with torch.set_grad_enabled(update), self.autocast():
            out = self.generator_ddp(images, mask)
        x1, x2 = out.coarse.float(), out.refined.float()
        l1, ae = reconstruction_losses(images, x1, None if coarse_only else x2, mask, boxes, size, cfg.gamma,
                                       cfg.coarse_l1_alpha)
        loss = cfg.l1_loss_alpha * l1 + cfg.ae_loss_alpha * ae
        losses = {"l1_loss": l1, "ae_loss": ae}
        if gan:
            fake = x2 * mask + images * (1.0 - mask)
            self.critics.requires_grad_(False)  # the generator's loss must not leave gradients in the critics
            try:
                with self.autocast():  # (no graph in the critic warm-up: fake has none, the critics are frozen)
                    scores_global, scores_local = self.critics(fake, crop(fake, boxes, size))
            finally:
                self.critics.requires_grad_(True)
            g_global, g_local = -scores_global.float().mean(), -scores_local.float().mean()
            loss = loss + cfg.gan_loss_alpha * (cfg.global_wgan_loss_alpha * g_global + g_local)
            losses.update(g_global=g_global, g_local=g_local)
        if update:
            self._update(loss, self.opt_g, self.scaler_g)
        losses.update(g_loss=loss, hole_l1=hole_l1(images, x1 if coarse_only else x2, mask))
        return {k: v.detach() for k, v in losses.items()}, out, mask

    def train_step(self, next_batch: Callable[[], torch.Tensor]) -> tuple[Losses, GeneratorOutput, torch.Tensor,
                                                                           torch.Tensor]:
        """One full step (critic updates unless warming up, then the generator update); advances ``step``.
        Returns the losses (critic ones averaged over the critic updates), the generator's output, its mask and
        the generator step's images."""
        critic_losses: list[Losses] = []
        if not self.in_warmup:
            critic_losses = [self.critic_step(next_batch(), sub) for sub in range(self.config.critic_steps)]
        images = next_batch()
        losses, out, mask = self.generator_step(images)
        for key in critic_losses[0] if critic_losses else ():
            losses[key] = torch.stack([c[key] for c in critic_losses]).mean()
        self.step += 1
        return losses, out, mask, images

    @staticmethod
    def _update(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> None:
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    # --- state ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "generator": self.generator.state_dict(),
            "critics": self.critics.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.generator.load_state_dict(state["generator"])
        self.critics.load_state_dict(state["critics"])
        rates = {"opt_g": self.config.lr, "opt_d": self.config.critic_learning_rate}
        for optimizer, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            optimizer.load_state_dict(state[key])
            for group in optimizer.param_groups:  # the current config wins (e.g. a new --lr on resume)
                group.update(lr=rates[key], betas=(self.config.beta1, self.config.beta2))
        for scaler, key in ((self.scaler_g, "scaler_g"), (self.scaler_d, "scaler_d")):
            if state[key]:  # empty when the checkpoint's run had no fp16 loss scaling
                scaler.load_state_dict(state[key])
