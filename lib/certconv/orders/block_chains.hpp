#pragma once
// BlockChains: the kernel of oneDNN's jit convolutions (orders/onednn_avx512.cpp and
// the backward ones): the terms are cut into blocks; per block an FMA chain starts
// from 0 (or, bias_init, the first from the bias) and runs over the block's terms
// in `seq` order; the first block is stored (plus the bias unless bias_init), each
// later block is added to what is stored: dst = fl(acc + dst).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "certconv/core/error.hpp"
#include "certconv/orders/driver.hpp"

namespace certconv {

struct BlockChains {
  std::vector<std::int64_t> seq;     // the terms in the kernel's order
  std::vector<std::int64_t> starts;  // seq index where each channel block starts, then seq.size()
  bool bias_init = false;            // the first block's accumulator starts from the bias

  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    const auto acc = P::template scratch_rows<struct BlockChainsAcc>(static_cast<std::size_t>(r.len));
    for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
      const auto a0 = b == 0 && bias_init && r.bias ? P::exact(*r.bias) : P::zero();
      for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, a0);
      for (std::int64_t i = starts[b]; i < starts[b + 1]; ++i) {
        const std::int64_t k = seq[static_cast<std::size_t>(i)];
        const auto w = r.w[k];
        const auto* x = r.x(k);
        for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, P::fma(x[j], w, acc.get(j)));
      }
      if (b > 0) {
        for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(acc.get(j), out.get(j)));
      } else if (r.bias && !bias_init) {
        const auto bias = P::exact(*r.bias);
        for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(acc.get(j), bias));
      } else {
        for (std::int64_t j = 0; j < r.len; ++j) out.set(j, acc.get(j));
      }
    }
  }
};

// oneDNN's backward-data kernels on the lowered BWD_D problem (core/lower.hpp:
// channels are dy's, taps flipped, a 3-D problem's channel is oc·KD + kd'): one
// chain per `group` output channels, ascending; inside a chain, blocks of `block`
// channels, and inside a block kd, kh, kw ascending in the original taps, then the
// channel.
inline BlockChains bwd_data_chains(const ConvSpec& s, std::int64_t group, std::int64_t block) {
  const std::int64_t KD = s.origin ? s.origin->axis[0].k : 1, ocg = s.ic / s.g / KD;
  BlockChains ker;
  for (std::int64_t g0 = 0; g0 < ocg; g0 += group) {
    ker.starts.push_back(static_cast<std::int64_t>(ker.seq.size()));
    for (std::int64_t b0 = g0; b0 < std::min(ocg, g0 + group); b0 += block)
      for (std::int64_t kd = KD - 1; kd >= 0; --kd)
        for (std::int64_t ky = s.kh - 1; ky >= 0; --ky)
          for (std::int64_t kx = s.kw - 1; kx >= 0; --kx)
            for (std::int64_t c = b0; c < std::min(ocg, b0 + block); ++c)
              ker.seq.push_back(((c * KD + kd) * s.kh + ky) * s.kw + kx);
  }
  ker.starts.push_back(static_cast<std::int64_t>(ker.seq.size()));
  return ker;
}

// oneDNN's balance211: `rows` cut into nthr contiguous chunks, the first
// rows − (n1 − 1)·nthr taking n1 = ⌈rows/nthr⌉, the others n1 − 1 (empty chunks
// dropped). The first row of each chunk, then rows.
inline std::vector<std::int64_t> balance211_starts(std::int64_t rows, std::int64_t nthr) {
  const std::int64_t n1 = (rows + nthr - 1) / nthr, big = rows - (n1 - 1) * nthr;
  std::vector<std::int64_t> starts;
  for (std::int64_t t = 0, row = 0; t < nthr; ++t) {
    const std::int64_t take = t < big ? n1 : n1 - 1;
    if (take == 0) continue;
    starts.push_back(row);
    row += take;
  }
  starts.push_back(rows);
  return starts;
}

// A backward-weights reduction whose terms, in the lowered order (n, od, oh, ow),
// form `rows` equal rows cut by balance211 into nthr chunks: one chain per chunk.
inline BlockChains row_chunks(std::int64_t terms, std::int64_t rows, std::int64_t nthr) {
  BlockChains ker;
  ker.seq.resize(static_cast<std::size_t>(terms));
  for (std::size_t i = 0; i < ker.seq.size(); ++i) ker.seq[i] = static_cast<std::int64_t>(i);
  for (const std::int64_t r : balance211_starts(rows, nthr)) ker.starts.push_back(r * (terms / rows));
  return ker;
}

// The layer a backward-weights order emulates (core/lower.hpp sets it).
template <class T>
const ConvDesc& bwd_weights_origin(const OrderSpec& o, const ConvProblem<T>& p) {
  require(p.spec.origin.has_value(), "order '" + o.name + "' runs on a BWD_W problem (core/lower.hpp) only");
  return *p.spec.origin;
}

// The `threads` parameter of the weights orders: the OpenMP count the library ran with.
inline OrderParam onednn_threads_param(const std::string& splits) {
  return {"threads", "1", "OpenMP threads oneDNN ran with (torch.get_num_threads()): " + splits,
          sweep_over({"1", "2", "4"})};
}

}  // namespace certconv
