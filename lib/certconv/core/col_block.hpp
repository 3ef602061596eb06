#pragma once
// The im2col blocks of a convolution, the input every emulated order and bound pass
// reads: for output block (n, group, oy, ox0 .. ox0+len−1), K rows of `len` values,
// row k holding the input that term k = c·KH·KW + ky·KW + kx (c within the group)
// multiplies, or 0 where that tap falls into the padding.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "certconv/core/parallel.hpp"
#include "certconv/core/problem.hpp"

namespace certconv {

// Calls f(n, g, oy, ox0, len, col) for every block of outputs, col the im2col block
// (ld = len). Blocks are split over threads; each output belongs to one block, so
// results do not depend on the thread count.
template <class T, class F>
void for_each_col_block(const ConvProblem<T>& p, int threads, F&& f) {
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), icg = s.ic / s.g;
  // About 64 KiB of float per block keeps the block in L2 while every channel reads it.
  constexpr std::int64_t kBudget = 16384;
  std::int64_t chunk = s.ow * K <= 2 * kBudget ? s.ow : std::max<std::int64_t>(16, kBudget / K / 16 * 16);
  chunk = std::min(chunk, s.ow);
  const std::int64_t nchunks = (s.ow + chunk - 1) / chunk;
  const std::int64_t tasks = s.mb * s.g * s.oh * nchunks;
  parallel_for(tasks, threads, [&](std::int64_t b, std::int64_t e) {
    std::vector<T> col(static_cast<std::size_t>(K * chunk));
    for (std::int64_t t = b; t < e; ++t) {
      const std::int64_t c = t % nchunks, oy = t / nchunks % s.oh, g = t / nchunks / s.oh % s.g,
                         n = t / nchunks / s.oh / s.g;
      const std::int64_t ox0 = c * chunk, len = std::min(chunk, s.ow - ox0);
      for (std::int64_t ic = 0; ic < icg; ++ic) {
        const T* plane = p.x.data.data() + (n * s.ic + g * icg + ic) * s.ih * s.iw;
        for (std::int64_t ky = 0; ky < s.kh; ++ky) {
          const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1);
          for (std::int64_t kx = 0; kx < s.kw; ++kx) {
            T* dst = col.data() + ((ic * s.kh + ky) * s.kw + kx) * len;
            if (iy < 0 || iy >= s.ih) {
              std::fill(dst, dst + len, T(0));
              continue;
            }
            const T* src = plane + iy * s.iw;
            const std::int64_t off = kx * (s.dw + 1) - s.pw;
            for (std::int64_t j = 0; j < len; ++j) {
              const std::int64_t ix = (ox0 + j) * s.sw + off;
              dst[j] = (ix >= 0 && ix < s.iw) ? src[ix] : T(0);
            }
          }
        }
      }
      f(n, g, oy, ox0, len, static_cast<const T*>(col.data()));
    }
  });
}

}  // namespace certconv
