// onednn:prop=training|inference,alg=direct|auto|winograd,src=any|nchw — the real
// dnnl::convolution_forward of the oneDNN the build found (Debian: 2.6.3), float32.
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
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>

#include "certconv/backends/backend_bound.hpp"
#include "certconv/core/error.hpp"
#include "certconv/orders/params.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

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
  const memory::desc x_user(x_dims, f32, tag::nchw), y_user(y_dims, f32, tag::nchw), b_user(b_dims, f32, tag::x),
      w_user(w_dims, f32, s.g == 1 ? tag::oihw : tag::goihw);
  const memory::desc x_q = c.src_any ? memory::desc(x_dims, f32, tag::any) : x_user, w_q(w_dims, f32, tag::any),
                     b_q(b_dims, f32, tag::any), y_q(y_dims, f32, tag::any);
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
    throw InputError("order 'onednn': oneDNN has no alg=" + c.alg + " implementation for " + to_benchdnn(s) +
                     " on this CPU (" + e.what() + ")");
  }

  const memory x_mem(x_user, eng, writable(p.x)), w_mem(w_user, eng, writable(p.w));
  memory y_mem(y_user, eng, out.y.data.data());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in_layout(x_mem, pd->src_desc(), eng, strm)},
                                       {DNNL_ARG_WEIGHTS, in_layout(w_mem, pd->weights_desc(), eng, strm)}};
  if (p.bias)
    args.emplace(DNNL_ARG_BIAS, in_layout(memory(b_user, eng, writable(*p.bias)), pd->bias_desc(), eng, strm));
  const bool dst_is_nchw = pd->dst_desc() == y_user;
  memory dst = dst_is_nchw ? y_mem : memory(pd->dst_desc(), eng);
  args.emplace(DNNL_ARG_DST, dst);
  dnnl::convolution_forward(*pd).execute(strm, args);
  if (!dst_is_nchw) dnnl::reorder(dst, y_mem).execute(strm, dst, y_mem);
  strm.wait();

  const dnnl_version_t* v = dnnl_version();
  const std::string impl = pd->impl_info_str();
  out.provenance = {{"library", "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                    std::to_string(v->patch)},
                    {"impl_info_str", impl},
                    {"effective_isa", isa_name(dnnl::get_effective_cpu_isa())},
                    {"max_cpu_isa_env", max_isa_env()},
                    {"threads", nthr > 0 ? std::to_string(nthr) : "unknown (runtime without OpenMP)"},
                    {"prop_kind", c.inference ? "forward_inference" : "forward_training"},
                    {"algorithm", c.alg},
                    {"src_format", c.src_any ? "any" : "nchw"}};
  return out;
}

namespace {

OnednnConfig config_of(const OrderSpec& o) {
  const OrderParams ps(o);
  OnednnConfig c;
  c.inference = ps.choice("prop", "training", {"training", "inference"}) == "inference";
  c.alg = ps.choice("alg", "direct", {"direct", "auto", "winograd"});
  c.src_any = ps.choice("src", "any", {"any", "nchw"}) == "any";
  return c;
}

OrderOutput<float> run_f32(const OrderSpec& o, const ConvProblem<float>& p, const RunOptions& opt) {
  OrderOutput<float> out = onednn_convolution(p, config_of(o), opt.threads);
  if (opt.want_bound) {
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
                  {"src", "any", "source layout asked for: any (as PyTorch) or nchw"}},
                 "the real oneDNN convolution, float32: the kernel oneDNN picks (impl_info_str in the provenance; "
                 "docs/orders.md names the emulated order that reproduces it)",
                 run_f32,
                 run_f64};
  info.kind = OrderKind::backend;
  return info;
}

}  // namespace certconv

#endif
