#pragma once
// Visits the taps of one convolution output in the canonical order
// c (within the output's group) → ky → kx, skipping taps that fall into the
// padding. f(x_offset, w_offset) gets flat offsets into x (NCHW) and w (OIHW).
#include <cstdint>
#include <vector>

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

// The zero-padded, phase-split input rows of the fast truth kernels
// (exact/fast_truth.cpp, exact/integer_truth.cpp): per channel, `rows` padded input
// rows of row_len = sw·jp entries, sw phases of jp each (entry j of phase φ is
// padded column j·sw + φ), so that for every tap the inputs of consecutive output
// columns are consecutive; tap_off[ky·kw + kx] is a tap's offset from the start of
// output row oy's first input row (oy·sh). `columns`: output columns served (ow, or
// ow padded to a vector width).
struct PhaseRows {
  std::int64_t rows, jp, row_len;
  std::vector<std::int64_t> tap_off;
};
inline PhaseRows phase_rows(const ConvSpec& s, std::int64_t columns) {
  PhaseRows r;
  r.rows = (s.oh - 1) * s.sh + (s.kh - 1) * (s.dh + 1) + 1;
  r.jp = columns + (s.kw - 1) * (s.dw + 1) / s.sw;
  r.row_len = s.sw * r.jp;
  for (std::int64_t ky = 0; ky < s.kh; ++ky)
    for (std::int64_t kx = 0; kx < s.kw; ++kx) {
      const std::int64_t off = kx * (s.dw + 1);
      r.tap_off.push_back(ky * (s.dh + 1) * r.row_len + (off % s.sw) * r.jp + off / s.sw);
    }
  return r;
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
