#pragma once
// Visits the taps of one convolution output in the canonical order
// c (within the output's group) → ky → kx, skipping taps that fall into the
// padding. f(x_offset, w_offset) gets flat offsets into x (NCHW) and w (OIHW).
#include <cstdint>

#include "certconv/core/spec.hpp"

namespace certconv {

template <class F>
inline void for_each_tap(const ConvSpec& s, std::int64_t n, std::int64_t oc, std::int64_t oy, std::int64_t ox, F&& f) {
  const std::int64_t icg = s.ic / s.g, ocg = s.oc / s.g;
  const std::int64_t c0 = (oc / ocg) * icg;
  for (std::int64_t c = 0; c < icg; ++c) {
    const std::int64_t x_plane = (n * s.ic + c0 + c) * s.ih;
    const std::int64_t w_plane = (oc * icg + c) * s.kh;
    for (std::int64_t ky = 0; ky < s.kh; ++ky) {
      const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1);
      if (iy < 0 || iy >= s.ih) continue;
      for (std::int64_t kx = 0; kx < s.kw; ++kx) {
        const std::int64_t ix = ox * s.sw - s.pw + kx * (s.dw + 1);
        if (ix < 0 || ix >= s.iw) continue;
        f((x_plane + iy) * s.iw + ix, (w_plane + ky) * s.kw + kx);
      }
    }
  }
}

// Splits a flat NCHW output index into (n, oc, oy, ox).
struct OutputIndex {
  std::int64_t n, oc, oy, ox;
};
inline OutputIndex output_index(const ConvSpec& s, std::int64_t flat) {
  OutputIndex o;
  o.ox = flat % s.ow;
  flat /= s.ow;
  o.oy = flat % s.oh;
  flat /= s.oh;
  o.oc = flat % s.oc;
  o.n = flat / s.oc;
  return o;
}

}  // namespace certconv
