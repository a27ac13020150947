#!/usr/bin/env python3
"""Turns the output of bench/run-all into the markdown tables of
docs/performance.md. Usage: bench/report.py [RESULTS_DIR]"""
import glob, json, os, re, sys

out = sys.argv[1] if len(sys.argv) > 1 else "build/bench-results"
k = json.load(open(os.path.join(out, "kernels.json")))
rows = {b["name"].replace("/real_time", ""): b for b in k["benchmarks"]}

def gbs(b): return b.get("bytes_per_second", 0) / 1e9
print(f"Machine: {k['context'].get('host_name','?')}, {k['context']['num_cpus']} CPUs at "
      f"{k['context']['mhz_per_cpu']} MHz, run {k['context']['date']}\n")
print("| limit (2 threads) | measured |\n|---|---:|")
if "memory_read" in rows: print(f"| memory read bandwidth | {gbs(rows['memory_read']):.1f} GB/s |")
for n, b in rows.items():
    if n.startswith("peak/"):
        unit = "GFLOP/s" if "fma" in n else "G int8 MAC-ops/s"
        print(f"| {n[5:]} | {b['Gop/s']/1e0:.0f} {unit} |")

kernels = sorted({re.sub(r"__\w+$", "", n.split("/", 1)[1]) for n in rows if n.startswith(("gemv/", "gemm/"))},
                 key=lambda s: s)
isas = ["scalar", "avx2", "avx512", "avx512vnni"]
for kind, unit, fn in (("gemv", "GB/s of weights", gbs), ("gemm", "GFLOP/s", lambda b: b.get("GFLOP/s", 0) / 1e0)):
    print(f"\n**{kind.upper()}** ({unit}; " + ("4096-wide rows, 256 MB of weights" if kind == "gemv" else
          "512 activation rows x 1024 weight rows x 4096") + ", 2 threads)\n")
    print("| kernel | " + " | ".join(isas) + " |\n|---|" + "---:|" * len(isas))
    for kname in kernels:
        cells = []
        for isa in isas:
            b = rows.get(f"{kind}/{kname}__{isa}")
            cells.append(f"{fn(b):.1f}" if b else "–")
        print(f"| {kname} | " + " | ".join(cells) + " |")

print("\n**Models** (pp512 = prefill of a 512-token prompt, tg128 = 128 decode steps; tok/s, 2 threads, best of 3 for llama.cpp, mean for ember)\n")
print("| model | test | ember | llama.cpp | ember / llama.cpp | ember weight read rate |\n|---|---|---:|---:|---:|---:|")
for ef in sorted(glob.glob(os.path.join(out, "ember-*.json"))):
    name = os.path.basename(ef)[6:-5]
    e = json.load(open(ef))
    lf = os.path.join(out, f"llamacpp-{name}.json")
    l = json.load(open(lf)) if os.path.exists(lf) else {}
    for test, key in (("pp512", "prefill_tok_s"), ("tg128", "decode_tok_s")):
        lv = l.get(key)
        extra = f"{e['decode_weight_gb_s']:.1f} GB/s" if key == "decode_tok_s" else ""
        print(f"| {name} | {test} | {e[key]:.1f} | {lv:.1f} | {e[key]/lv:.2f}x | {extra} |" if lv else
              f"| {name} | {test} | {e[key]:.1f} | – | – | {extra} |")
