// Rotary position embedding tables.
#include <cmath>

#include "model/blocks.h"

namespace ember::model {

// theta_i = pos * freq_scale * base^(-2i / n_rot) / factor_i, computed in
// double so large positions keep their precision.
void rope_table(int n_rot, float freq_base, float freq_scale, const std::vector<float>& freq_factors,
                const int32_t* pos, int m, float* cs) {
  const int half = n_rot / 2;
  for (int t = 0; t < m; ++t) {
    float* row = cs + int64_t(t) * n_rot;
    const double p = double(pos[t]) * double(freq_scale);
    for (int i = 0; i < half; ++i) {
      double theta = p * std::pow(double(freq_base), -2.0 * i / n_rot);
      if (!freq_factors.empty()) theta /= double(freq_factors[size_t(i)]);
      row[2 * i] = float(std::cos(theta));
      row[2 * i + 1] = float(std::sin(theta));
    }
  }
}

void rope_table(const ModelConfig& c, const std::vector<float>& freq_factors, const int32_t* pos, int m, float* cs) {
  rope_table(c.n_rot, c.rope_freq_base, c.rope_freq_scale, freq_factors, pos, m, cs);
}

}  // namespace ember::model
