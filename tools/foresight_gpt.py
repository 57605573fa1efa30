#!/usr/bin/env python3
"""Rebuild a GPT that Foresight trained, in plain PyTorch, from `foresight export --format pytorch`.

    foresight export --run runs/ntp --format pytorch        # writes runs/ntp/model.pth and model.json
    python3 tools/foresight_gpt.py runs/ntp/model.pth       # loads it, prints its size and a forward pass

    import foresight_gpt
    model, config = foresight_gpt.load("runs/ntp/model.pth")
    logits = model(tokens)                                  # (B, T) int64 -> (B, T, vocab_size)

The architecture is nanoGPT's (Karpathy's model.py): token and learned position embeddings (or rotary
positions), pre-LayerNorm blocks of multi-head attention and a 4x GELU MLP, all with biases, a final
LayerNorm, and an output layer tied to the token embedding. The parameter names are nanoGPT's, so its
GPT loads the file too (positions: learned, causal: true). Needs PyTorch >= 1.13 and nothing else.

Foresight may have trained the multiplies in bf16 (config "trained_precision"); this module computes
in fp32, so such a model's logits here differ from Foresight's by bf16 rounding (about 1e-2), an fp32
model's by float rounding only. Tensors a method trains beside the GPT (extra heads, a second encoder)
are in the file under "foresight." and listed in config["extra_tensors"]; this module ignores them.
"""
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config["n_head"]
        self.c_attn = nn.Linear(config["n_embd"], 3 * config["n_embd"])
        self.c_proj = nn.Linear(config["n_embd"], config["n_embd"])
        self.rotary = config["positions"] == "rotary"

    def forward(self, x, mask):  # x: (B, T, C), mask: (T, T) bool, True where a query may attend to a key
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if self.rotary:
            q, k = rotate(q), rotate(k)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])  # (B, H, T, T)
        scores = scores.masked_fill(~mask, float("-inf"))
        y = scores.softmax(dim=-1) @ v  # (B, H, T, D)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


def rotate(x):
    """Rotary positions, half-split form: channels (i, i + D/2) at position p turn by p * 10000^(-2i/D)."""
    T, D = x.shape[-2], x.shape[-1]
    half = D // 2
    frequencies = torch.exp(torch.arange(half, dtype=torch.float32) * (-2 * math.log(10_000) / D))
    angles = torch.arange(T, dtype=torch.float32)[:, None] * frequencies[None, :]  # (T, D/2)
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config["n_embd"], 4 * config["n_embd"])
        self.c_proj = nn.Linear(4 * config["n_embd"], config["n_embd"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact (erf) GELU, as Foresight


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config["n_embd"], eps=config["layer_norm_eps"])
        self.attn = SelfAttention(config)
        self.ln_2 = nn.LayerNorm(config["n_embd"], eps=config["layer_norm_eps"])
        self.mlp = MLP(config)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        modules = dict(
            wte=nn.Embedding(config["vocab_size"], config["n_embd"]),
            h=nn.ModuleList([Block(config) for _ in range(config["n_layer"])]),
            ln_f=nn.LayerNorm(config["n_embd"], eps=config["layer_norm_eps"]),
        )
        if config["positions"] == "learned":
            modules["wpe"] = nn.Embedding(config["block_size"], config["n_embd"])
        self.transformer = nn.ModuleDict(modules)
        self.lm_head = nn.Linear(config["n_embd"], config["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def attention_mask(self, T):
        """(T, T): causal, except that the last bidirectional_tail positions of the block also see one another."""
        query, key = torch.arange(T)[:, None], torch.arange(T)[None, :]
        if not self.config["causal"]:
            return torch.ones(T, T, dtype=torch.bool)
        allowed = query >= key
        tail = self.config["bidirectional_tail"]
        if tail > 0:
            start = self.config["block_size"] - tail
            allowed = allowed | ((query >= start) & (key >= start))
        return allowed

    def forward(self, tokens):  # (B, T) int64 -> (B, T, V)
        B, T = tokens.shape
        assert T <= self.config["block_size"], f"{T} tokens, but the block holds {self.config['block_size']}"
        x = self.transformer.wte(tokens)
        if "wpe" in self.transformer:
            x = x + self.transformer.wpe(torch.arange(T))
        mask = self.attention_mask(T)
        for block in self.transformer.h:
            x = block(x, mask)
        return self.lm_head(self.transformer.ln_f(x))


def load(weights_path, config_path=None):
    """The GPT in `weights_path` (from foresight export --format pytorch), with its config (default: the .json beside it)."""
    weights_path = Path(weights_path)
    config = json.loads(Path(config_path or weights_path.with_suffix(".json")).read_text())
    model = GPT(config)
    state = torch.load(weights_path, map_location="cpu")
    gpt_state = {name: tensor for name, tensor in state.items() if not name.startswith("foresight.")}
    model.load_state_dict(gpt_state, strict=True)
    return model.eval(), config


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tools/foresight_gpt.py RUN/model.pth")
    model, config = load(sys.argv[1])
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{config['method']} on {config['task']}: {config['n_layer']} layers x {config['n_embd']} wide, "
          f"{config['n_head']} heads, {parameters:,} parameters (trained in {config['trained_precision']})")
    with torch.no_grad():
        tokens = torch.zeros(1, config["block_size"], dtype=torch.long)
        print("logits of an all-zero block:", tuple(model(tokens).shape))
