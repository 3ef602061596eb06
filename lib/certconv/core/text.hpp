#pragma once
// Shapes and numbers as the messages and documents print them, one way each.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace certconv {

// "1, 3, 224, 224": a shape's extents, or an index into it.
inline std::string extents_text(const std::vector<std::int64_t>& v) {
  std::string r;
  for (std::size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + std::to_string(v[i]);
  return r;
}

// "(1, 3, 224, 224)": a shape as Python prints it ("(4,)" for one dimension).
inline std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string r = "(";
  r += extents_text(s);
  r += s.size() == 1 ? ",)" : ")";
  return r;
}

// "[n, c, h, w]" for a flat index into a tensor of the given shape.
inline std::string index_text(const std::vector<std::int64_t>& shape, std::int64_t flat) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  // Appended, not "[" + ...: GCC 12 -O2 reports a false -Wrestrict on the prepend.
  std::string text = "[";
  text += extents_text(idx);
  text += ']';
  return text;
}

// v with `digits` significant digits, printf's %.*g (17 reads back exactly).
inline std::string number_text(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace certconv
