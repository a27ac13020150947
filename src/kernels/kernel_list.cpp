// The one list of kernels, joined from the per-ISA sets, and the dispatch
// tables built from it. Compiled for the baseline ISA.
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "ember/error.h"
#include "kernels/kernel_sets.h"

namespace ember::kernels {
namespace {

struct KernelLists {
  std::vector<DotKernel> dot;
  std::vector<Dot4Kernel> dot4;
  std::vector<QuantizeKernel> quantize;
  std::vector<FloatOpsKernel> float_ops;
};

template <class T>
void append(std::vector<T>& out, std::span<const T> in) {
  out.insert(out.end(), in.begin(), in.end());
}

#define EMBER_APPEND_SET(isa)                      \
  append(l.dot, dot_kernels_float_##isa());      \
  append(l.dot, dot_kernels_legacy_##isa());     \
  append(l.dot, dot_kernels_kquants_##isa());    \
  append(l.dot, dot_kernels_iquants_##isa());    \
  append(l.quantize, quantize_kernels_##isa());    \
  append(l.float_ops, float_ops_kernels_##isa())

KernelLists build_lists() {
  KernelLists l;
  EMBER_APPEND_SET(scalar);
#if defined(__x86_64__) || defined(_M_X64)
  EMBER_APPEND_SET(avx2);
  EMBER_APPEND_SET(avx512);
  EMBER_APPEND_SET(avx512vnni);
  append(l.dot4, dot4_kernels_legacy_avx2());
  append(l.dot4, dot4_kernels_kquants_avx2());
  append(l.dot4, dot4_kernels_legacy_avx512());
  append(l.dot4, dot4_kernels_kquants_avx512());
  append(l.dot4, dot4_kernels_legacy_avx512vnni());
  append(l.dot4, dot4_kernels_kquants_avx512vnni());
#endif
#if defined(__aarch64__)
  EMBER_APPEND_SET(neon);
#endif
  return l;
}

const KernelLists& lists() {
  static const KernelLists l = build_lists();
  return l;
}

// Later entries of a covered ISA win: the lists run from scalar upwards.
KernelTable build_table(Isa isa) {
  KernelTable t;
  t.isa = isa;
  for (const DotKernel& k : lists().dot) {
    if (!isa_covers(isa, k.isa)) continue;
    const auto i = static_cast<uint32_t>(k.type);
    t.vec_dot[i] = k.fn;
    t.vec_dot_name[i] = k.name;
  }
  // A 4x kernel must agree bit for bit with the vec_dot chosen above, so it is
  // taken only from the same ISA level as that vec_dot.
  for (const Dot4Kernel& k : lists().dot4) {
    const auto i = static_cast<uint32_t>(k.type);
    if (!isa_covers(isa, k.isa)) continue;
    for (const DotKernel& d : lists().dot)
      if (d.type == k.type && d.isa == k.isa && d.fn == t.vec_dot[i]) {
        t.vec_dot_4x[i] = k.fn;
        t.vec_dot_4x_name[i] = k.name;
      }
  }
  for (const QuantizeKernel& k : lists().quantize)
    if (isa_covers(isa, k.isa)) t.quantize[static_cast<uint32_t>(k.type)] = k.fn;
  for (const FloatOpsKernel& k : lists().float_ops)
    if (isa_covers(isa, k.isa)) t.ops = k.ops;
  return t;
}

}  // namespace

std::span<const DotKernel> dot_kernels() { return lists().dot; }
std::span<const Dot4Kernel> dot4_kernels() { return lists().dot4; }
std::span<const QuantizeKernel> quantize_kernels() { return lists().quantize; }
std::span<const FloatOpsKernel> float_ops_kernels() { return lists().float_ops; }

const KernelTable& kernel_table(Isa isa) {
  if (!cpu_features().supports(isa))
    throw Error(ErrorKind::Unsupported, std::string("[cpu] this CPU does not support the '") + isa_name(isa) +
                                            "' kernels (best available: '" + isa_name(cpu_features().best()) + "')");
  static const std::array<KernelTable, kIsaCount> tables = [] {
    std::array<KernelTable, kIsaCount> a{};
    for (int i = 0; i < kIsaCount; ++i) a[i] = build_table(static_cast<Isa>(i));
    return a;
  }();
  return tables[static_cast<int>(isa)];
}

const KernelTable& default_kernel_table() {
  const char* env = std::getenv("EMBER_CPU");
  if (env && *env) {
    const auto isa = isa_from_name(env);
    if (!isa)
      throw Error(ErrorKind::InvalidArgument,
                  std::string("[cpu] EMBER_CPU='") + env + "' is not one of scalar, avx2, avx512, avx512vnni, neon");
    return kernel_table(*isa);
  }
  return kernel_table(cpu_features().best());
}

}  // namespace ember::kernels
