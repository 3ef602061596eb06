#include "certconv/core/npy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"

namespace certconv {

namespace {

// Format reference: numpy/lib/format.py (NumPy 1.24), "NEP 1".
constexpr std::string_view kMagic("\x93NUMPY", 6);
constexpr std::size_t kAlign = 64;
// NumPy pads the header so that the first axis can grow in place to this many digits.
constexpr std::size_t kGrowthAxisMaxDigits = 21;
constexpr int kMaxNesting = 32;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what);
}

// Header bytes may be garbage; keep messages printable.
std::string printable(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string shape_repr(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::string read_all(const std::string& path) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, "cannot read file: " + std::generic_category().message(errno));
  // One buffer of the file's size (a layer's x is megabytes), then whatever a
  // file that grew meanwhile still holds.
  std::string bytes;
  struct stat st {};
  if (fstat(fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f.get()));
  }
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.append(buf, n);
  if (std::ferror(f.get())) fail(path, "cannot read file: " + std::generic_category().message(errno));
  return bytes;
}

// The subset of Python literals that can appear in a .npy header.
struct PyValue {
  enum Kind { Str, Bool, None, Int, BigInt, NonInt, Tuple, List } kind = None;
  std::string text;  // Str: contents; BigInt, NonInt: the token as written
  bool b = false;
  std::int64_t i = 0;
  std::vector<PyValue> items;
};

using PyDict = std::vector<std::pair<std::string, PyValue>>;

// Recursive descent over the header text, accepting what ast.literal_eval
// accepts for the dicts NumPy writes (no escapes, no string prefixes).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  PyDict parse_dict() {
    skip_ws();
    expect('{', "expected '{'");
    PyDict items;
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') error("expected a quoted key or '}'");
      std::string key = parse_string();
      skip_ws();
      expect(':', "expected ':' after key '" + printable(key) + "'");
      items.emplace_back(std::move(key), parse_value(1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      error("expected ',' or '}'");
    }
    ++pos_;
    skip_ws();
    if (pos_ != s_.size()) error("unexpected text after the closing '}'");
    return items;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    // Quote only the neighbourhood: a header may be 4 GB long.
    const std::size_t from = pos_ > 40 ? pos_ - 40 : 0;
    fail(path_, "header is not a valid dict literal: " + what + " at offset " + std::to_string(pos_) + " near \"" +
                    printable(s_.substr(from, 80)) + "\"");
  }

  // NUL marks the end; a NUL inside the header is never valid anyway.
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  void expect(char c, const std::string& what) {
    if (peek() != c) error(what);
    ++pos_;
  }

  void skip_ws() {
    while (pos_ < s_.size() && std::string_view(" \t\n\r\f").find(s_[pos_]) != std::string_view::npos) ++pos_;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

  std::string parse_string() {
    const char quote = s_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= s_.size() || s_[pos_] == '\n') error("unterminated string");
      const char c = s_[pos_++];
      if (c == quote) return out;
      if (c == '\\') error("escape sequences in strings are not supported");
      out += c;
    }
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxNesting) error("nesting too deep");
    skip_ws();
    const char c = peek();
    if (pos_ >= s_.size()) error("unexpected end of header");
    if (c == '\'' || c == '"') {
      PyValue v;
      v.kind = PyValue::Str;
      v.text = parse_string();
      return v;
    }
    if (c == '(') return parse_paren(depth);
    if (c == '[') return parse_list(depth);
    if (is_digit(c) || c == '-' || c == '+' || c == '.') return parse_number();
    if (is_alpha(c)) return parse_name();
    error(std::string("unexpected character '") + printable(std::string_view(&c, 1)) + "'");
  }

  // "()" is the empty tuple, "(x)" is just x, "(x,)" and "(x, y)" are tuples.
  PyValue parse_paren(int depth) {
    ++pos_;
    skip_ws();
    PyValue tuple;
    tuple.kind = PyValue::Tuple;
    if (peek() == ')') {
      ++pos_;
      return tuple;
    }
    PyValue first = parse_value(depth + 1);
    skip_ws();
    if (peek() == ')') {
      ++pos_;
      return first;
    }
    expect(',', "expected ',' or ')'");
    tuple.items.push_back(std::move(first));
    parse_items(tuple, ')', depth);
    return tuple;
  }

  PyValue parse_list(int depth) {
    ++pos_;
    PyValue list;
    list.kind = PyValue::List;
    parse_items(list, ']', depth);
    return list;
  }

  // Comma-separated items up to `close` (a trailing comma allowed), then past it.
  void parse_items(PyValue& into, char close, int depth) {
    for (;;) {
      skip_ws();
      if (peek() == close) break;
      into.items.push_back(parse_value(depth + 1));
      skip_ws();
      if (peek() == close) break;
      expect(',', std::string("expected ',' or '") + close + "'");
    }
    ++pos_;
  }

  PyValue parse_number() {
    const std::size_t start = pos_;
    const bool negative = peek() == '-';
    if (peek() == '-' || peek() == '+') ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      const bool exponent_sign = (c == '+' || c == '-') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E');
      if (!is_digit(c) && !is_alpha(c) && c != '.' && !exponent_sign) break;
      ++pos_;
    }
    const std::string_view body = s_.substr(digits, pos_ - digits);
    if (body.empty()) error("expected a number");
    PyValue v;
    v.text = std::string(s_.substr(start, pos_ - start));
    if (!std::all_of(body.begin(), body.end(), is_digit)) {
      v.kind = PyValue::NonInt;
      return v;
    }
    v.kind = PyValue::Int;
    std::int64_t x = 0;
    for (char c : body) {
      if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, c - '0', &x)) {
        v.kind = PyValue::BigInt;
        return v;
      }
    }
    v.i = negative ? -x : x;
    return v;
  }

  PyValue parse_name() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]))) ++pos_;
    const std::string_view name = s_.substr(start, pos_ - start);
    PyValue v;
    if (name == "True" || name == "False") {
      v.kind = PyValue::Bool;
      v.b = name == "True";
    } else if (name != "None") {
      pos_ = start;
      error("unknown name '" + printable(name) + "'");
    }
    return v;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

struct Header {
  std::string descr;
  bool is_double = false;
  bool is_half = false;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

void parse_descr(const std::string& path, const PyValue& v, Header& h) {
  if (v.kind == PyValue::List) fail(path, "field 'descr': structured dtypes are not supported");
  if (v.kind != PyValue::Str) fail(path, "field 'descr' must be a dtype string such as '<f4'");
  const std::string& d = v.text;
  const std::size_t type_char = !d.empty() && std::string_view("<>|=").find(d[0]) != std::string_view::npos ? 1 : 0;
  if (type_char < d.size() && d[type_char] == 'O')
    fail(path, "field 'descr': pickled/object arrays ('" + printable(d) + "') are not supported");
  if (d != "<f4" && d != ">f4" && d != "<f8" && d != ">f8" && d != "<f2" && d != ">f2")
    fail(path, "field 'descr': unsupported dtype '" + printable(d) + "' (need float32 '<f4' or float64 '<f8')");
  h.descr = d;
  h.is_double = d[2] == '8';
  h.is_half = d[2] == '2';
  h.big_endian = d[0] == '>';
}

void parse_shape(const std::string& path, const PyValue& v, Header& h) {
  if (v.kind != PyValue::Tuple) fail(path, "field 'shape' must be a tuple of non-negative integers");
  for (const PyValue& e : v.items) {
    switch (e.kind) {
      case PyValue::Int:
        if (e.i < 0) fail(path, "field 'shape' has a negative entry " + std::to_string(e.i));
        h.shape.push_back(e.i);
        break;
      case PyValue::BigInt:
        fail(path, "field 'shape' entry " + printable(e.text) + " is too large");
      case PyValue::NonInt:
        fail(path, "field 'shape' has a non-integer entry " + printable(e.text));
      default:
        fail(path, "field 'shape' has a non-integer entry");
    }
  }
}

Header parse_header(const std::string& path, std::string_view text) {
  const PyDict dict = HeaderParser(text, path).parse_dict();
  Header h;
  bool seen[3] = {false, false, false};
  static constexpr std::string_view keys[3] = {"descr", "fortran_order", "shape"};
  for (const auto& [key, value] : dict) {
    const auto* k = std::find(std::begin(keys), std::end(keys), key);
    if (k == std::end(keys)) fail(path, "header has unknown key '" + printable(key) + "'");
    bool& s = seen[k - std::begin(keys)];
    if (s) fail(path, "header has duplicate key '" + key + "'");
    s = true;
    if (key == "descr") {
      parse_descr(path, value, h);
    } else if (key == "fortran_order") {
      if (value.kind != PyValue::Bool) fail(path, "field 'fortran_order' must be True or False");
      h.fortran_order = value.b;
    } else {
      parse_shape(path, value, h);
    }
  }
  for (int i = 0; i < 3; ++i)
    if (!seen[i]) fail(path, "header is missing key '" + std::string(keys[i]) + "'");
  return h;
}

template <class T>
T from_bytes(const char* p, bool swap) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  U u;
  std::memcpy(&u, p, sizeof u);
  if (swap) {
    if constexpr (sizeof(T) == 4) {
      u = __builtin_bswap32(u);
    } else {
      u = __builtin_bswap64(u);
    }
  }
  return std::bit_cast<T>(u);
}

// Fortran order of shape (d0..dk) is C order with strides 1, d0, d0·d1, ...;
// walk the C-order output with an odometer and track the Fortran offset.
template <class T>
std::vector<T> fortran_to_c(const std::vector<T>& f, const std::vector<std::int64_t>& shape) {
  const std::size_t k = shape.size();
  if (f.empty() || k < 2) return f;
  std::vector<T> out(f.size());
  std::vector<std::int64_t> stride(k, 1), idx(k, 0);
  for (std::size_t j = 1; j < k; ++j) stride[j] = stride[j - 1] * shape[j - 1];
  std::int64_t off = 0;
  for (std::size_t n = 0; n < out.size(); ++n) {
    out[n] = f[static_cast<std::size_t>(off)];
    for (std::size_t j = k; j-- > 0;) {
      off += stride[j];
      if (++idx[j] < shape[j]) break;
      off -= shape[j] * stride[j];
      idx[j] = 0;
    }
  }
  return out;
}

template <class T>
Tensor<T> decode(const Header& h, std::string_view data, std::size_t count) {
  Tensor<T> t;
  t.shape = h.shape;
  t.data.resize(count);
  const bool swap = h.big_endian != (std::endian::native == std::endian::big);
  if (swap)
    for (std::size_t i = 0; i < count; ++i) t.data[i] = from_bytes<T>(data.data() + i * sizeof(T), swap);
  else if (count > 0)  // an empty tensor's data() may be null
    std::memcpy(t.data.data(), data.data(), count * sizeof(T));
  if (h.fortran_order) t.data = fortran_to_c(t.data, t.shape);
  return t;
}

// IEEE binary16 bits → the same value in binary32 (exact: 11 ≤ 24 significand bits,
// exponents −24..15 within float32's normal range).
float half_to_float(std::uint16_t h) {
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f) return m ? std::numeric_limits<float>::quiet_NaN() : sign * std::numeric_limits<float>::infinity();
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -24);  // subnormal (or zero)
  return sign * std::ldexp(static_cast<float>(m | 0x400), e - 25);
}

Tensor<float> decode_half(const Header& h, std::string_view data, std::size_t count) {
  Tensor<float> t;
  t.shape = h.shape;
  t.data.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto lo = static_cast<unsigned char>(data[2 * i]), hi = static_cast<unsigned char>(data[2 * i + 1]);
    t.data[i] = half_to_float(static_cast<std::uint16_t>(h.big_endian ? (lo << 8) | hi : (hi << 8) | lo));
  }
  if (h.fortran_order) t.data = fortran_to_c(t.data, t.shape);
  return t;
}

std::uint64_t read_le(std::string_view b) {
  std::uint64_t x = 0;
  for (std::size_t i = b.size(); i-- > 0;) x = (x << 8) | static_cast<unsigned char>(b[i]);
  return x;
}

void append_le(std::string& out, std::uint64_t x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>((x >> (8 * i)) & 0xff);
}

template <class T>
const char* dtype_name() {
  return sizeof(T) == 4 ? "float32 ('<f4')" : "float64 ('<f8')";
}

}  // namespace

AnyTensor read_npy(const std::string& path, bool half, bool* was_half) {
  const std::string bytes = read_all(path);
  const std::string_view b(bytes);
  if (b.substr(0, kMagic.size()) != kMagic.substr(0, std::min(b.size(), kMagic.size())))
    fail(path, "not a .npy file (bad magic string, expected \\x93NUMPY)");
  if (b.size() < kMagic.size() + 2)
    fail(path, "truncated preamble (" + std::to_string(b.size()) + " bytes)");
  const unsigned major = static_cast<unsigned char>(b[6]), minor = static_cast<unsigned char>(b[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (need 1.0, 2.0 or 3.0)");
  // Version 1.0 has a 2-byte header length; 2.0 and 3.0 (UTF-8 header) have 4.
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t preamble = kMagic.size() + 2 + len_size;
  if (b.size() < preamble) fail(path, "truncated preamble (" + std::to_string(b.size()) + " bytes)");
  const std::uint64_t header_len = read_le(b.substr(8, len_size));
  if (header_len > b.size() - preamble)
    fail(path, "truncated header: header length is " + std::to_string(header_len) + " bytes but only " +
                   std::to_string(b.size() - preamble) + " follow");
  const Header h = parse_header(path, b.substr(preamble, header_len));
  if (h.is_half && !half)
    fail(path, "field 'descr': unsupported dtype '" + h.descr + "' (need float32 '<f4' or float64 '<f8')");
  if (was_half) *was_half = h.is_half;

  const std::string_view data = b.substr(preamble + header_len);
  const std::int64_t item = h.is_double ? 8 : h.is_half ? 2 : 4;
  std::int64_t need = item;
  for (std::int64_t d : h.shape)
    if (__builtin_mul_overflow(need, d, &need))
      fail(path, "field 'shape' " + shape_repr(h.shape) + " has more elements than fit in 64 bits");
  const auto have = static_cast<std::int64_t>(data.size());
  if (need > have)
    fail(path, "shape " + shape_repr(h.shape) + " of '" + h.descr + "' needs " + std::to_string(need) +
                   " data bytes but the file has " + std::to_string(have) + " (data section truncated)");
  if (need < have)
    fail(path, std::to_string(have - need) + " trailing bytes after the data section (shape " + shape_repr(h.shape) +
                   " of '" + h.descr + "' needs " + std::to_string(need) + " bytes)");
  const auto count = static_cast<std::size_t>(need / item);
  if (h.is_double) return decode<double>(h, data, count);
  if (h.is_half) return decode_half(h, data, count);
  return decode<float>(h, data, count);
}

template <class T>
Tensor<T> read_npy_as(const std::string& path, const std::string& what) {
  AnyTensor any = read_npy(path);
  if (auto* t = std::get_if<Tensor<T>>(&any)) return std::move(*t);
  const char* found = std::holds_alternative<Tensor<float>>(any) ? dtype_name<float>() : dtype_name<double>();
  fail(path, "tensor '" + what + "' has dtype " + found + " but " + dtype_name<T>() + " is required");
}

template <class T>
void write_npy(const std::string& path, const Tensor<T>& t) {
  bool consistent = true;
  std::int64_t n = 1;
  for (std::int64_t d : t.shape) consistent = consistent && d >= 0 && !__builtin_mul_overflow(n, d, &n);
  if (!consistent || n != t.size())
    fail(path, "cannot write tensor: shape " + shape_repr(t.shape) + " does not match its " +
                   std::to_string(t.size()) + " elements");

  std::string dict = std::string("{'descr': '") + (sizeof(T) == 4 ? "<f4" : "<f8") +
                     "', 'fortran_order': False, 'shape': " + shape_repr(t.shape) + ", }";
  if (!t.shape.empty()) {
    const std::size_t digits = std::to_string(t.shape[0]).size();
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  // As numpy's _wrap_header: version 1.0 unless the padded header needs more
  // than 16 bits; the padding is 1..64 spaces, then a newline.
  std::string out;
  for (const std::size_t len_size : {2, 4}) {
    const std::size_t hlen = dict.size() + 1;
    const std::size_t pad = kAlign - (kMagic.size() + 2 + len_size + hlen) % kAlign;
    if (len_size == 2 && hlen + pad > 0xffff) continue;
    out.reserve(kMagic.size() + 2 + len_size + hlen + pad + t.data.size() * sizeof(T));
    out += kMagic;
    out += static_cast<char>(len_size == 2 ? 1 : 2);
    out += '\0';
    append_le(out, hlen + pad, len_size);
    out += dict;
    out.append(pad, ' ');
    out += '\n';
    break;
  }
  if constexpr (std::endian::native == std::endian::little) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(T));
  } else {
    for (T x : t.data) append_le(out, std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(x), sizeof(T));
  }
  write_file_atomic(path, out);
}

template Tensor<float> read_npy_as<float>(const std::string&, const std::string&);
template Tensor<double> read_npy_as<double>(const std::string&, const std::string&);
template void write_npy<float>(const std::string&, const Tensor<float>&);
template void write_npy<double>(const std::string&, const Tensor<double>&);

}  // namespace certconv
