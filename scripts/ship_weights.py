"""Make trained generator weights the shipped default: float16 safetensors in weights/, its sha256 beside it.

    .venv/bin/python scripts/ship_weights.py runs/NAME/generator.safetensors [--eval-json eval_out/metrics.json]
    .venv/bin/python scripts/ship_weights.py --refresh-card

The second form rewrites only the shipped file's model card: its objective is built again from the training
config the card records (``train.run.objective``), and the tensors are kept byte for byte (checked).

float16 halves the file (about 7 MB) and the repo stays lean; the engine loads it as float32. Before writing,
the same photos are filled with the float32 and the float16 weights and the difference is printed, so a
precision loss that would show cannot slip in (the script refuses a mean difference above 0.5 grey levels).
Photos for that check come from the training pool, never from the evaluation sets.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inpaint_core import Inpainter, read_image  # noqa: E402
from inpaint_core.train.run import objective  # noqa: E402
from inpaint_core.weights import (DEFAULT_SHA256_FILE, DEFAULT_WEIGHTS, load_weights, read_card,  # noqa: E402
                                  save_weights, sha256_of)

MAX_MEAN_LEVEL_DIFF = 0.5


def fidelity(fp32: Path, fp16: Path, photos: list[Path]) -> tuple[float, int]:
    """Mean and max absolute difference (grey levels) in the hole between the two weight files."""
    a, b = Inpainter(fp32, device="cpu"), Inpainter(fp16, device="cpu")
    diffs = []
    for path in photos:
        rgb = read_image(path).rgb[:256, :256]
        hole = np.zeros(rgb.shape[:2], bool)
        h, w = hole.shape
        hole[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = True
        diffs.append(np.abs(a.fill(rgb, hole).composite.astype(int) - b.fill(rgb, hole).composite.astype(int))[hole])
    all_diffs = np.concatenate(diffs)
    return float(all_diffs.mean()), int(all_diffs.max())


def tensor_bytes(path: Path) -> bytes:
    """A safetensors file's data section: everything after its header (the JSON header holds the card)."""
    data = path.read_bytes()
    return data[8 + int.from_bytes(data[:8], "little"):]


def record_sha256() -> str:
    digest = sha256_of(DEFAULT_WEIGHTS)
    DEFAULT_SHA256_FILE.write_text(f"{digest}  {DEFAULT_WEIGHTS.name}\n")
    return digest


def refresh_card() -> int:
    """The shipped tensors, unchanged, with the card's objective built from the config the card records."""
    from safetensors.torch import load_file

    card = read_card(DEFAULT_WEIGHTS)
    card.training["objective"] = objective(card.training["config"], card.training["steps"])
    staged = DEFAULT_WEIGHTS.with_name(DEFAULT_WEIGHTS.stem + ".staged.safetensors")
    save_weights(staged, load_file(str(DEFAULT_WEIGHTS)), card)  # as stored (float16): no cast
    if tensor_bytes(staged) != tensor_bytes(DEFAULT_WEIGHTS):
        staged.unlink()
        print("refused: the rewritten file's tensors differ from the shipped ones", file=sys.stderr)
        return 1
    staged.replace(DEFAULT_WEIGHTS)
    print(f"rewrote the card of {DEFAULT_WEIGHTS.relative_to(REPO)} (tensors byte-identical), sha256 "
          f"{record_sha256()}\nobjective: {card.training['objective']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path, nargs="?", help="generator safetensors written by `inpaint_core train`")
    parser.add_argument("--refresh-card", action="store_true",
                        help="instead: rebuild the shipped file's card from the config it records, same tensors")
    parser.add_argument("--eval-json", type=Path, help="metrics.json of `inpaint_core eval` to record in the card")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "train")
    parser.add_argument("--name", default="Inpaint Studio DeepFill v1 (default)")
    parser.add_argument("--history", help="how the weights got here before this run (earlier phases, hardware); "
                                          "replaces the notes inherited from the starting weights")
    args = parser.parse_args()
    if args.refresh_card != (args.weights is None):
        parser.error("give either the weights to ship or --refresh-card")
    if args.refresh_card:
        return refresh_card()

    state, card = load_weights(args.weights)
    card.name = args.name
    if args.history:
        card.notes = args.history
    if "Shipped as float16" not in card.notes:
        card.notes = (card.notes + " " if card.notes else "") + "Shipped as float16; loaded as float32."
    if args.eval_json:
        report = json.loads(args.eval_json.read_text())
        card.metrics["eval"] = {"protocol": report["protocol"],
                                "means": {method: figures["mean"] for method, figures in report["methods"].items()}}
    staged = DEFAULT_WEIGHTS.with_name(DEFAULT_WEIGHTS.stem + ".staged.safetensors")
    save_weights(staged, state, card, dtype=torch.float16)

    photos = sorted(args.photos.glob("*.jpg"))[:6]
    mean_diff, max_diff = fidelity(args.weights, staged, photos)
    print(f"float16 vs float32 on {len(photos)} training photos (centre hole): mean {mean_diff:.3f}, "
          f"max {max_diff} grey levels in the hole")
    if mean_diff > MAX_MEAN_LEVEL_DIFF:
        staged.unlink()
        print("refused: float16 changes the fills visibly", file=sys.stderr)
        return 1
    staged.replace(DEFAULT_WEIGHTS)
    digest = record_sha256()
    print(f"wrote {DEFAULT_WEIGHTS.relative_to(REPO)} ({DEFAULT_WEIGHTS.stat().st_size / 1e6:.1f} MB), sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
