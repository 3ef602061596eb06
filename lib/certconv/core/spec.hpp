#pragma once
// ConvSpec: one 2-D convolution problem, in oneDNN/benchdnn conventions.
// Dilation follows oneDNN: dh = 0 means no dilation (PyTorch dilation 1); the
// effective kernel height is (kh - 1) * (dh + 1) + 1. ph/pw are the top/left
// padding; bottom/right padding is whatever oh/ow imply.
//
// Output (n, oc, oy, ox) with group gi = oc / (oc/g) reads input rows
//   iy = oy*sh - ph + ky*(dh+1), ix = ox*sw - pw + kx*(dw+1)
// for ic in [gi*ic/g, (gi+1)*ic/g); taps outside [0,ih)×[0,iw) are padding (zero).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certconv {

// ConvDesc: a convolution of any spatial rank (1-D, 2-D, 3-D) as benchdnn
// describes it. The axes are depth, height, width; a rank-r problem uses the last
// r and keeps the others trivial (size 1, stride 1, no padding or dilation), so
// one loop nest over three axes serves every rank. Tensors have rank spatial
// dimensions: x [mb, ic, i...], w [oc, ic/g, k...], y [mb, oc, o...].
struct ConvAxis {
  std::int64_t i = 1, o = 1, k = 1, s = 1, p = 0, d = 0;
  bool operator==(const ConvAxis&) const = default;
};

struct ConvDesc {
  int rank = 2;
  std::int64_t g = 1, mb = 1, ic = 0, oc = 0;
  std::array<ConvAxis, 3> axis;  // depth, height, width
  std::string name;

  // Terms per forward output: ic/g · kd · kh · kw.
  std::int64_t n_terms() const { return ic / g * axis[0].k * axis[1].k * axis[2].k; }
  std::vector<std::int64_t> x_shape() const { return with_spatial({mb, ic}, &ConvAxis::i); }
  std::vector<std::int64_t> w_shape() const { return with_spatial({oc, ic / g}, &ConvAxis::k); }
  std::vector<std::int64_t> y_shape() const { return with_spatial({mb, oc}, &ConvAxis::o); }
  bool operator==(const ConvDesc&) const = default;

 private:
  std::vector<std::int64_t> with_spatial(std::vector<std::int64_t> v, std::int64_t ConvAxis::*f) const {
    for (int a = 3 - rank; a < 3; ++a) v.push_back(axis[a].*f);
    return v;
  }
};

struct ConvSpec {
  std::int64_t g = 1, mb = 1;
  std::int64_t ic = 0, ih = 0, iw = 0;
  std::int64_t oc = 0, oh = 0, ow = 0;
  std::int64_t kh = 0, kw = 0;
  std::int64_t sh = 1, sw = 1;
  std::int64_t ph = 0, pw = 0;
  std::int64_t dh = 0, dw = 0;
  std::string name;  // benchdnn n"..." without quotes; may be empty
  // Set on a problem lowered from a backward direction or from 3-D (core/lower.cpp): the
  // convolution as given, for orders that emulate one direction's kernel and loop
  // over its axes (a 3-D problem's lowered channels are (channel, depth) pairs).
  std::optional<ConvDesc> origin;

  // Terms per output: n = ic/g · kh · kw (the vocabulary's n).
  std::int64_t n_terms() const { return ic / g * kh * kw; }
  std::int64_t x_size() const { return mb * ic * ih * iw; }
  std::int64_t w_size() const { return oc * (ic / g) * kh * kw; }
  std::int64_t y_size() const { return mb * oc * oh * ow; }
  std::vector<std::int64_t> x_shape() const { return {mb, ic, ih, iw}; }
  std::vector<std::int64_t> w_shape() const { return {oc, ic / g, kh, kw}; }
  std::vector<std::int64_t> y_shape() const { return {mb, oc, oh, ow}; }
  std::int64_t pad_bottom() const { return (oh - 1) * sh + (kh - 1) * (dh + 1) + 1 - ih - ph; }
  std::int64_t pad_right() const { return (ow - 1) * sw + (kw - 1) * (dw + 1) + 1 - iw - pw; }

  bool operator==(const ConvSpec&) const = default;
};

// Any rank: benchdnn's rules, strict as parse_benchdnn. A 1-D descriptor has
// only w fields; a 3-D one has d fields, and there h copies d and w copies h
// where they are not described (benchdnn's square default).
ConvDesc parse_conv_desc(std::string_view desc, std::optional<std::int64_t> mb_override = {});
// Canonical descriptor of the rank's fields; for rank 2 the same as ConvSpec's.
std::string to_benchdnn(const ConvDesc& d);
// Checks every field of the used axes, fills o when 0. Throws InputError naming the field.
void validate(ConvDesc& d);
// Between the 2-D ConvSpec and ConvDesc: a 1-D problem is a 2-D one of height 1.
ConvDesc conv_desc(const ConvSpec& s);
ConvSpec spec_2d(const ConvDesc& d);  // rank 1 or 2; throws InputError for rank 3
// Every problem of a shapes file, any rank.
std::vector<ConvDesc> read_shapes_file_any(const std::string& path, std::optional<std::int64_t> mb_override = {});

// Parses a benchdnn descriptor (e.g. "mb1ic3ih224oc64oh112kh7sh2ph3"); missing w
// values copy h values, oh/ow are deduced when absent, then validate() runs.
// mb_override replaces the descriptor's mb. 1-D/3-D descriptors are rejected.
// Throws InputError naming the field at fault.
ConvSpec parse_benchdnn(std::string_view desc, std::optional<std::int64_t> mb_override = {});

// Canonical descriptor: g, mb, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw
// and the name, so that parse_benchdnn(to_benchdnn(s)) == s.
std::string to_benchdnn(const ConvSpec& s);

// PyTorch-style construction: dilation 1 = none; oh/ow computed.
ConvSpec from_pytorch(std::int64_t mb, std::int64_t ic, std::int64_t ih, std::int64_t iw,
                      std::int64_t oc, std::int64_t kh, std::int64_t kw,
                      std::int64_t stride_h, std::int64_t stride_w,
                      std::int64_t pad_h, std::int64_t pad_w,
                      std::int64_t dil_h, std::int64_t dil_w, std::int64_t groups);

// Checks every field and fills oh/ow when 0. Throws InputError naming the field.
void validate(ConvSpec& s);

// One problem per non-comment line of a benchdnn shapes file; 2-D only unless
// skip_non_2d, which drops 1-D/3-D lines instead of failing.
std::vector<ConvSpec> read_shapes_file(const std::string& path,
                                       std::optional<std::int64_t> mb_override = {},
                                       bool skip_non_2d = false);

}  // namespace certconv
