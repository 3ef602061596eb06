// onednn:prop=training|inference,alg=direct|auto|winograd,src=any|nchw,dt=f32|bf16,
// dst=bf16|f32,bias=bf16|f32 — the real dnnl::convolution_forward of the oneDNN the
// build found (Debian: 2.6.3), float32 or bf16.
//
// dt=bf16 asks what PyTorch 1.13's bf16 conv2d asks (ideep passes the tensors' own
// data types): src, weights and bias bf16 (bias=f32 keeps the bias float32), dst bf16
// (dst=f32: float32). The float32 inputs are rounded to bf16 first, nearest-even
// (orders/input_format.hpp; exact for values that are bf16 already), and a bf16 dst
// is widened exactly into the float32 output. On CPUs with AVX512_BF16 oneDNN runs
// jit_bf16:avx512_core_bf16 (jit_bf16_1x1 for 1x1 layers), which onednn-avx512-bf16
// reproduces; with ONEDNN_MAX_CPU_ISA=AVX512_CORE it runs the same kernels on
// avx512_core, emulating the bf16 instructions with float32 FMAs (bf16_emulation_t);
// without AVX-512 it has no bf16 convolution (an InputError). oneDNN 2.6 has no f16
// convolution on CPU: dt=f16 is an InputError.
//
// Asked the way PyTorch asks through ideep (ideep/operators/conv.hpp,
// get_primitive_desc with keep_format = false for NCHW tensors): src, weights, bias
// and dst all format_tag::any, prop_kind forward_training, convolution_direct; the
// user's NCHW / OIHW (GOIHW with groups) tensors are reordered in and out, which
// copies values without arithmetic. src=nchw pins the source layout instead; oneDNN
// then picks its GEMM-based convolution for most layers with ≥ 16 channels.
// Padding: left/top = ph/pw; right/bottom = what oh/ow imply (ConvSpec::pad_bottom,
// pad_right), at least 0 (oneDNN rounds the output size down, like PyTorch).
//
// Which kernel runs, and so the summation order, is oneDNN's choice: the provenance
// records it (impl_info_str, effective ISA, ONEDNN_MAX_CPU_ISA), and docs/orders.md
// lists the emulated order that reproduces each. The JIT direct kernels split work
// over (mb, group, oc block, output rows), never inside a sum, so the output does not
// depend on the thread count (tests/test_backends.cpp checks 1 against 2 threads).
#include "certconv/backends/onednn.hpp"

#if CERTCONV_HAVE_ONEDNN

#include <dlfcn.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>

#include "certconv/backends/backend_bound.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/orders/bf16_bound.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;
constexpr auto bf16 = memory::data_type::bf16;

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
  }
  return "unknown (" + std::to_string(static_cast<int>(isa)) + ")";
}

// oneDNN reads ONEDNN_MAX_CPU_ISA (and the older DNNL_MAX_CPU_ISA) itself, once, at
// its first dispatch; we only report what was set.
std::string max_isa_env() {
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
    if (const char* v = std::getenv(name)) return std::string(name) + "=" + v;
  return "unset";
}

// Debian's oneDNN runs on OpenMP (libdnnl links libgomp), so its thread count is
// OpenMP's. The OpenMP entry points are looked up at run time: a oneDNN built on TBB
// or sequential has none, and then the thread count is left to that runtime.
// Returns the threads oneDNN will use, 0 when unknown.
int set_openmp_threads(int threads) {
  using set_fn = void (*)(int);
  using get_fn = int (*)();
  if (auto set = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set(threads);
  auto get = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  return get ? get() : 0;
}

dnnl::algorithm algorithm_of(const std::string& alg) {
  if (alg == "direct") return dnnl::algorithm::convolution_direct;
  if (alg == "auto") return dnnl::algorithm::convolution_auto;
  return dnnl::algorithm::convolution_winograd;
}

// The user's memory in the layout the primitive wants (a copy only if it differs).
memory in_layout(memory user, const memory::desc& want, const dnnl::engine& eng, dnnl::stream& strm) {
  if (user.get_desc() == want) return user;
  memory m(want, eng);
  dnnl::reorder(user, m).execute(strm, user, m);
  return m;
}

float* writable(const Tensor<float>& t) {
  // oneDNN's memory objects take a non-const handle; inputs are only read.
  return const_cast<float*>(t.data.data());
}

// The upper half of each float32: exact for values already rounded to bf16.
std::vector<std::uint16_t> bf16_bits(const Tensor<float>& t) {
  std::vector<std::uint16_t> b(t.data.size());
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(t.data[i]) >> 16);
  return b;
}

std::string version_text() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace

OrderOutput<float> onednn_convolution(const ConvProblem<float>& p, const OnednnConfig& c, int threads) {
  check_problem(p);
  const ConvSpec& s = p.spec;
  OrderOutput<float> out;
  out.y = Tensor<float>(s.y_shape());
  const int nthr = set_openmp_threads(resolve_threads(threads));

  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::dims x_dims{s.mb, s.ic, s.ih, s.iw}, y_dims{s.mb, s.oc, s.oh, s.ow}, b_dims{s.oc};
  // Groups: oneDNN's weights are [g, oc/g, ic/g, kh, kw], the same bytes as OIHW.
  const memory::dims w_dims =
      s.g == 1 ? memory::dims{s.oc, s.ic, s.kh, s.kw} : memory::dims{s.g, s.oc / s.g, s.ic / s.g, s.kh, s.kw};
  // Data types as asked; bf16 data lives in the buffers below, rounded from p.
  const auto src_dt = c.bf16 ? bf16 : f32, dst_dt = c.bf16 && c.bf16_dst ? bf16 : f32,
             bias_dt = c.bf16 && c.bf16_bias ? bf16 : f32;
  std::vector<std::uint16_t> xb, wb, bb, yb;
  if (c.bf16) {
    const OwnedProblem<float> r = round_problem(p, InputFormat::bf16);
    xb = bf16_bits(r.x);
    wb = bf16_bits(r.w);
    if (p.bias && c.bf16_bias) bb = bf16_bits(*r.bias);
    if (c.bf16_dst) yb.resize(out.y.data.size());
  }
  const memory::desc x_user(x_dims, src_dt, tag::nchw), y_user(y_dims, dst_dt, tag::nchw),
      b_user(b_dims, bias_dt, tag::x), w_user(w_dims, src_dt, s.g == 1 ? tag::oihw : tag::goihw);
  const memory::desc x_q = c.src_any ? memory::desc(x_dims, src_dt, tag::any) : x_user,
                     w_q(w_dims, src_dt, tag::any), b_q(b_dims, bias_dt, tag::any), y_q(y_dims, dst_dt, tag::any);
  const auto prop = c.inference ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  const memory::dims strides{s.sh, s.sw}, dilates{s.dh, s.dw}, pad_l{s.ph, s.pw},
      pad_r{std::max<std::int64_t>(0, s.pad_bottom()), std::max<std::int64_t>(0, s.pad_right())};

  std::optional<dnnl::convolution_forward::primitive_desc> pd;
  try {
    const auto d = p.bias ? dnnl::convolution_forward::desc(prop, algorithm_of(c.alg), x_q, w_q, b_q, y_q, strides,
                                                            dilates, pad_l, pad_r)
                          : dnnl::convolution_forward::desc(prop, algorithm_of(c.alg), x_q, w_q, y_q, strides,
                                                            dilates, pad_l, pad_r);
    pd.emplace(d, eng);
  } catch (const dnnl::error& e) {
    if (c.bf16)
      throw InputError("order 'onednn': dt=bf16: bf16 convolution is not supported on this CPU (" + version_text() +
                       ", alg=" + c.alg + ", effective ISA " + isa_name(dnnl::get_effective_cpu_isa()) + ", " +
                       max_isa_env() + ": " + e.what() + ")");
    throw InputError("order 'onednn': oneDNN has no alg=" + c.alg + " implementation for " + to_benchdnn(s) +
                     " on this CPU (" + e.what() + ")");
  }

  const memory x_mem(x_user, eng, c.bf16 ? static_cast<void*>(xb.data()) : writable(p.x)),
      w_mem(w_user, eng, c.bf16 ? static_cast<void*>(wb.data()) : writable(p.w));
  memory y_mem(y_user, eng, yb.empty() ? static_cast<void*>(out.y.data.data()) : yb.data());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in_layout(x_mem, pd->src_desc(), eng, strm)},
                                       {DNNL_ARG_WEIGHTS, in_layout(w_mem, pd->weights_desc(), eng, strm)}};
  if (p.bias)
    args.emplace(DNNL_ARG_BIAS, in_layout(memory(b_user, eng, bb.empty() ? static_cast<void*>(writable(*p.bias))
                                                                         : bb.data()),
                                          pd->bias_desc(), eng, strm));
  const bool dst_is_nchw = pd->dst_desc() == y_user;
  memory dst = dst_is_nchw ? y_mem : memory(pd->dst_desc(), eng);
  args.emplace(DNNL_ARG_DST, dst);
  dnnl::convolution_forward(*pd).execute(strm, args);
  if (!dst_is_nchw) dnnl::reorder(dst, y_mem).execute(strm, dst, y_mem);
  strm.wait();
  // A bf16 result widened: exact.
  for (std::size_t i = 0; i < yb.size(); ++i) out.y.data[i] = std::bit_cast<float>(std::uint32_t{yb[i]} << 16);

  const std::string impl = pd->impl_info_str();
  out.provenance = {{"library", version_text()},
                    {"impl_info_str", impl},
                    {"effective_isa", isa_name(dnnl::get_effective_cpu_isa())},
                    {"max_cpu_isa_env", max_isa_env()},
                    {"threads", nthr > 0 ? std::to_string(nthr) : "unknown (runtime without OpenMP)"},
                    {"prop_kind", c.inference ? "forward_inference" : "forward_training"},
                    {"algorithm", c.alg},
                    {"src_format", c.src_any ? "any" : "nchw"},
                    {"data_types", std::string("src ") + (c.bf16 ? "bf16" : "f32") + ", weights " +
                                       (c.bf16 ? "bf16" : "f32") + ", bias " +
                                       (p.bias ? (bias_dt == bf16 ? "bf16" : "f32") : "none") + ", dst " +
                                       (dst_dt == bf16 ? "bf16" : "f32")}};
  return out;
}

namespace {

memory::dims dims_of(std::vector<std::int64_t> v) { return memory::dims(v.begin(), v.end()); }

tag plain_tag(int ndims, bool grouped_weights) {
  switch (ndims) {
    case 1: return tag::x;
    case 3: return tag::ncw;
    case 4: return tag::nchw;
    case 5: return grouped_weights ? tag::goihw : tag::ncdhw;
    case 6: return tag::goidhw;
  }
  throw InputError("onednn: no plain layout for " + std::to_string(ndims) + " dimensions");
}

}  // namespace

OnednnResults onednn_direction(const ConvDesc& d, Direction dir, const Operands<float>& ops, int threads) {
  check_operands(d, dir, ops);
  const int nthr = set_openmp_threads(resolve_threads(threads));
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const int nd = d.rank + 2;
  std::vector<std::int64_t> wv = d.w_shape();
  if (d.g > 1) {
    wv[0] /= d.g;
    wv.insert(wv.begin(), d.g);
  }
  const memory::dims xd = dims_of(d.x_shape()), yd = dims_of(d.y_shape()), wd = dims_of(wv), bd{d.oc};
  const memory::desc x_user(xd, f32, plain_tag(nd, false)), y_user(yd, f32, plain_tag(nd, false)),
      w_user(wd, f32, d.g > 1 ? plain_tag(nd + 1, true) : (nd == 5 ? tag::oidhw : nd == 4 ? tag::oihw : tag::oiw)),
      b_user(bd, f32, tag::x);
  const memory::desc x_q(xd, f32, tag::any), y_q(yd, f32, tag::any), w_q(wd, f32, tag::any), b_q(bd, f32, tag::any);
  memory::dims strides, dilates, pad_l, pad_r;
  for (int a = 3 - d.rank; a < 3; ++a) {
    const ConvAxis& A = d.axis[a];
    strides.push_back(A.s);
    dilates.push_back(A.d);
    pad_l.push_back(A.p);
    pad_r.push_back(std::max<std::int64_t>(0, (A.o - 1) * A.s + (A.k - 1) * (A.d + 1) + 1 - A.i - A.p));
  }
  const auto alg = dnnl::algorithm::convolution_direct;
  const bool bias = dir == Direction::fwd_b || dir == Direction::bwd_wb;
  const auto fwd_d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, x_q, w_q, b_q, y_q,
                                                            strides, dilates, pad_l, pad_r)
                          : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, x_q, w_q, y_q,
                                                            strides, dilates, pad_l, pad_r);
  OnednnResults out;
  std::string impl;
  const auto no_impl = [&](const dnnl::error& e) {
    return InputError(std::string("backend 'onednn': oneDNN has no ") + direction_name(dir) + " implementation for " +
                      to_benchdnn(d) + " on this CPU (" + e.what() + ")");
  };
  try {
    const dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, eng);
    const auto user = [&](const memory::desc& md, const Tensor<float>* t) { return memory(md, eng, writable(*t)); };
    // Runs the primitive with its inputs reordered in, returns its outputs reordered out.
    const auto take = [&](const memory::desc& want, memory::desc user_md, std::vector<std::int64_t> shape,
                          std::unordered_map<int, memory>& args, int arg) {
      out.results.emplace_back(std::move(shape));
      memory u(user_md, eng, out.results.back().data.data());
      const bool same = want == user_md;
      const memory m = same ? u : memory(want, eng);
      args.emplace(arg, m);
      return std::pair{u, m};
    };
    if (is_forward(dir)) {
      impl = fwd_pd.impl_info_str();
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in_layout(user(x_user, ops.x), fwd_pd.src_desc(), eng, strm)},
                                           {DNNL_ARG_WEIGHTS, in_layout(user(w_user, ops.w), fwd_pd.weights_desc(), eng, strm)}};
      if (bias) args.emplace(DNNL_ARG_BIAS, in_layout(user(b_user, ops.bias), fwd_pd.bias_desc(), eng, strm));
      auto [u, m] = take(fwd_pd.dst_desc(), y_user, d.y_shape(), args, DNNL_ARG_DST);
      dnnl::convolution_forward(fwd_pd).execute(strm, args);
      if (u != m) dnnl::reorder(m, u).execute(strm, m, u);
    } else if (dir == Direction::bwd_d) {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(alg, x_q, w_q, y_q, strides, dilates, pad_l, pad_r), eng, fwd_pd);
      impl = pd.impl_info_str();
      std::unordered_map<int, memory> args{
          {DNNL_ARG_DIFF_DST, in_layout(user(y_user, ops.dy), pd.diff_dst_desc(), eng, strm)},
          {DNNL_ARG_WEIGHTS, in_layout(user(w_user, ops.w), pd.weights_desc(), eng, strm)}};
      auto [u, m] = take(pd.diff_src_desc(), x_user, d.x_shape(), args, DNNL_ARG_DIFF_SRC);
      dnnl::convolution_backward_data(pd).execute(strm, args);
      if (u != m) dnnl::reorder(m, u).execute(strm, m, u);
    } else {
      const auto bd_desc = bias ? dnnl::convolution_backward_weights::desc(alg, x_q, w_q, b_q, y_q, strides, dilates,
                                                                            pad_l, pad_r)
                                : dnnl::convolution_backward_weights::desc(alg, x_q, w_q, y_q, strides, dilates, pad_l,
                                                                            pad_r);
      const dnnl::convolution_backward_weights::primitive_desc pd(bd_desc, eng, fwd_pd);
      impl = pd.impl_info_str();
      std::unordered_map<int, memory> args{
          {DNNL_ARG_DIFF_DST, in_layout(user(y_user, ops.dy), pd.diff_dst_desc(), eng, strm)},
          {DNNL_ARG_SRC, in_layout(user(x_user, ops.x), pd.src_desc(), eng, strm)}};
      out.results.reserve(2);  // the memory objects below point into the tensors
      auto [u, m] = take(pd.diff_weights_desc(), w_user, d.w_shape(), args, DNNL_ARG_DIFF_WEIGHTS);
      std::optional<std::pair<memory, memory>> b;
      if (bias) b = take(pd.diff_bias_desc(), b_user, {d.oc}, args, DNNL_ARG_DIFF_BIAS);
      dnnl::convolution_backward_weights(pd).execute(strm, args);
      if (u != m) dnnl::reorder(m, u).execute(strm, m, u);
      if (b && b->first != b->second) dnnl::reorder(b->second, b->first).execute(strm, b->second, b->first);
    }
    strm.wait();
  } catch (const dnnl::error& e) {
    throw no_impl(e);
  }
  out.provenance = {{"library", version_text()},
                    {"impl_info_str", impl},
                    {"effective_isa", isa_name(dnnl::get_effective_cpu_isa())},
                    {"max_cpu_isa_env", max_isa_env()},
                    {"threads", nthr > 0 ? std::to_string(nthr) : "unknown (runtime without OpenMP)"},
                    {"direction", direction_name(dir)},
                    {"algorithm", "direct"},
                    {"formats", "any (as PyTorch), forward_training hint"}};
  return out;
}

namespace {

OnednnConfig config_of(const OrderSpec& o) {
  const OrderParams ps(o);
  OnednnConfig c;
  c.inference = ps.choice("prop", "training", {"training", "inference"}) == "inference";
  c.alg = ps.choice("alg", "direct", {"direct", "auto", "winograd"});
  c.src_any = ps.choice("src", "any", {"any", "nchw"}) == "any";
  const std::string dt = ps.choice("dt", "f32", {"f32", "bf16", "f16"});
  if (dt == "f16")
    throw InputError("order 'onednn': parameter 'dt': f16 convolution is not supported here (" + version_text() +
                     " has no f16 convolution on CPU)");
  c.bf16 = dt == "bf16";
  // dst and bias choose among bf16 data types: meaningless for float32.
  for (const char* key : {"dst", "bias"})
    if (!c.bf16 && o.params.count(key))
      throw InputError(std::string("order 'onednn': parameter '") + key + "' goes with dt=bf16 (dt=f32 is float32 " +
                       "throughout)");
  c.bf16_dst = ps.choice("dst", "bf16", {"bf16", "f32"}) == "bf16";
  c.bf16_bias = ps.choice("bias", "bf16", {"bf16", "f32"}) == "bf16";
  return c;
}

OrderOutput<float> run_f32(const OrderSpec& o, const ConvProblem<float>& p, const RunOptions& opt) {
  const OnednnConfig c = config_of(o);
  OrderOutput<float> out = onednn_convolution(p, c, opt.threads);
  if (opt.want_bound && c.bf16) {
    // DAZ where the kernel runs the AVX512_BF16 (or AMX) instructions; oneDNN's
    // emulation of them on avx512_core, and its reference kernels, read denormals
    // as they are (certconv keeps MXCSR's DAZ off).
    const std::string& impl = out.provenance.at("impl_info_str");
    const bool daz = impl.find("avx512_core_bf16") != std::string::npos || impl.find("amx") != std::string::npos;
    OwnedProblem<float> seen = kernel_inputs(p, InputFormat::bf16, daz);
    if (p.bias && !c.bf16_bias) seen.bias = *p.bias;
    set_bf16_kernel_bound(out, p, seen.view(), c.bf16_dst, opt.threads);
  } else if (opt.want_bound) {
    // Winograd transforms are not a sum of the products: no order-free bound.
    if (out.provenance.at("impl_info_str").find("wino") != std::string::npos)
      set_no_bound(out);
    else
      set_order_free_bound(out, p, opt.threads);
  }
  return out;
}

OrderOutput<double> run_f64(const OrderSpec& o, const ConvProblem<double>&, const RunOptions&) {
  config_of(o);
  throw InputError("order 'onednn': oneDNN 2.6 has no float64 convolution on CPU (its data types are f32, bf16, "
                   "f16 and integers); it needs dtype f32");
}

}  // namespace

OrderInfo make_onednn_order() {
  OrderInfo info{"onednn",
                 {{"prop", "training", "prop_kind: training (forward_training, as PyTorch) or inference"},
                  {"alg", "direct", "algorithm: direct, auto (oneDNN's choice) or winograd"},
                  {"src", "any", "source layout asked for: any (as PyTorch) or nchw"},
                  {"dt", "f32", "src and weights data type: f32, or bf16 (rounded from the float32 inputs, as "
                                "PyTorch's bf16 conv2d); f16 is not supported by oneDNN 2.6 on CPU"},
                  {"dst", "bf16", "dt=bf16 only: the output data type, bf16 (as PyTorch) or f32"},
                  {"bias", "bf16", "dt=bf16 only: the bias data type, bf16 (as PyTorch) or f32"}},
                 "the real oneDNN convolution, float32 or bf16: the kernel oneDNN picks (impl_info_str in the "
                 "provenance; docs/orders.md names the emulated order that reproduces it)",
                 run_f32,
                 run_f64};
  info.kind = OrderKind::backend;
  return info;
}

}  // namespace certconv

#endif
