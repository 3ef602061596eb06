#pragma once
// NumPy arrays ↔ certconv tensors for the Python module. The Python layer
// (__init__.py) has already made arrays C-contiguous and native-endian; these
// checks repeat that for callers of _certconv itself.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <bit>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "certconv/core/tensor.hpp"

namespace certconv::py_binding {

namespace py = pybind11;

using AnyTensor = std::variant<Tensor<float>, Tensor<double>>;

template <class T>
Tensor<T> copy_tensor(const py::array& a) {
  Tensor<T> r;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) r.shape.push_back(a.shape(d));
  const T* p = static_cast<const T*>(a.data());
  r.data.assign(p, p + a.size());
  return r;
}

// float32 or float64, C-contiguous, native byte order, `ndim` dimensions; `what`
// names the argument in the error.
inline AnyTensor to_tensor(const py::array& a, const std::string& what, int ndim) {
  if (a.ndim() != ndim)
    throw py::value_error(what + ": expected a " + std::to_string(ndim) + "-D array, got " + std::to_string(a.ndim()) +
                          "-D");
  if (!(a.flags() & py::array::c_style)) throw py::value_error(what + ": the array is not C-contiguous");
  const py::dtype dt = a.dtype();
  if (dt.kind() == 'f' && (dt.itemsize() == 4 || dt.itemsize() == 8)) {
    const char native = std::endian::native == std::endian::little ? '<' : '>';
    if (dt.byteorder() != '=' && dt.byteorder() != native)
      throw py::value_error(what + ": the array is not in native byte order");
    if (dt.itemsize() == 4) return copy_tensor<float>(a);
    return copy_tensor<double>(a);
  }
  throw py::type_error(what + ": dtype " + py::str(a.dtype()).cast<std::string>() +
                       " is not supported; certconv takes float32 or float64 arrays");
}

// Hands the tensor's storage to a NumPy array (no copy).
template <class T>
py::array_t<T> to_array(Tensor<T>&& t) {
  auto v = std::make_unique<std::vector<T>>(std::move(t.data));
  py::capsule owner(v.get(), [](void* p) { delete static_cast<std::vector<T>*>(p); });
  const std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  return py::array_t<T>(shape, v.release()->data(), owner);
}

}  // namespace certconv::py_binding
