#define BOOST_TEST_MODULE backends
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certconv/analysis/identify.hpp"
#include "certconv/backends/backend_bound.hpp"
#include "certconv/core/config.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/spec.hpp"

using namespace certconv;

namespace {

// Inputs like PyTorch's defaults: x ~ N(0, 1), w and bias ~ U(±1/√fan_in).
template <class T>
using Problem = OwnedProblem<T>;

template <class T>
Problem<T> make(const std::string& desc, bool with_bias, std::uint64_t seed = 3) {
  Problem<T> p{parse_benchdnn(desc), {}, {}, {}};
  Rng rng(seed);
  const double bound = 1 / std::sqrt(static_cast<double>(p.spec.n_terms()));
  p.x = normal_tensor<T>(p.spec.x_shape(), rng);
  p.w = uniform_tensor<T>(p.spec.w_shape(), bound, rng);
  if (with_bias) p.bias = uniform_tensor<T>({p.spec.oc}, bound, rng);
  return p;
}

template <class T>
OrderOutput<T> run(const std::string& order, const Problem<T>& p, int threads = 1, bool bound = false) {
  RunOptions opt;
  opt.threads = threads;
  opt.want_bound = bound;
  return run_order(parse_order(order), p.view(), opt);
}

template <class T>
double identical(const Tensor<T>& a, const Tensor<T>& b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) same += std::memcmp(&a.data[i], &b.data[i], sizeof(T)) == 0;
  return static_cast<double>(same) / static_cast<double>(a.data.size());
}

#if CERTCONV_HAVE_ONEDNN
// Runs the real oneDNN; returns nothing (after saying why) when it picked another
// implementation than the one whose order the test asserts.
std::optional<OrderOutput<float>> onednn_as(const Problem<float>& p, const std::string& impl, int threads = 1) {
  OrderOutput<float> out = run("onednn", p, threads);
  const std::string got = out.provenance.at("impl_info_str");
  if (got != impl) {
    BOOST_TEST_MESSAGE("skipped: oneDNN picked " << got << " (ISA " << out.provenance.at("effective_isa")
                                                 << "), the test expects " << impl);
    return std::nullopt;
  }
  return out;
}

void check_onednn_match(const std::string& desc, bool bias, const std::string& impl, const std::string& order) {
  const Problem<float> p = make<float>(desc, bias);
  const auto real = onednn_as(p, impl);
  if (!real) return;
  const double f = identical(real->y, run(order, p).y);
  BOOST_TEST_MESSAGE(desc << (bias ? " +bias" : "") << ": oneDNN " << impl << " vs " << order << ": " << f);
  BOOST_TEST(f == 1.0);
}
#endif

}  // namespace

#if CERTCONV_HAVE_ONEDNN

// ResNet-50 conv1 at a quarter of the spatial size (the full 224×224 layer is
// measured in docs/orders.md): three channels, one block, first-conv path.
BOOST_AUTO_TEST_CASE(onednn_conv1_is_the_avx512_order) {
  check_onednn_match("mb1ic3ih56oc64oh28kh7sh2ph3", false, "jit:avx512_core", "onednn-avx512");
}

BOOST_AUTO_TEST_CASE(onednn_res2a_branch2b_is_the_avx512_order) {
  check_onednn_match("mb1ic64ih56oc64oh56kh3ph1", false, "jit:avx512_core", "onednn-avx512");
}

BOOST_AUTO_TEST_CASE(onednn_with_bias_is_the_avx512_order) {
  // The bias is added to the first channel block's sum, not at the end.
  check_onednn_match("mb1ic64ih28oc64oh28kh3ph1", true, "jit:avx512_core", "onednn-avx512");
}

BOOST_AUTO_TEST_CASE(onednn_strided_1x1_is_one_chain) {
  // jit_1x1 reduces all 256 channels in one accumulator here (reduce_blocking).
  check_onednn_match("mb1ic256ih56oc512oh28kh1sh2", false, "jit_1x1:avx512_core", "onednn-avx512:block=256");
}

BOOST_AUTO_TEST_CASE(onednn_does_not_depend_on_threads) {
  const Problem<float> p = make<float>("mb2ic64ih28oc64oh28kh3ph1", true);
  const OrderOutput<float> one = run("onednn", p, 1), two = run("onednn", p, 2);
  BOOST_TEST_MESSAGE("oneDNN threads: " << one.provenance.at("threads") << " and " << two.provenance.at("threads"));
  BOOST_TEST(identical(one.y, two.y) == 1.0);
}

BOOST_AUTO_TEST_CASE(onednn_provenance_and_bound) {
  const Problem<float> p = make<float>("mb1g2ic8ih9iw7oc6kh3kw2sh2sw1ph1pw0dh1dw0", true);
  const OrderOutput<float> out = run("onednn", p, 1, true);
  for (const char* key : {"impl_info_str", "effective_isa", "max_cpu_isa_env", "library", "threads"})
    BOOST_TEST(!out.provenance.at(key).empty(), key);
  BOOST_TEST(out.provenance.at("library").rfind("oneDNN ", 0) == 0);
  // Groups, strides, padding and dilation reach oneDNN correctly: the output is
  // within the rigorous order-free bound of the exact result everywhere.
  BOOST_TEST(bound_kind_name(out.bound_kind) == "order-free");
  const Truth t = compute_truth(p.view(), {});
  std::int64_t violations = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i)
    violations += !(std::fabs(static_cast<double>(out.y.data[i]) - t.y.data[i]) <= out.bound.data[i]);
  BOOST_TEST(violations == 0);
}

BOOST_AUTO_TEST_CASE(onednn_rejects_f64_and_bad_parameters) {
  const Problem<double> p = make<double>("mb1ic4ih5oc4kh3", false);
  BOOST_CHECK_THROW(run("onednn", p), InputError);
  const Problem<float> pf = make<float>("mb1ic4ih5oc4kh3", false);
  BOOST_CHECK_THROW(run("onednn:alg=fft", pf), InputError);
  BOOST_CHECK_THROW(run("onednn:prop=backward", pf), InputError);
  BOOST_CHECK_THROW(parse_order("onednn:threads=2"), InputError);
}

// oneDNN's bf16 convolution with the AVX512_BF16 instructions
// (jit_bf16[_1x1]:avx512_core_bf16), or nothing, after saying why: a CPU without
// bf16 support, or another kernel (ONEDNN_MAX_CPU_ISA=AVX512_CORE emulates them).
std::optional<OrderOutput<float>> onednn_bf16(const Problem<float>& p, const std::string& params = "",
                                              bool bound = false) {
  try {
    OrderOutput<float> out = run("onednn:dt=bf16" + params, p, 1, bound);
    const std::string got = out.provenance.at("impl_info_str");
    if (got.find(":avx512_core_bf16") != std::string::npos) return out;
    BOOST_TEST_MESSAGE("skipped: oneDNN ran " << got << " (ISA " << out.provenance.at("effective_isa")
                                              << "), the test expects avx512_core_bf16");
  } catch (const InputError& e) {
    BOOST_TEST_MESSAGE("skipped: " << e.what());
  }
  return std::nullopt;
}

// ResNet-50 conv1 (first conv: 3 channels, one pair and a single), res2a_branch2b
// (4 blocks of 16) and 1x1 layers (jit_bf16_1x1: at 14x14 the driver reduces 160
// channels, then the other 96, through the float32 buffer; at 7x7 all 64 at once),
// at reduced spatial size (the full layers are measured in docs/orders.md), with and
// without bias, bf16 and f32 dst: bit for bit.
BOOST_AUTO_TEST_CASE(onednn_bf16_is_the_bf16_order) {
  struct Case {
    const char* desc;
    const char* params;  // of onednn-avx512-bf16, before dst
  };
  for (const Case c : {Case{"mb1ic3ih56oc64oh28kh7sh2ph3", ""}, Case{"mb1ic64ih28oc64oh28kh3ph1", ""},
                       Case{"mb1ic256ih14oc64oh14kh1", "chunk=160,"}, Case{"mb1ic64ih7oc32oh7kh1", ""}})
    for (const bool bias : {false, true})
      for (const std::string dst : {"bf16", "f32"}) {
        const Problem<float> p = make<float>(c.desc, bias);
        const auto real = onednn_bf16(p, ",dst=" + dst);
        if (!real) return;
        const std::string emulated = "onednn-avx512-bf16:" + std::string(c.params) + "dst=" + dst;
        const double f = identical(real->y, run(emulated, p).y);
        BOOST_TEST_MESSAGE(c.desc << (bias ? " +bias" : "") << ": " << real->provenance.at("impl_info_str") << " vs "
                                  << emulated << ": " << f);
        BOOST_TEST(f == 1.0, c.desc << (bias ? " +bias" : "") << " dst " << dst);
      }
}

// prop=inference: brgconv:avx512_core_bf16, one chain over kh, kw and all channels
// (block = the group's channels), with and without bias.
BOOST_AUTO_TEST_CASE(onednn_bf16_brgconv_is_one_chain) {
  for (const bool bias : {false, true}) {
    const Problem<float> p = make<float>("mb1ic64ih14oc64oh14kh3ph1", bias);
    const auto real = onednn_bf16(p, ",prop=inference");
    if (!real) return;
    if (real->provenance.at("impl_info_str") != "brgconv:avx512_core_bf16") {
      BOOST_TEST_MESSAGE("skipped: oneDNN ran " << real->provenance.at("impl_info_str"));
      return;
    }
    BOOST_TEST(identical(real->y, run("onednn-avx512-bf16:block=64", p).y) == 1.0, (bias ? "+bias" : "no bias"));
  }
}

// The real bf16 output is within its rigorous bound (any order, bf16 input rounding,
// DAZ/FTZ, bf16 output rounding) on random, integer, subnormal-heavy and
// huge-exponent inputs: x and w scaled by 2^ex and 2^ew, the bias by 2^(ex+ew).
// Products near 2^-126 are partly flushed (FTZ); x below 2^-126 is read as zero (DAZ),
// which with huge weights changes the result by far more than a rounding. The
// emulated order matches it bit for bit on all of them.
BOOST_AUTO_TEST_CASE(onednn_bf16_bound_holds) {
  struct Case {
    const char* name;
    int ex, ew;
  };
  for (const Case c : {Case{"normal", 0, 0}, Case{"integer", 0, 0}, Case{"tiny-products", -62, -62},
                       Case{"subnormal", -130, -130}, Case{"subnormal-x-huge-w", -130, 100}, Case{"huge", 60, 60}}) {
    Problem<float> p = make<float>("mb1ic20ih9oc18kh3ph1", true, 5);
    const std::string dist = c.name;
    if (dist == "integer")
      for (auto* t : {&p.x, &p.w, &*p.bias})
        for (float& v : t->data) v = std::round(v * 8);
    for (float& v : p.x.data) v = std::ldexp(v, c.ex);
    for (float& v : p.w.data) v = std::ldexp(v, c.ew);
    for (float& v : p.bias->data) v = std::ldexp(v, c.ex + c.ew);
    for (const std::string dst : {"bf16", "f32"}) {
      const auto out = onednn_bf16(p, ",dst=" + dst, true);
      if (!out) return;
      BOOST_TEST(out->provenance.at("data_types") == "src bf16, weights bf16, bias bf16, dst " + dst);
      BOOST_TEST(bound_kind_name(out->bound_kind) ==
                 "order-free+input-rounding" + std::string(dst == "bf16" ? "+output-rounding" : ""));
      const Truth t = compute_truth(p.view(), {});
      std::int64_t violations = 0, nonzero = 0;
      for (std::size_t i = 0; i < t.y.data.size(); ++i) {
        violations += !(std::fabs(static_cast<double>(out->y.data[i]) - t.y.data[i]) <= out->bound.data[i]);
        nonzero += out->y.data[i] != 0;
        if (dst == "bf16") BOOST_TEST(round_to_format(out->y.data[i], InputFormat::bf16) == out->y.data[i]);
      }
      BOOST_TEST(violations == 0, dist << " dst " << dst);
      // DAZ and FTZ as the emulation has them.
      BOOST_TEST(identical(out->y, run("onednn-avx512-bf16:dst=" + dst, p).y) == 1.0, dist << " dst " << dst);
      BOOST_TEST_MESSAGE(dist << " dst " << dst << ": " << nonzero << " nonzero of " << t.y.data.size());
    }
  }
}

// identify names the emulated order for a real bf16 output, at 100%.
BOOST_AUTO_TEST_CASE(identify_names_the_bf16_order) {
  const Problem<float> p = make<float>("mb1ic32ih10oc16kh3ph1", true);
  const auto real = onednn_bf16(p);
  if (!real) return;
  const IdentifyResult r = identify(p.view(), real->y, 1);
  BOOST_TEST_REQUIRE(!r.candidates.empty());
  BOOST_TEST(r.candidates.front().identical_fraction == 1.0);
  bool named = false;
  for (const IdentifyCandidate& c : r.candidates)
    named |= c.mismatches == 0 && c.order.name == "onednn-avx512-bf16" && c.order.params.at("dst") == "bf16";
  BOOST_TEST(named);
}

// Unsupported data types name the parameter; dst and bias need dt=bf16.
BOOST_AUTO_TEST_CASE(onednn_rejects_bad_data_types) {
  const Problem<float> p = make<float>("mb1ic4ih5oc4kh3", true);
  for (const auto& [order, key] : std::vector<std::pair<std::string, std::string>>{
           {"onednn:dt=f16", "'dt'"},
           {"onednn:dt=f64", "'dt'"},
           {"onednn:dt=bf16,dst=f16", "'dst'"},
           {"onednn:dt=bf16,bias=s8", "'bias'"},
           {"onednn:dst=bf16", "'dst'"},
           {"onednn:dt=f32,bias=f32", "'bias'"}}) {
    try {
      run(order, p);
      BOOST_ERROR(order << " ran");
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()).find(key) != std::string::npos, e.what());
    }
  }
}

#endif

#if CERTCONV_HAVE_OPENBLAS

// Without a bias both arrangements make the same GEMM call (OpenBLAS turns the
// row-major call into the column-major one), so they agree bit for bit.
BOOST_AUTO_TEST_CASE(blas_arrangements_agree_without_bias) {
  const Problem<float> p = make<float>("mb2g2ic8ih12oc8kh3ph1", false);
  BOOST_TEST(identical(run("blas-unfold", p).y, run("blas-slow-conv", p).y) == 1.0);
}

// DGEMM on the Haswell core (dgemm_kernel_4x8_haswell.S) keeps one accumulator per
// output within a K block: gemm-blocked with Haswell's DGEMM Q reproduces it.
BOOST_AUTO_TEST_CASE(blas_dgemm_haswell_is_gemm_blocked) {
  const Problem<double> p = make<double>("mb1ic64ih14oc64oh14kh3ph1", true);
  const OrderOutput<double> real = run("blas-slow-conv", p);
  if (real.provenance.at("core") != "Haswell") {
    BOOST_TEST_MESSAGE("skipped: OpenBLAS core is " << real.provenance.at("core") << ", the test expects Haswell");
    return;
  }
  BOOST_TEST(identical(real.y, run("gemm-blocked:kc=haswell-d", p).y) == 1.0);
}

// blas-unfold adds the bias after the whole GEMM: gemm-blocked with bias=last.
BOOST_AUTO_TEST_CASE(blas_dgemm_haswell_unfold_with_bias_is_bias_last) {
  const Problem<double> p = make<double>("mb1ic64ih14oc64oh14kh3ph1", true);
  const OrderOutput<double> real = run("blas-unfold", p);
  if (real.provenance.at("core") != "Haswell") {
    BOOST_TEST_MESSAGE("skipped: OpenBLAS core is " << real.provenance.at("core") << ", the test expects Haswell");
    return;
  }
  BOOST_TEST(identical(real.y, run("gemm-blocked:kc=haswell-d,bias=last", p).y) == 1.0);
  BOOST_TEST(identical(real.y, run("gemm-blocked:kc=haswell-d", p).y) < 1.0);
}

// SGEMM on Haswell splits some tiles' sums into even and odd k (docs/orders.md):
// openblas-haswell reproduces both arrangements, one thread, with and without bias,
// on conv1 (K = 147, one block), res2a_branch2b (K = 576, two blocks) and a strided
// 1x1 layer, at reduced spatial size; gemm-blocked (no split tiles) does not.
BOOST_AUTO_TEST_CASE(blas_sgemm_haswell_is_openblas_haswell) {
  for (const char* desc : {"mb1ic3ih56oc64oh28kh7sh2ph3", "mb1ic64ih28oc64oh28kh3ph1", "mb1ic256ih14oc512oh7kh1sh2"})
    for (bool bias : {false, true}) {
      const Problem<float> p = make<float>(desc, bias);
      const OrderOutput<float> slow = run("blas-slow-conv", p), unfold = run("blas-unfold", p);
      if (slow.provenance.at("core") != "Haswell") {
        BOOST_TEST_MESSAGE("skipped: OpenBLAS core is " << slow.provenance.at("core") << ", the test expects Haswell");
        return;
      }
      const Tensor<float> first = run("openblas-haswell", p).y, last = run("openblas-haswell:bias=last", p).y;
      BOOST_TEST(identical(slow.y, first) == 1.0, desc << (bias ? " +bias" : ""));
      BOOST_TEST(identical(unfold.y, last) == 1.0, desc << (bias ? " +bias" : ""));
      BOOST_TEST(identical(slow.y, run("gemm-blocked:kc=haswell-s", p).y) < 1.0, desc);
    }
}

BOOST_AUTO_TEST_CASE(blas_sgemm_bound) {
  const Problem<float> p = make<float>("mb1ic64ih14oc64oh14kh3ph1", true);
  const OrderOutput<float> real = run("blas-slow-conv", p, 1, true);
  BOOST_TEST(bound_kind_name(real.bound_kind) == "order-free");
  const Truth t = compute_truth(p.view(), {});
  std::int64_t violations = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i)
    violations += !(std::fabs(static_cast<double>(real.y.data[i]) - t.y.data[i]) <= real.bound.data[i]);
  BOOST_TEST(violations == 0);
}

// The bias is a separate rounded addition after the GEMM in blas-unfold: its output
// is exactly fl(blas-unfold without bias + bias).
BOOST_AUTO_TEST_CASE(blas_unfold_adds_bias_last) {
  const Problem<float> p = make<float>("mb1ic16ih10oc8kh3", true);
  Problem<float> nb = p;
  nb.bias.reset();
  const Tensor<float> with = run("blas-unfold", p).y, without = run("blas-unfold", nb).y;
  const std::int64_t plane = p.spec.oh * p.spec.ow;
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < with.size(); ++i)
    differ += with.data[static_cast<std::size_t>(i)] !=
              without.data[static_cast<std::size_t>(i)] + p.bias->data[static_cast<std::size_t>(i / plane % p.spec.oc)];
  BOOST_TEST(differ == 0);
}

// OpenBLAS splits M and N over threads, but which tiles of the Haswell SGEMM kernel
// keep split accumulators depends on that partition, so results can change with the
// thread count (measured in docs/orders.md); with a fixed count they are repeatable.
BOOST_AUTO_TEST_CASE(blas_is_repeatable_at_fixed_threads) {
  const Problem<float> p = make<float>("mb1ic64ih14oc64oh14kh3ph1", false);
  const OrderOutput<float> a = run("blas-unfold", p, 2), b = run("blas-unfold", p, 2), one = run("blas-unfold", p, 1);
  BOOST_TEST(a.provenance.at("threads") == "2");
  BOOST_TEST(identical(a.y, b.y) == 1.0);
  BOOST_TEST_MESSAGE("blas-unfold 1 vs 2 threads identical: " << identical(one.y, a.y));
}

#endif

// The backends' bound starts from absdot: an upper bound of the exact Σ|w·x| + |bias|
// (compared with the truth's, itself rounded up from the exact value), and a tight one.
BOOST_AUTO_TEST_CASE(absdot_upper_bounds_the_exact_absdot) {
  const Problem<float> p = make<float>("mb2g2ic6ih9iw8oc4kh3kw2sh2sw1ph1pw1dh1dw0", true);
  const Tensor<double> a = absdot_upper(p.view(), 2);
  const Truth t = compute_truth(p.view(), {});
  std::int64_t below = 0, loose = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    below += a.data[i] < std::nextafter(t.absdot.data[i], 0.0);  // the truth's absdot is itself rounded up
    loose += a.data[i] > t.absdot.data[i] * (1 + 1e-13);
  }
  BOOST_TEST(below == 0);
  BOOST_TEST(loose == 0);
}

BOOST_AUTO_TEST_CASE(backends_are_registered_as_backends) {
  int backends = 0;
  for (const OrderInfo& o : order_list()) backends += o.kind == OrderKind::backend;
  BOOST_TEST(backends == CERTCONV_HAVE_ONEDNN + 2 * CERTCONV_HAVE_OPENBLAS);
#if CERTCONV_HAVE_ONEDNN
  BOOST_TEST((find_order("onednn").kind == OrderKind::backend));
#endif
#if CERTCONV_HAVE_OPENBLAS
  BOOST_TEST((find_order("blas-unfold").kind == OrderKind::backend));
  BOOST_TEST((find_order("blas-slow-conv").kind == OrderKind::backend));
#endif
}
