// STUB: to be written.
#include "ember/error.h"
#include "quant/quant_ref.h"

namespace ember::ref {
void quantize_row_q2_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q2_K: not implemented"); }
void dequantize_row_q2_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q2_K: not implemented"); }
void quantize_row_q3_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q3_K: not implemented"); }
void dequantize_row_q3_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q3_K: not implemented"); }
void quantize_row_q4_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q4_K: not implemented"); }
void dequantize_row_q4_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q4_K: not implemented"); }
void quantize_row_q5_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q5_K: not implemented"); }
void dequantize_row_q5_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q5_K: not implemented"); }
void quantize_row_q6_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q6_K: not implemented"); }
void dequantize_row_q6_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q6_K: not implemented"); }
void quantize_row_q8_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q8_K: not implemented"); }
void dequantize_row_q8_K(const void*, float*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q8_K: not implemented"); }
}  // namespace ember::ref
