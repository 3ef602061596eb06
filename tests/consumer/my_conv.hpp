#pragma once
// The code under test: a user's own float32 convolution (NCHW, no padding
// handling beyond zero taps), and a deliberately broken copy of it.
#include <certconv/core/spec.hpp>
#include <certconv/core/tensor.hpp>

inline certconv::Tensor<float> my_conv(const certconv::ConvSpec& s, const certconv::Tensor<float>& x,
                                       const certconv::Tensor<float>& w, bool bug = false) {
  certconv::Tensor<float> y(s.y_shape());
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t oc = 0; oc < s.oc; ++oc)
      for (std::int64_t oy = 0; oy < s.oh; ++oy)
        for (std::int64_t ox = 0; ox < s.ow; ++ox) {
          float acc = 0;
          for (std::int64_t c = 0; c < s.ic; ++c)
            for (std::int64_t ky = 0; ky < s.kh; ++ky)
              for (std::int64_t kx = 0; kx < s.kw; ++kx) {
                const std::int64_t iy = oy * s.sh - s.ph + ky, ix = ox * s.sw - s.pw + kx;
                // The bug: the last input row is treated as padding.
                if (iy < 0 || iy >= s.ih - (bug ? 1 : 0) || ix < 0 || ix >= s.iw) continue;
                acc += x(n, c, iy, ix) * w(oc, c, ky, kx);
              }
          y(n, oc, oy, ox) = acc;
        }
  return y;
}

// Small deterministic inputs: x and w in [-1, 1).
inline void fill(certconv::Tensor<float>& t, unsigned seed) {
  for (float& v : t.data) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<float>(seed >> 8) * 0x1p-23f - 1.0f;
  }
}
