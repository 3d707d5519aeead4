"""Training DeepFill v1 the way the official code does (WGAN-GP critics, discounted L1), resumable, DDP-ready."""
