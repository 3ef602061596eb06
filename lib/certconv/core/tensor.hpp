#pragma once
// Tensor<T>: an owning, dense, row-major (C order) array; 4-D tensors are NCHW
// (activations) or OIHW (weights), what numpy.save(t.numpy()) writes.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace certconv {

template <class T>
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(std::vector<std::int64_t> s, T fill = T(0)) : shape(std::move(s)) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    data.assign(static_cast<std::size_t>(n), fill);
  }

  std::int64_t size() const { return static_cast<std::int64_t>(data.size()); }
  int ndim() const { return static_cast<int>(shape.size()); }

  // 4-D index (n, c, h, w) → flat offset; caller guarantees ndim() == 4.
  std::int64_t offset(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) const {
    return ((n * shape[1] + c) * shape[2] + h) * shape[3] + w;
  }
  T& operator()(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    return data[static_cast<std::size_t>(offset(n, c, h, w))];
  }
  const T& operator()(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) const {
    return data[static_cast<std::size_t>(offset(n, c, h, w))];
  }
};

// The same values in another type (float → double is exact).
template <class To, class From>
Tensor<To> tensor_cast(const Tensor<From>& t) {
  Tensor<To> r;
  r.shape = t.shape;
  r.data.assign(t.data.begin(), t.data.end());
  return r;
}

}  // namespace certconv
