#!/usr/bin/env python3
"""Test helper for PyTorchExportTests: reads an export with real PyTorch and writes back what it found.

    check_export.py MODEL.pth TOKENS.bin B T OUT_DIR

Writes OUT_DIR/tensors.json (name, shape, file of each tensor torch.load returned, as raw little-endian
float32) and OUT_DIR/logits.bin: the logits of tools/foresight_gpt.py's GPT rebuilt from the export, on
the (B, T) int64 tokens in TOKENS.bin.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import foresight_gpt  # noqa: E402  (the documented way to use an export)

weights, tokens_file, batch, length, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
out.mkdir(parents=True, exist_ok=True)

state = torch.load(weights, map_location="cpu")
listing = []
for index, (name, tensor) in enumerate(state.items()):
    file = f"tensor-{index}.bin"
    tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(out / file)
    listing.append({"name": name, "shape": list(tensor.shape), "file": file})
(out / "tensors.json").write_text(json.dumps(listing))

model, _ = foresight_gpt.load(weights)
tokens = torch.from_numpy(np.fromfile(tokens_file, dtype="<i8").reshape(batch, length))
with torch.no_grad():
    model(tokens).numpy().astype("<f4").tofile(out / "logits.bin")
