// STUB: to be written.
#include "ember/error.h"
#include "quant/quant_ref.h"

namespace ember::ref {
void quantize_row_iq4_nl(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] iq4_nl: not implemented"); }
void dequantize_row_iq4_nl(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] iq4_nl: not implemented"); }
void quantize_row_iq4_xs(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] iq4_xs: not implemented"); }
void dequantize_row_iq4_xs(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] iq4_xs: not implemented"); }
}  // namespace ember::ref
