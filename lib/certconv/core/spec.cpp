// ConvSpec parsing (benchdnn descriptor syntax), printing and validation.
// The parser follows oneDNN v2.6.3 tests/benchdnn/conv/conv_aux.cpp (str2desc)
// and tests/benchdnn/common.cpp (sanitize_desc), but it is strict where
// benchdnn is lax: unknown text, missing or negative numbers and repeated
// fields are errors instead of silently read as 0 or overwritten.
#include "certconv/core/spec.hpp"

#include "certconv/core/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>

namespace certconv {

namespace {

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "\"" + std::string(...).
std::string quoted(std::string_view desc) {
  std::string q(1, '"');
  q.append(desc);
  q.push_back('"');
  return q;
}

std::int64_t mul(std::int64_t a, std::int64_t b, const std::string& what) {
  std::int64_t r;
  require(!__builtin_mul_overflow(a, b, &r), "sizes overflow 64 bits: " + what);
  return r;
}

std::int64_t add(std::int64_t a, std::int64_t b, const std::string& what) {
  std::int64_t r;
  require(!__builtin_add_overflow(a, b, &r), "sizes overflow 64 bits: " + what);
  return r;
}

// benchdnn's field names; the enum order matches the table.
enum Field { G, MB, IC, ID, IH, IW, OC, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW, N_FIELDS };
constexpr std::array<std::string_view, N_FIELDS> field_names = {
    "g", "mb", "ic", "id", "ih", "iw", "oc", "od", "oh", "ow", "kd",
    "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw", "dd", "dh", "dw"};

struct Fields {
  std::array<std::optional<std::int64_t>, N_FIELDS> v;
  std::string name;

  std::int64_t get(Field f, std::int64_t dflt) const { return v[f].value_or(dflt); }
};

Fields tokenize(std::string_view desc) {
  require(!desc.empty(), "empty convolution descriptor");
  Fields out;
  std::size_t pos = 0;
  while (pos < desc.size()) {
    const char c = desc[pos];
    if (c == '_') {
      ++pos;
      continue;
    }
    if (c == 'n') {
      const std::string_view rest = desc.substr(pos + 1);
      if (!rest.empty() && rest.front() == '"') {
        // The name runs to the descriptor's final quote, so it may hold any
        // character, quotes included; that keeps to_benchdnn round-trippable.
        require(rest.size() >= 2 && rest.back() == '"',
                "name: missing closing quote in descriptor " + quoted(desc));
        out.name = std::string(rest.substr(1, rest.size() - 2));
      } else {
        require(!rest.empty(), "name: 'n' is not followed by a name in descriptor " + quoted(desc));
        out.name = std::string(rest);
      }
      break;
    }
    const auto match = std::find_if(field_names.begin(), field_names.end(),
                                    [&](std::string_view f) { return desc.substr(pos, f.size()) == f; });
    if (match == field_names.end()) {
      const bool letters = std::isalpha(static_cast<unsigned char>(c));
      throw InputError((letters ? "unknown field '" + std::string(desc.substr(pos, 2)) + "'"
                                : "unexpected character '" + std::string(1, c) + "'") +
                       " at offset " + std::to_string(pos) + " in descriptor " + quoted(desc));
    }
    const auto f = static_cast<Field>(match - field_names.begin());
    const std::string fname(*match);
    pos += fname.size();
    require(!out.v[f], fname + " is given twice in descriptor " + quoted(desc));
    require(pos >= desc.size() || desc[pos] != '-', fname + " is negative in descriptor " + quoted(desc));
    require(pos < desc.size() && std::isdigit(static_cast<unsigned char>(desc[pos])),
            fname + " has no number in descriptor " + quoted(desc));
    std::int64_t value = 0;
    for (; pos < desc.size() && std::isdigit(static_cast<unsigned char>(desc[pos])); ++pos) {
      require(!__builtin_mul_overflow(value, 10, &value) && !__builtin_add_overflow(value, desc[pos] - '0', &value),
              fname + " does not fit in 64 bits in descriptor " + quoted(desc));
    }
    out.v[f] = value;
  }
  return out;
}

// benchdnn's test for "this spatial dimension is described" (str2desc's no_d,
// no_h, no_w): a nonzero size, kernel, output or dilation, a stride other than
// 1, or a padding of at least 1. Returns the first field that describes it.
std::optional<Field> describing_field(const Fields& f, Field i, Field o, Field k, Field s, Field p, Field d) {
  for (Field x : {i, o, k, d})
    if (f.get(x, 0) != 0) return x;
  if (f.get(s, 1) != 1) return s;
  if (f.get(p, 0) >= 1) return p;
  return std::nullopt;
}

enum class Dims { two, one, three, none };

Dims dims_of(const Fields& f) {
  if (describing_field(f, ID, OD, KD, SD, PD, DD)) return Dims::three;
  if (describing_field(f, IH, OH, KH, SH, PH, DH)) return Dims::two;
  if (describing_field(f, IW, OW, KW, SW, PW, DW)) return Dims::one;
  return Dims::none;
}

// One spatial dimension as benchdnn fills it: ph deduced from oh when only oh
// is given (benchdnn's compute_pad, truncating division), 0 when neither is.
// An absent o stays 0 for validate() to deduce.
struct Axis {
  std::int64_t i, o, k, s, p, d;
};

Axis read_axis(const Fields& f, Field i, Field o, Field k, Field s, Field p, Field d, std::string_view desc) {
  const auto name = [](Field x) { return std::string(field_names[x]); };
  require(f.v[i].has_value(), name(i) + " is missing in descriptor " + quoted(desc));
  require(f.v[k].has_value(), name(k) + " is missing in descriptor " + quoted(desc));
  require(f.get(o, 1) != 0, name(o) + "=0 must be >= 1 (leave " + name(o) + " out to have it deduced) in descriptor " +
                                quoted(desc));
  Axis a{*f.v[i], f.get(o, 0), *f.v[k], f.get(s, 1), f.get(p, 0), f.get(d, 0)};
  if (a.o != 0 && !f.v[p]) {
    const std::string what = "deducing " + name(p) + " from " + name(o) + " in descriptor " + quoted(desc);
    const std::int64_t ext = add(mul(a.k - 1, add(a.d, 1, what), what), 1, what);
    a.p = add(add(mul(a.o - 1, a.s, what), -a.i, what), ext, what) / 2;
    require(a.p >= 0, name(p) + " deduced from " + name(o) + "=" + std::to_string(a.o) + " is negative (" +
                          std::to_string(a.p) + "): " + name(o) + " is too small in descriptor " + quoted(desc));
  }
  return a;
}

// The problem of any rank, validated; build() keeps the 2-D engine's door.
ConvDesc build_desc(const Fields& f, std::string_view desc, std::optional<std::int64_t> mb_override) {
  const Dims dims = dims_of(f);
  require(dims != Dims::none, "no spatial sizes (ih, kh) in descriptor " + quoted(desc));
  ConvDesc c;
  c.rank = dims == Dims::one ? 1 : dims == Dims::two ? 2 : 3;
  const auto as_axis = [](const Axis& a) { return ConvAxis{a.i, a.o, a.k, a.s, a.p, a.d}; };
  if (c.rank == 3) {
    const Axis d = read_axis(f, ID, OD, KD, SD, PD, DD, desc);
    const Axis h = describing_field(f, IH, OH, KH, SH, PH, DH) ? read_axis(f, IH, OH, KH, SH, PH, DH, desc) : d;
    const Axis w = describing_field(f, IW, OW, KW, SW, PW, DW) ? read_axis(f, IW, OW, KW, SW, PW, DW, desc) : h;
    c.axis = {as_axis(d), as_axis(h), as_axis(w)};
  } else if (c.rank == 2) {
    // As in benchdnn, w copies h as a whole when no w field describes it; once
    // one does, w stands alone (iw and kw required, sw=1, dw=0 by default).
    const Axis h = read_axis(f, IH, OH, KH, SH, PH, DH, desc);
    const Axis w = describing_field(f, IW, OW, KW, SW, PW, DW) ? read_axis(f, IW, OW, KW, SW, PW, DW, desc) : h;
    c.axis[1] = as_axis(h);
    c.axis[2] = as_axis(w);
  } else {
    c.axis[2] = as_axis(read_axis(f, IW, OW, KW, SW, PW, DW, desc));
  }
  c.g = f.get(G, 1);
  c.mb = mb_override ? *mb_override : f.get(MB, 2);  // benchdnn's default minibatch
  c.ic = f.get(IC, 0);
  c.oc = f.get(OC, 0);
  c.name = f.name;
  try {
    validate(c);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " in descriptor " + quoted(desc));
  }
  return c;
}

// The 2-D engine's door: 1-D and 3-D descriptors are refused, naming why.
ConvSpec build(const Fields& f, std::string_view desc, std::optional<std::int64_t> mb_override) {
  switch (dims_of(f)) {
    case Dims::three: {
      const Field why = *describing_field(f, ID, OD, KD, SD, PD, DD);
      throw InputError("3-D convolution descriptors are not supported: " + quoted(desc) + " (" +
                       std::string(field_names[why]) + " describes a depth dimension)");
    }
    case Dims::one:
      throw InputError("1-D convolution descriptors are not supported: " + quoted(desc) +
                       " (it describes w but not h: no ih)");
    default: break;
  }
  return spec_2d(build_desc(f, desc, mb_override));
}

struct AxisNames {
  const char *i, *o, *k, *s, *p, *d, *extent;
};

// Fills o when 0, else checks the bottom/right padding that o implies,
//   pb = (o-1)*s + (k-1)*(d+1) + 1 - i - p   (ConvSpec::pad_bottom),
// evaluated in that order so that pad_bottom() cannot overflow afterwards.
// The rule for a given o is  -s < pb <= max(p, (k-1)*(d+1)).
//  - pb > -s is oneDNN's own check (conv_desc_init: pad_r + str > 0): with
//    pb <= -s a whole stride step of input rows is left over, so o is short.
//  - pb <= max(p, extent-1) bounds o from above. oneDNN accepts any larger o,
//    but then trailing outputs read nothing but padding, which no real layer
//    does unless its top padding already does so (shapes_regression_padding:
//    ih10kh5ph7). Real shapes use pb up to extent-1 (shapes_large_padding:
//    ih30oh37kh14ph10dh2 has pb=36, extent 40; shapes_dilated:42 has pw=1,
//    pb=4, sw=2, extent 7), so no tighter bound is possible: resnet_50:conv1
//    with oh=113 (pb=4, ph=3, extent 7) is as asymmetric as dilated:42 and is
//    accepted; oh=115 (pb=8) is rejected.
void fill_or_check_axis(std::int64_t i, std::int64_t& o, std::int64_t k, std::int64_t s, std::int64_t p,
                        std::int64_t d, const AxisNames& n) {
  const std::string what = std::string(n.extent) + " geometry";
  const std::int64_t ext = add(mul(k - 1, add(d, 1, what), what), 1, what);
  const std::string ext_text = "effective kernel " + std::string(n.extent) + " (" + n.k + "-1)*(" + n.d + "+1)+1 = " +
                               std::to_string(ext);
  if (o == 0) {
    const std::int64_t padded = add(i, mul(2, p, what), what);
    require(ext <= padded, ext_text + " is larger than the padded input " + n.extent + " " + n.i + "+2*" + n.p +
                               " = " + std::to_string(padded) + " (" + n.k + "=" + std::to_string(k) + ")");
    o = (padded - ext) / s + 1;
    return;
  }
  const std::int64_t pb =
      add(add(add(add(mul(o - 1, s, what), ext - 1, what), 1, what), -i, what), -p, what);
  const std::string o_text = std::string(n.o) + "=" + std::to_string(o);
  require(pb > -s, o_text + " is too small: it leaves " + std::to_string(-pb) + " input rows unused, a whole " +
                       n.s + "=" + std::to_string(s) + " step or more (oneDNN rejects it)");
  require(pb <= std::max(p, ext - 1),
          o_text + " is too large: it implies end padding " + std::to_string(pb) + ", more than both " + n.p + "=" +
              std::to_string(p) + " and the " + ext_text + " minus 1, so the last outputs read only padding");
}

}  // namespace

void validate(ConvDesc& c) {
  const auto at_least = [](std::int64_t v, std::int64_t min, const std::string& field) {
    require(v >= min, field + "=" + std::to_string(v) + " must be >= " + std::to_string(min));
  };
  require(c.rank >= 1 && c.rank <= 3, "rank=" + std::to_string(c.rank) + " must be 1, 2 or 3");
  at_least(c.g, 1, "g");
  at_least(c.mb, 1, "mb");
  at_least(c.ic, 1, "ic");
  static constexpr std::array<const char*, 3> letter = {"d", "h", "w"};
  static constexpr std::array<const char*, 3> extent = {"depth", "height", "width"};
  for (int a = 0; a < 3; ++a) {
    const ConvAxis& x = c.axis[a];
    if (a < 3 - c.rank) {
      require(x == ConvAxis{}, std::string(extent[a]) + " must be trivial in a " + std::to_string(c.rank) +
                                   "-D problem");
      continue;
    }
    at_least(x.i, 1, std::string("i") + letter[a]);
  }
  at_least(c.oc, 1, "oc");
  for (int a = 3 - c.rank; a < 3; ++a) {
    const ConvAxis& x = c.axis[a];
    const std::string l = letter[a];
    at_least(x.k, 1, "k" + l);
    at_least(x.s, 1, "s" + l);
    at_least(x.p, 0, "p" + l);
    at_least(x.d, 0, "d" + l);
    at_least(x.o, 0, "o" + l);  // 0 asks for deduction
  }
  const std::string by_g = " is not divisible by g=" + std::to_string(c.g);
  require(c.ic % c.g == 0, "ic=" + std::to_string(c.ic) + by_g);
  require(c.oc % c.g == 0, "oc=" + std::to_string(c.oc) + by_g);

  for (int a = 3 - c.rank; a < 3; ++a) {
    ConvAxis& x = c.axis[a];
    const std::string l = letter[a];
    const std::array<std::string, 6> n = {"i" + l, "o" + l, "k" + l, "s" + l, "p" + l, "d" + l};
    fill_or_check_axis(x.i, x.o, x.k, x.s, x.p, x.d,
                       {n[0].c_str(), n[1].c_str(), n[2].c_str(), n[3].c_str(), n[4].c_str(), n[5].c_str(),
                        extent[a]});
  }

  // Same association as the size helpers, so none of them can overflow.
  const auto sizes = [&](const std::string& expr) {
    std::string t = expr + " with mb=" + std::to_string(c.mb) + " ic=" + std::to_string(c.ic);
    for (int a = 3 - c.rank; a < 3; ++a) t += std::string(" i") + letter[a] + "=" + std::to_string(c.axis[a].i);
    t += " oc=" + std::to_string(c.oc);
    for (int a = 3 - c.rank; a < 3; ++a) t += std::string(" o") + letter[a] + "=" + std::to_string(c.axis[a].o);
    for (int a = 3 - c.rank; a < 3; ++a) t += std::string(" k") + letter[a] + "=" + std::to_string(c.axis[a].k);
    return t + " g=" + std::to_string(c.g);
  };
  const auto spatial = [&](std::int64_t ConvAxis::*f, const char* prefix) {
    std::vector<std::int64_t> v;
    std::string e;
    for (int a = 3 - c.rank; a < 3; ++a) {
      v.push_back(c.axis[a].*f);
      e += std::string("*") + prefix + letter[a];
    }
    return std::pair{v, e};
  };
  const auto product = [&](std::vector<std::int64_t> factors, const std::string& expr) {
    std::int64_t r = 1;
    for (std::int64_t x : factors) r = mul(r, x, sizes(expr));
    return r;
  };
  const auto cat = [](std::vector<std::int64_t> a, const std::vector<std::int64_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const auto [ik, ie] = spatial(&ConvAxis::i, "i");
  const auto [ok, oe] = spatial(&ConvAxis::o, "o");
  const auto [kk, ke] = spatial(&ConvAxis::k, "k");
  product(cat({c.ic / c.g}, kk), "n_terms = ic/g" + ke);
  product(cat({c.mb, c.ic}, ik), "x_size = mb*ic" + ie);
  product(cat({c.oc, c.ic / c.g}, kk), "w_size = oc*(ic/g)" + ke);
  product(cat({c.mb, c.oc}, ok), "y_size = mb*oc" + oe);
  product(cat(cat({c.mb, c.oc}, ok), cat({c.ic / c.g}, kk)), "mb*oc" + oe + "*n_terms");
}

void validate(ConvSpec& s) {
  ConvDesc c = conv_desc(s);
  validate(c);
  s = spec_2d(c);
}

ConvDesc conv_desc(const ConvSpec& s) {
  ConvDesc c;
  c.rank = 2;
  c.g = s.g, c.mb = s.mb, c.ic = s.ic, c.oc = s.oc;
  c.axis[1] = {s.ih, s.oh, s.kh, s.sh, s.ph, s.dh};
  c.axis[2] = {s.iw, s.ow, s.kw, s.sw, s.pw, s.dw};
  c.name = s.name;
  return c;
}

ConvSpec spec_2d(const ConvDesc& c) {
  if (c.rank > 2) throw InputError("a 3-D problem (" + to_benchdnn(c) + ") has no 2-D form");
  ConvSpec s;
  s.g = c.g, s.mb = c.mb, s.ic = c.ic, s.oc = c.oc;
  const ConvAxis &h = c.axis[1], &w = c.axis[2];
  s.ih = h.i, s.oh = h.o, s.kh = h.k, s.sh = h.s, s.ph = h.p, s.dh = h.d;
  s.iw = w.i, s.ow = w.o, s.kw = w.k, s.sw = w.s, s.pw = w.p, s.dw = w.d;
  s.name = c.name;
  return s;
}

ConvDesc parse_conv_desc(std::string_view desc, std::optional<std::int64_t> mb_override) {
  return build_desc(tokenize(desc), desc, mb_override);
}

std::string to_benchdnn(const ConvDesc& c) {
  if (c.rank == 2) return to_benchdnn(spec_2d(c));
  std::string out;
  const auto put = [&](const std::string& field, std::int64_t v) { out += field + std::to_string(v); };
  static constexpr std::array<const char*, 3> letter = {"d", "h", "w"};
  const auto spatial = [&](const char* prefix, std::int64_t ConvAxis::*f) {
    for (int a = 3 - c.rank; a < 3; ++a) put(prefix + std::string(letter[a]), c.axis[a].*f);
  };
  put("g", c.g);
  put("mb", c.mb);
  put("ic", c.ic);
  spatial("i", &ConvAxis::i);
  put("oc", c.oc);
  spatial("o", &ConvAxis::o);
  spatial("k", &ConvAxis::k);
  spatial("s", &ConvAxis::s);
  spatial("p", &ConvAxis::p);
  spatial("d", &ConvAxis::d);
  if (!c.name.empty()) out += "n\"" + c.name + "\"";
  return out;
}

ConvSpec parse_benchdnn(std::string_view desc, std::optional<std::int64_t> mb_override) {
  return build(tokenize(desc), desc, mb_override);
}

std::string to_benchdnn(const ConvSpec& s) {
  std::string out;
  const auto put = [&](const char* field, std::int64_t v) { out += field + std::to_string(v); };
  put("g", s.g);
  put("mb", s.mb);
  put("ic", s.ic);
  put("ih", s.ih);
  put("iw", s.iw);
  put("oc", s.oc);
  put("oh", s.oh);
  put("ow", s.ow);
  put("kh", s.kh);
  put("kw", s.kw);
  put("sh", s.sh);
  put("sw", s.sw);
  put("ph", s.ph);
  put("pw", s.pw);
  put("dh", s.dh);
  put("dw", s.dw);
  if (!s.name.empty()) out += "n\"" + s.name + "\"";
  return out;
}

ConvSpec from_pytorch(std::int64_t mb, std::int64_t ic, std::int64_t ih, std::int64_t iw, std::int64_t oc,
                      std::int64_t kh, std::int64_t kw, std::int64_t stride_h, std::int64_t stride_w,
                      std::int64_t pad_h, std::int64_t pad_w, std::int64_t dil_h, std::int64_t dil_w,
                      std::int64_t groups) {
  require(dil_h >= 1, "dilation_h=" + std::to_string(dil_h) + " must be >= 1 (PyTorch: 1 means no dilation)");
  require(dil_w >= 1, "dilation_w=" + std::to_string(dil_w) + " must be >= 1 (PyTorch: 1 means no dilation)");
  ConvSpec s;
  s.g = groups;
  s.mb = mb;
  s.ic = ic, s.ih = ih, s.iw = iw;
  s.oc = oc;
  s.kh = kh, s.kw = kw;
  s.sh = stride_h, s.sw = stride_w;
  s.ph = pad_h, s.pw = pad_w;
  s.dh = dil_h - 1, s.dw = dil_w - 1;
  validate(s);  // oh = floor((ih + 2ph - dil_h(kh-1) - 1)/sh) + 1, as in PyTorch
  return s;
}

namespace {

// Calls f(fields, descriptor) for each problem line; errors get path:line.
template <class F>
void for_each_shape_line(const std::string& path, F&& f) {
  std::ifstream in(path);
  require(in.good(), "cannot open shapes file '" + path + "'");
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    // '#' starts a comment except inside a quoted name.
    bool in_quotes = false;
    std::size_t end = 0;
    for (; end < line.size() && (in_quotes || line[end] != '#'); ++end)
      if (line[end] == '"') in_quotes = !in_quotes;
    const std::string_view text(line.data(), end);
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    const std::string_view desc = text.substr(first, text.find_last_not_of(" \t\r") + 1 - first);
    try {
      f(tokenize(desc), desc);
    } catch (const InputError& e) {
      throw InputError(path + ":" + std::to_string(lineno) + ": " + e.what());
    }
  }
  require(!in.bad(), "cannot read shapes file '" + path + "'");
}

}  // namespace

std::vector<ConvSpec> read_shapes_file(const std::string& path, std::optional<std::int64_t> mb_override,
                                       bool skip_non_2d) {
  std::vector<ConvSpec> out;
  for_each_shape_line(path, [&](const Fields& f, std::string_view desc) {
    if (skip_non_2d && (dims_of(f) == Dims::one || dims_of(f) == Dims::three)) return;
    out.push_back(build(f, desc, mb_override));
  });
  return out;
}

std::vector<ConvDesc> read_shapes_file_any(const std::string& path, std::optional<std::int64_t> mb_override) {
  std::vector<ConvDesc> out;
  for_each_shape_line(path, [&](const Fields& f, std::string_view desc) {
    out.push_back(build_desc(f, desc, mb_override));
  });
  return out;
}

}  // namespace certconv
