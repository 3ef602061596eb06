#pragma once
// BlockChains: the kernel of oneDNN's jit convolutions (orders/onednn_avx512.cpp and
// the backward ones): the terms are cut into blocks; per block an FMA chain starts
// from 0 (or, bias_init, the first from the bias) and runs over the block's terms
// in `seq` order; the first block is stored (plus the bias unless bias_init), each
// later block is added to what is stored: dst = fl(acc + dst).
#include <cstdint>
#include <vector>

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


}  // namespace certconv
