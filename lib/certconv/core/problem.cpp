#include "certconv/core/problem.hpp"

#include <cmath>

#include "certconv/core/error.hpp"
#include "certconv/core/text.hpp"

namespace certconv {

namespace {

// fields: the descriptor fields behind each dimension ("ic/g" for w's second).
template <class T>
void check_tensor(const Tensor<T>& t, const std::vector<std::int64_t>& want, const char* name,
                  const std::vector<const char*>& fields, const ConvSpec& s) {
  std::string which;
  if (t.shape.size() == want.size())
    for (std::size_t d = 0; d < want.size() && which.empty(); ++d)
      if (t.shape[d] != want[d])
        which = " (dimension " + std::to_string(d) + " is " + std::to_string(t.shape[d]) + ", the problem's " +
                fields[d] + " is " + std::to_string(want[d]) + ")";
  require(t.shape == want, std::string(name) + ": shape " + shape_text(t.shape) + " does not match the problem " +
                               to_benchdnn(s) + ", which needs " + shape_text(want) + which);
  for (std::int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data[static_cast<std::size_t>(i)]))
      throw InputError(std::string(name) + ": non-finite value at index " + index_text(t.shape, i));
}

}  // namespace

template <class T>
void check_problem(const ConvProblem<T>& p) {
  check_tensor(p.x, p.spec.x_shape(), "x", {"mb", "ic", "ih", "iw"}, p.spec);
  check_tensor(p.w, p.spec.w_shape(), "w", {"oc", "ic/g", "kh", "kw"}, p.spec);
  if (p.bias) check_tensor(*p.bias, {p.spec.oc}, "bias", {"oc"}, p.spec);
}

template void check_problem(const ConvProblem<float>&);
template void check_problem(const ConvProblem<double>&);

}  // namespace certconv
