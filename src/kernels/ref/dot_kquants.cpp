// STUB: to be written.
#include "ember/error.h"
#include "quant/quant_ref.h"

namespace ember::ref {
float vec_dot_q2_K_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] q2_K_q8_K: not implemented"); }
float vec_dot_q3_K_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] q3_K_q8_K: not implemented"); }
float vec_dot_q4_K_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] q4_K_q8_K: not implemented"); }
float vec_dot_q5_K_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] q5_K_q8_K: not implemented"); }
float vec_dot_q6_K_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] q6_K_q8_K: not implemented"); }
}  // namespace ember::ref
