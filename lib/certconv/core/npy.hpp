#pragma once
// NumPy .npy files (format versions 1.0, 2.0, 3.0), float32/float64 (and float16
// where the caller accepts it, widened to float32).
// Reading is strict: every malformed file gets an InputError naming the file and
// the field at fault. Writing is atomic: a temp file in the same directory, then
// rename, so an interrupted write leaves nothing half-written.
#include <string>
#include <variant>

#include "certconv/core/tensor.hpp"

namespace certconv {

using AnyTensor = std::variant<Tensor<float>, Tensor<double>>;

// Reads '<f4'/'<f8' (and '>f4'/'>f8', byte-swapped), C or Fortran order
// (Fortran order is converted to C order). With half, also IEEE binary16
// ('<f2'/'>f2', NumPy's float16), widened exactly to float32; *was_half says so.
AnyTensor read_npy(const std::string& path, bool half = false, bool* was_half = nullptr);

// Reads and requires dtype T; `what` names the tensor in messages (e.g. "x").
template <class T>
Tensor<T> read_npy_as(const std::string& path, const std::string& what);

template <class T>
void write_npy(const std::string& path, const Tensor<T>& t);

}  // namespace certconv
