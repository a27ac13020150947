#!/usr/bin/env python3
"""Writes the expected `ember-gguf --hash` listing of each reference GGUF,
computed independently with the `gguf` Python package (GGUFReader), for
tests/test_gguf.cpp to compare against ember's own listing.

Mirrors ember::gguf::format_listing (src/gguf/dump.cpp) with ListingOptions
{max_items=8, max_string_bytes=256, tensor_hashes=true}: number and string
formatting rules here and in src/gguf/value.cpp must stay in step.

usage: make_listings.py SHARED_DIR OUT_DIR
"""
import glob
import math
import os
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType

MAX_ITEMS = 8
MAX_STRING = 256

TYPE_NAMES = {
    GGUFValueType.UINT8: "u8", GGUFValueType.INT8: "i8", GGUFValueType.UINT16: "u16",
    GGUFValueType.INT16: "i16", GGUFValueType.UINT32: "u32", GGUFValueType.INT32: "i32",
    GGUFValueType.FLOAT32: "f32", GGUFValueType.BOOL: "bool", GGUFValueType.STRING: "string",
    GGUFValueType.ARRAY: "array", GGUFValueType.UINT64: "u64", GGUFValueType.INT64: "i64",
    GGUFValueType.FLOAT64: "f64",
}

FNV_OFFSET = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3
MASK = (1 << 64) - 1


def fnv1a64(data: bytes, h: int = FNV_OFFSET) -> int:
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def fmt_float(v: float, single: bool) -> str:
    """Shortest decimal that reads back to v; fixed notation for exponents -5..15."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    max_digits = 9 if single else 17
    digits = 1
    while digits < max_digits:
        back = float("%.*e" % (digits - 1, v))
        if (np.float32(back) == np.float32(v)) if single else back == v:
            break
        digits += 1
    s = "%.*e" % (digits - 1, v)
    exponent = int(s[s.index("e") + 1:])
    if exponent < -5 or exponent > 15:
        return s
    return "%.*f" % (max(0, digits - 1 - exponent), v)


def escape(b: bytes) -> bytes:
    out = bytearray()
    for c in b:
        if c == 0x22:
            out += b'\\"'
        elif c == 0x5C:
            out += b"\\\\"
        elif c == 0x0A:
            out += b"\\n"
        elif c == 0x09:
            out += b"\\t"
        elif c == 0x0D:
            out += b"\\r"
        elif c < 0x20 or c == 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)


def show_string(b: bytes) -> bytes:
    cut = len(b)
    if cut > MAX_STRING:
        cut = MAX_STRING
        while cut > 0 and (b[cut] & 0xC0) == 0x80:
            cut -= 1
    out = b'"' + escape(b[:cut]) + b'"'
    if cut < len(b):
        out += b"... (%d bytes)" % len(b)
    return out


def show_scalar(t, part) -> bytes:
    if t == GGUFValueType.STRING:
        return show_string(bytes(part))
    x = part[0]
    if t == GGUFValueType.BOOL:
        return b"true" if x else b"false"
    if t == GGUFValueType.FLOAT32:
        return fmt_float(float(x), True).encode()
    if t == GGUFValueType.FLOAT64:
        return fmt_float(float(x), False).encode()
    return str(int(x)).encode()


def hash_suffix(h: int) -> bytes:
    return b" fnv1a64=%016x" % h


def field_line(field) -> bytes:
    t = field.types[0]
    line = b"  " + escape(field.name.encode()) + b": "
    if t == GGUFValueType.ARRAY:
        elem = field.types[1]
        if elem == GGUFValueType.ARRAY:
            raise SystemExit(f"{field.name}: nested arrays are not mirrored here")
        n = len(field.data)
        line += b"array<%s>[%d] = [" % (TYPE_NAMES[elem].encode(), n)
        shown = min(n, MAX_ITEMS)
        line += b", ".join(show_scalar(elem, field.parts[i]) for i in field.data[:shown])
        if shown < n:
            line += b", ..." if shown else b"..."
        line += b"]"
        # Elements as stored in the file: parts after key len, key, type, elem type, count.
        line += hash_suffix(fnv1a64(b"".join(bytes(p) for p in field.parts[5:])))
    else:
        line += TYPE_NAMES[t].encode() + b" = " + show_scalar(t, field.parts[-1])
        if t == GGUFValueType.STRING and len(bytes(field.parts[-1])) > MAX_STRING:
            line += hash_suffix(fnv1a64(bytes(field.parts[3]) + bytes(field.parts[4])))
    return line + b"\n"


def ggml_type_name(t) -> str:
    n = t.name.lower()
    return n[:-2] + "_K" if n.endswith("_k") else n


def listing(path: str) -> bytes:
    r = GGUFReader(path)
    fields = [f for name, f in r.fields.items() if not name.startswith("GGUF.")]
    out = b"GGUF version %d\n" % int(r.fields["GGUF.version"].parts[0][0])
    out += b"tensors: %d\n" % len(r.tensors)
    out += b"metadata keys: %d\n" % len(fields)
    out += b"alignment: %d\n" % int(r.alignment)
    out += b"data offset: %d\n" % int(r.data_offset)
    out += b"file size: %d\n" % os.path.getsize(path)
    out += b"metadata:\n"
    for f in fields:
        out += field_line(f)
    out += b"tensors:\n"
    with open(path, "rb") as fh:
        raw = fh.read()
    for i, t in enumerate(r.tensors):
        shape = ", ".join(str(int(d)) for d in t.shape)
        begin = int(t.data_offset)
        data = raw[begin:begin + int(t.n_bytes)]
        out += b"  %d: %s %s [%s] offset %d bytes %d%s\n" % (
            i, escape(t.name.encode()), ggml_type_name(t.tensor_type).encode(), shape.encode(),
            begin - int(r.data_offset), int(t.n_bytes), hash_suffix(fnv1a64(data)))
    return out


def main() -> None:
    shared, out_dir = sys.argv[1], sys.argv[2]
    paths = sorted(glob.glob(os.path.join(shared, "testdata/models/*.gguf")))
    paths += sorted(glob.glob(os.path.join(shared, "testdata/tokenizer/*.gguf")))
    paths += [os.path.join(shared, "testdata/quant/quant_vectors.gguf")]
    os.makedirs(out_dir, exist_ok=True)
    for p in paths:
        name = os.path.basename(p) + ".txt"
        with open(os.path.join(out_dir, name), "wb") as fh:
            fh.write(listing(p))
        print(name)


if __name__ == "__main__":
    main()
