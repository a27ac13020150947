#!/usr/bin/env python3
"""Extracts the K-quant test vectors of quant_vectors.gguf into small raw files.

x.f32, y.f32: the 4 x 1024 inputs (little-endian f32, row-major).
q.<type>.bin: x quantized by ggml's reference quantizer (4 rows of blocks).
expected.txt: per type and row, ggml's RMSE of its dequantized row, its dot with
y quantized to q8_K, and an FNV-1a 64 hash of the dequantized row's f32 bytes.
Usage: make_fixture.py <quant_vectors.gguf> <out dir>
"""
import sys
import numpy as np
from gguf import GGUFReader

TYPES = ["q2_K", "q3_K", "q4_K", "q5_K", "q6_K"]


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    src, out = sys.argv[1], sys.argv[2]
    t = {x.name: np.array(x.data) for x in GGUFReader(src).tensors}
    t["x"].astype("<f4").tofile(f"{out}/x.f32")
    t["y"].astype("<f4").tofile(f"{out}/y.f32")
    lines = ["# type row ref_rmse ref_dot deq_fnv1a64"]
    for ty in TYPES:
        t[f"q.{ty}"].tofile(f"{out}/q.{ty}.bin")
        deq = t[f"deq.{ty}"].astype("<f4")
        for r in range(4):
            h = fnv1a64(deq[r].tobytes())
            lines.append(f"{ty} {r} {float(t[f'ref_err.{ty}'][r])!r} {float(t[f'dot.{ty}'][r])!r} {h:016x}")
    with open(f"{out}/expected.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
