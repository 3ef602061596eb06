#include "certconv/analysis/relabel.hpp"

namespace certconv {

namespace {

std::vector<std::int64_t> unflatten(std::int64_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> c(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    c[d] = flat % shape[d];
    flat /= shape[d];
  }
  return c;
}

std::int64_t natural(const std::vector<std::int64_t>& to_natural, std::int64_t i) {
  return to_natural.empty() ? i : to_natural[static_cast<std::size_t>(i)];
}

}  // namespace

void relabel(OutputRecord& r, const std::vector<std::int64_t>& to_natural, const std::vector<std::int64_t>& shape) {
  r.index = natural(to_natural, r.index);
  r.coords = unflatten(r.index, shape);
}

void relabel(ObservedMetrics& m, const std::vector<std::int64_t>& to_natural, const std::vector<std::int64_t>& shape) {
  for (auto* list : {&m.worst, &m.violating})
    for (OutputRecord& r : *list) relabel(r, to_natural, shape);
  if (m.sample)
    for (auto& i : m.sample->index) i = natural(to_natural, i);
}

}  // namespace certconv
