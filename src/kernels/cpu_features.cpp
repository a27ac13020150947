// CPU feature detection, done once. On x86 the OS must also have enabled the
// register state (XCR0 via xgetbv), or AVX code faults even on a capable CPU.
#include <cstdlib>
#include <string>

#include "ember/error.h"
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace ember::kernels {

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Vnni: return "avx512vnni";
    case Isa::Neon: return "neon";
  }
  return "?";
}

std::optional<Isa> isa_from_name(std::string_view name) noexcept {
  for (int i = 0; i < kIsaCount; ++i)
    if (name == isa_name(static_cast<Isa>(i))) return static_cast<Isa>(i);
  return std::nullopt;
}

bool isa_covers(Isa have, Isa needed) noexcept {
  if (needed == Isa::Scalar) return true;
  if (have == Isa::Neon || needed == Isa::Neon) return have == needed;
  return static_cast<int>(have) >= static_cast<int>(needed);
}

bool CpuFeatures::supports(Isa isa) const noexcept {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return os_avx && avx2 && fma && f16c && bmi2;  // the flags avx2 files are built with
    case Isa::Avx512: return supports(Isa::Avx2) && os_avx512 && avx512f && avx512bw && avx512vl && avx512dq;
    case Isa::Avx512Vnni: return supports(Isa::Avx512) && avx512vnni;
    case Isa::Neon: return neon;
  }
  return false;
}

Isa CpuFeatures::best() const noexcept {
  for (Isa isa : {Isa::Avx512Vnni, Isa::Avx512, Isa::Avx2, Isa::Neon})
    if (supports(isa)) return isa;
  return Isa::Scalar;
}

namespace {

CpuFeatures detect() noexcept {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const unsigned max_leaf = a;
  __cpuid(1, a, b, c, d);
  f.sse42 = c & (1u << 20);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  f.avx = c & (1u << 28);
  const bool osxsave = c & (1u << 27);
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    f.os_avx = (lo & 0x6) == 0x6;             // XMM and YMM state
    f.os_avx512 = f.os_avx && (lo & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = b & (1u << 5);
    f.bmi2 = b & (1u << 8);
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
    __cpuid_count(7, 1, a, b, c, d);
    f.avxvnni = a & (1u << 4);
    f.avx512bf16 = a & (1u << 5);
  }
#elif defined(__aarch64__)
  f.neon = true;  // mandatory on AArch64
#if defined(__ARM_FEATURE_DOTPROD)
  f.dotprod = true;
#endif
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() noexcept {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace ember::kernels
