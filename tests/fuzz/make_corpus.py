#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_gguf: small valid GGUF files (each < 64 KB)
encoded here byte by byte, independently of ember's Writer, plus one made
from the start of a real vocabulary.

usage: make_corpus.py SHARED_DIR OUT_DIR
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
              BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}

# ggml type id -> (block size, bytes per block)
GGML = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q8_0": (8, 32, 34),
        "q4_K": (12, 256, 144), "q6_K": (14, 256, 210), "i32": (26, 1, 4), "bf16": (30, 1, 2),
        "iq4_nl": (20, 32, 18)}


def gstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def payload(t, v):
    if t == STRING:
        return gstr(v)
    if t == ARRAY:
        elem, items = v
        return struct.pack("<IQ", elem, len(items)) + b"".join(payload(elem, x) for x in items)
    return struct.pack(SCALAR_FMT[t], v)


def gguf(kvs, tensors=(), version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ggml type name, shape, bytes or None)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + payload(t, v)
    datas, offset = [], 0
    for name, tname, shape, data in tensors:
        tid, bs, ts = GGML[tname]
        n = 1
        for d in shape:
            n *= d
        size = n // bs * ts
        data = data if data is not None else bytes((i * 37 + 11) & 0xFF for i in range(size))
        assert len(data) == size
        out += gstr(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        out += struct.pack("<IQ", tid, offset)
        datas.append(data)
        offset += (size + alignment - 1) // alignment * alignment
    if tensors:
        out += b"\0" * (-len(out) % alignment)
        for d in datas:
            out += d + b"\0" * (-len(d) % alignment)
    return out


def read_vocab_head(path, n):
    """The first n tokens, scores and token types of a vocab GGUF (a tiny parser for seeds only)."""
    data = open(path, "rb").read()
    pos = 24
    n_kv = struct.unpack_from("<Q", data, 16)[0]
    found = {}

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def rstr():
        nonlocal pos
        ln = rd("<Q")
        s = data[pos:pos + ln]
        pos += ln
        return s

    def rval(t):
        if t == STRING:
            return rstr()
        if t == ARRAY:
            elem, count = rd("<I"), rd("<Q")
            return (elem, [rval(elem) for _ in range(count)])
        return rd(SCALAR_FMT[t])

    for _ in range(n_kv):
        k = rstr().decode()
        t = rd("<I")
        found[k] = (t, rval(t))
    kvs = []
    for k, (t, v) in found.items():
        if t == ARRAY:
            v = (v[0], v[1][:n])
        kvs.append((k, t, v))
    return kvs


def main():
    shared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    seeds["empty_v3.bin"] = gguf([])
    seeds["empty_v2.bin"] = gguf([], version=2)
    seeds["all_scalars.bin"] = gguf([
        ("general.architecture", STRING, "llama"), ("t.u8", U8, 200), ("t.i8", I8, -7),
        ("t.u16", U16, 60000), ("t.i16", I16, -300), ("t.u32", U32, 4000000000), ("t.i32", I32, -5),
        ("t.f32", F32, 1e-5), ("t.bool", BOOL, True), ("t.u64", U64, 2**63), ("t.i64", I64, -2**40),
        ("t.f64", F64, 3.5), ("t.utf8", STRING, "h\u00e9llo \u4e16\u754c\n\t\"q\""),
    ])
    seeds["arrays.bin"] = gguf([
        ("a.strings", ARRAY, (STRING, ["<unk>", "<s>", "", "\u0120the"])),
        ("a.f32", ARRAY, (F32, [0.0, -1000.0, 0.5])), ("a.i32", ARRAY, (I32, [1, 2, 3, 6])),
        ("a.bool", ARRAY, (BOOL, [True, False])), ("a.u64", ARRAY, (U64, [2**64 - 1])),
        ("a.empty", ARRAY, (U8, [])),
        ("a.nested", ARRAY, (ARRAY, [(I16, [1, -1]), (STRING, ["x"]), (ARRAY, [(U8, [7])])])),
    ])
    seeds["tensors.bin"] = gguf(
        [("general.architecture", STRING, "llama"), ("llama.block_count", U32, 1)],
        [("token_embd.weight", "q4_K", [256, 2], None), ("output_norm.weight", "f32", [8], None),
         ("blk.0.attn_q.weight", "q8_0", [32, 4], None), ("blk.0.ffn_up.weight", "q6_K", [256, 1], None),
         ("x.f16", "f16", [3, 2, 2], None), ("x.i32", "i32", [2, 1, 1, 2], None),
         ("x.bf16", "bf16", [5], None), ("x.q4_0", "q4_0", [64], None), ("x.iq4_nl", "iq4_nl", [32], None)])
    seeds["aligned64.bin"] = gguf(
        [("general.alignment", U32, 64), ("general.name", STRING, "a")],
        [("a", "f32", [3], None), ("b", "f16", [7, 3], None)], alignment=64)
    seeds["tensors_v2.bin"] = gguf([("general.name", STRING, "v2")], [("t", "q8_0", [32, 2], None)], version=2)
    seeds["vocab_head.bin"] = gguf(read_vocab_head(os.path.join(shared, "testdata/tokenizer/ggml-vocab-llama-spm.gguf"), 300))
    for name, data in seeds.items():
        assert len(data) < 65536, name
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
