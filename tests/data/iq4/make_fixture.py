#!/usr/bin/env python3
"""Extracts the iq4 part of shared/testdata/quant/quant_vectors.gguf into raw
little-endian files for tests/test_iq4.cpp (4 rows x 1024):
  x.f32 y.f32                       inputs
  <t>.q                             x quantized by ggml (iq4_nl: 576 B/row, iq4_xs: 544 B/row)
  <t>.deq.f32                       <t>.q dequantized by ggml
  <t>.ref_err.f32 <t>.dot.f32       per-row RMSE of deq vs x; dot of q with y quantized
Usage: make_fixture.py /work/shared/testdata/quant/quant_vectors.gguf"""
import sys
from gguf import GGUFReader

r = GGUFReader(sys.argv[1])
t = {x.name: x for x in r.tensors}
out = {"x.f32": "x", "y.f32": "y"}
for ty in ("iq4_nl", "iq4_xs"):
    out[f"{ty}.q"] = f"q.{ty}"
    for part in ("deq", "ref_err", "dot"):
        out[f"{ty}.{part}.f32"] = f"{part}.{ty}"
for fname, tname in out.items():
    with open(fname, "wb") as f:
        f.write(t[tname].data.tobytes())
