// STUB: to be written.
#include "ember/error.h"
#include "quant/quant_ref.h"

namespace ember::ref {
float vec_dot_iq4_nl_q8_0(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] iq4_nl_q8_0: not implemented"); }
float vec_dot_iq4_xs_q8_K(int64_t, const void*, const void*) { throw Error(ErrorKind::Unsupported, "[dot] iq4_xs_q8_K: not implemented"); }
}  // namespace ember::ref
