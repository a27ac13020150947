#pragma once
// Every file in x86/avx512/ is compiled twice: as the avx512 level and, with
// EMBER_AVX512_VNNI=1 and -mavx512vnni, as the avx512vnni level. These macros
// give the two builds distinct kernel names and list accessors.
#include "kernels/kernels.h"

#if EMBER_AVX512_VNNI
#define EMBER_AVX512_ISA ::ember::kernels::Isa::Avx512Vnni
#define EMBER_AVX512_SUFFIX "__avx512vnni"
#define EMBER_AVX512_SET(area) area##_avx512vnni
#else
#define EMBER_AVX512_ISA ::ember::kernels::Isa::Avx512
#define EMBER_AVX512_SUFFIX "__avx512"
#define EMBER_AVX512_SET(area) area##_avx512
#endif
