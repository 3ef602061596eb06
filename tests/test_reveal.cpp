#define BOOST_TEST_MODULE reveal
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "certconv/core/error.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/reveal/reconstruct.hpp"
#include "certconv/reveal/reveal.hpp"

using namespace certconv;

namespace {

// A catalog order used as a black box.
template <class T>
BlackBox<T> order_box(const std::string& order) {
  return [o = parse_order(order)](const ConvProblem<T>& p) {
    RunOptions opt;
    opt.want_bound = false;
    return run_order(o, p, opt).y;
  };
}

// The oracle of a known tree: l(i, j) = leaves under LCA(i, j).
ProbeOracle tree_oracle(const SumTree& t, std::int64_t n) {
  return [lc = std::make_shared<LcaCounts>(t, n)](const std::vector<ProbePair>& q) {
    std::vector<std::int64_t> l;
    for (const auto& [i, j] : q) l.push_back((*lc)(i, j));
    return l;
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(tree_text_round_trips_and_rejects_bad_trees) {
  const SumTree t = parse_tree("(b ((0 1) (2 3 4)))", 5, true, "t");
  BOOST_TEST(tree_text(t, 5) == "(b ((0 1) (2 3 4)))");
  BOOST_TEST(tree_depth(t) == 3);
  BOOST_CHECK_THROW(parse_tree("((0 1) 2)", 4, false, "t"), InputError);  // leaf 3 missing
  BOOST_CHECK_THROW(parse_tree("((0 1) 1)", 2, false, "t"), InputError);  // twice
  BOOST_CHECK_THROW(parse_tree("((0 1) b)", 2, false, "t"), InputError);  // no bias here
  BOOST_CHECK_THROW(parse_tree("((0 1)", 2, false, "t"), InputError);     // syntax
  BOOST_CHECK_THROW(parse_tree("((0) 1)", 2, false, "t"), InputError);    // one child
}

BOOST_AUTO_TEST_CASE(reconstruct_recovers_binary_and_nary_trees) {
  for (const char* text : {"(((((0 1) 2) 3) 4) (5 6))", "((((4 3) 2) (1 0)) (5 6))", "((0 1 2) (3 (4 5)) 6)",
                           "(0 1 2 3 4 5 6)", "((0 (1 2)) ((3 4) (5 6)))"}) {
    const SumTree t = parse_tree(text, 7, false, "t");
    const ReconstructResult r = reconstruct_tree(7, tree_oracle(t, 7));
    BOOST_TEST_REQUIRE(r.is_tree, text);
    // Same tree up to the order of children: same l for every pair.
    const LcaCounts a(t, 7), b(r.tree, 7);
    for (int i = 0; i < 7; ++i)
      for (int j = i + 1; j < 7; ++j) BOOST_TEST(a(i, j) == b(i, j), text << " l(" << i << ", " << j << ")");
  }
}

BOOST_AUTO_TEST_CASE(reconstruct_rejects_answers_of_no_tree) {
  // l(0, j) = 3 for every j of 5 leaves: three leaves cannot share a 3-leaf node with four.
  const ReconstructResult r =
      reconstruct_tree(5, [](const std::vector<ProbePair>& q) { return std::vector<std::int64_t>(q.size(), 3); });
  BOOST_TEST(!r.is_tree);
  BOOST_TEST(!r.why_not.empty());
}

BOOST_AUTO_TEST_CASE(reconstruct_of_a_chain_in_leaf_order_takes_one_round) {
  std::string text = "(0 1)";
  for (int k = 2; k < 100; ++k) text = "(" + text + " " + std::to_string(k) + ")";
  const SumTree t = parse_tree(text, 100, false, "t");
  const ReconstructResult r = reconstruct_tree(100, tree_oracle(t, 100));
  BOOST_TEST(r.is_tree);
  BOOST_TEST(r.rounds == 1);
}

// Every tree-shaped catalog order, as a black box, is revealed and replayed bit for bit.
BOOST_AUTO_TEST_CASE(reveal_replays_every_catalog_order) {
  const ConvSpec s = parse_benchdnn("mb1ic12ih9oc16kh3ph1");  // K = 108, borders
  for (const char* order :
       {"direct", "direct:fma=1", "im2col", "im2col:fma=1", "gemm-blocked:kc=40", "gemm-blocked:kc=40,bias=last",
        "onednn-avx512:block=4", "onednn-avx512:block=4,bias=init", "onednn-avx2:block=8", "onednn-avx2:fma=0",
        "pairwise", "pairwise:fma=1", "split-k:parts=3", "split-k:parts=3,fma=0", "openblas-haswell"})
    for (const bool bias : {false, true}) {
      const RevealResult r = reveal_conv<float>(s, bias, order_box<float>(order), {});
      BOOST_TEST_INFO(order << (bias ? " + bias" : ""));
      BOOST_TEST_REQUIRE((r.status == RevealStatus::tree), r.reason);
      BOOST_TEST(r.replay_identical_fraction == 1.0);
      BOOST_TEST(r.bound_violations == 0);
      BOOST_TEST(r.max_bound_ratio <= 1.0);
      BOOST_TEST(r.calls <= (std::string(order) == "openblas-haswell" ? 80 : 40));
      std::printf("%-34s bias=%d calls %3lld (probes %3lld, rounds %2lld, queries %4lld) classes %zu fma=%s first=%s\n",
                  order, bias, static_cast<long long>(r.calls), static_cast<long long>(r.probe_calls),
                  static_cast<long long>(r.rounds), static_cast<long long>(r.queries), r.trees.trees.size(),
                  tree_fma_name(r.chosen.fma), r.chosen.first_lo ? "lo" : "hi");
    }
}

BOOST_AUTO_TEST_CASE(reveal_replays_float64) {
  const ConvSpec s = parse_benchdnn("mb2ic8ih6oc8kh3ph1");
  for (const char* order : {"gemm-blocked:kc=30", "onednn-avx512:block=4", "pairwise:fma=1"}) {
    const RevealResult r = reveal_conv<double>(s, true, order_box<double>(order), {});
    BOOST_TEST_INFO(order);
    BOOST_TEST_REQUIRE((r.status == RevealStatus::tree), r.reason);
    BOOST_TEST(r.replay_identical_fraction == 1.0);
  }
}

BOOST_AUTO_TEST_CASE(compensated_and_winograd_are_not_trees) {
  const ConvSpec s = parse_benchdnn("mb1ic4ih8oc8kh3ph1");
  for (const char* order : {"kahan", "winograd"}) {
    const RevealResult r = reveal_conv<float>(s, false, order_box<float>(order), {});
    BOOST_TEST_INFO(order);
    BOOST_TEST((r.status == RevealStatus::not_a_tree), r.reason);
  }
}

BOOST_AUTO_TEST_CASE(non_deterministic_box_is_reported) {
  const ConvSpec s = parse_benchdnn("mb1ic4ih5oc4kh3");
  int calls = 0;
  const BlackBox<float> box = [&](const ConvProblem<float>& p) {
    RunOptions opt;
    opt.want_bound = false;
    Tensor<float> y = run_order(parse_order("direct"), p, opt).y;
    if (++calls % 2) y.data[0] = std::nextafter(y.data[0], 1e30f);
    return y;
  };
  BOOST_TEST((reveal_conv<float>(s, false, box, {}).status == RevealStatus::non_deterministic));
}

// An order no catalog entry covers: the tree depends on the output position.
BOOST_AUTO_TEST_CASE(reveal_finds_position_classes) {
  const ConvSpec s = parse_benchdnn("mb1ic6ih8oc8kh3ph1");
  const BlackBox<float> box = [&](const ConvProblem<float>& p) {
    RunOptions opt;
    opt.want_bound = false;
    const Tensor<float> a = run_order(parse_order("direct:fma=1"), p, opt).y;
    const Tensor<float> b = run_order(parse_order("pairwise"), p, opt).y;
    Tensor<float> y = a;
    for (std::size_t i = 0; i < y.data.size(); ++i)
      if ((i % static_cast<std::size_t>(s.ow)) % 2) y.data[i] = b.data[i];  // odd columns pairwise
    return y;
  };
  const RevealResult r = reveal_conv<float>(s, false, box, {});
  BOOST_TEST_REQUIRE((r.status == RevealStatus::tree), r.reason);
  BOOST_TEST(r.trees.trees.size() >= 2u);
  BOOST_TEST(r.unexplained_lanes == 0);
  // One choice of numerics for both classes cannot hold here: pairwise has no FMA.
  BOOST_TEST(r.replay_identical_fraction < 1.0);
}

BOOST_AUTO_TEST_CASE(tree_order_reads_its_file) {
  const ConvSpec s = parse_benchdnn("mb1ic4ih6oc4kh3ph1");
  const RevealResult r = reveal_conv<float>(s, true, order_box<float>("onednn-avx512:block=2"), {});
  BOOST_TEST_REQUIRE((r.status == RevealStatus::tree));
  const std::string path = (std::filesystem::temp_directory_path() / "certconv_test_reveal.tree.json").string();
  write_tree_file(path, r.trees);
  Rng rng(3);
  const Tensor<float> x = normal_tensor<float>(s.x_shape(), rng), w = uniform_tensor<float>(s.w_shape(), 0.3, rng),
                      b = uniform_tensor<float>({s.oc}, 0.3, rng);
  const ConvProblem<float> p{s, x, w, &b};
  RunOptions opt;
  const std::string spec = std::string("tree:file=") + path + ",fma=" + tree_fma_name(r.chosen.fma) +
                           (r.chosen.first_lo ? ",first=lo" : ",first=hi");
  const OrderOutput<float> a = run_order(parse_order(spec), p, opt);
  const OrderOutput<float> e = run_order(parse_order("onednn-avx512:block=2"), p, opt);
  BOOST_TEST(a.y.data == e.y.data);
  BOOST_TEST((a.bound_kind.theorem == Theorem::tree_gamma));
  // The same tree, the same bound.
  for (std::size_t i = 0; i < a.bound.data.size(); ++i) BOOST_TEST(a.bound.data[i] <= e.bound.data[i] * (1 + 1e-12));
  BOOST_CHECK_THROW(run_order(parse_order("tree:file=/nonexistent.json"), p, opt), InputError);
  BOOST_CHECK_THROW(run_order(parse_order("tree"), p, opt), InputError);
  const ConvProblem<float> nob{s, x, w, nullptr};
  BOOST_CHECK_THROW(run_order(parse_order(spec), nob, opt), InputError);
  std::filesystem::remove(path);
}

// The tree order's numerics, operation by operation, on one output of three terms
// and a bias: ((0 1) (2 b)) and (b 0 1 2).
BOOST_AUTO_TEST_CASE(tree_order_numerics_are_as_stated) {
  const ConvSpec s = parse_benchdnn("mb1ic3ih1oc1kh1");
  Tensor<double> xv({1, 3, 1, 1}), wv({1, 3, 1, 1}), bv({1});
  xv.data = {0.1, 0.7, 1.3};
  wv.data = {0.3, -0.9, 0.11};
  bv.data = {0.37};
  const ConvProblem<double> p{s, xv, wv, &bv};
  const double* X = xv.data.data();
  const double* W = wv.data.data();
  const double B = bv.data[0];
  auto run_tree = [&](const char* text, TreeFma fma, bool lo) {
    TreeFile f;
    f.K = 3;
    f.has_bias = true;
    f.trees = {parse_tree(text, 3, true, "t")};
    RunOptions opt;
    opt.want_bound = false;
    return run_tree_file(f, fma, lo, p, opt).y.data[0];
  };
  const double p0 = X[0] * W[0], p1 = X[1] * W[1], p2 = X[2] * W[2];
  BOOST_TEST(run_tree("((0 1) (2 b))", TreeFma::none, true) == (p0 + p1) + (p2 + B));
  BOOST_TEST(run_tree("((0 1) (2 b))", TreeFma::all, true) == std::fma(X[1], W[1], p0) + std::fma(X[2], W[2], B));
  BOOST_TEST(run_tree("((0 1) (2 b))", TreeFma::all, false) == std::fma(X[0], W[0], p1) + std::fma(X[2], W[2], B));
  BOOST_TEST(run_tree("((0 1) (2 b))", TreeFma::pairs, true) == std::fma(X[1], W[1], p0) + (p2 + B));
  BOOST_TEST(run_tree("(b 0 1 2)", TreeFma::none, true) == ((B + p0) + p1) + p2);
  BOOST_TEST(run_tree("(b 0 1 2)", TreeFma::all, true) ==
             std::fma(X[2], W[2], std::fma(X[1], W[1], std::fma(X[0], W[0], B))));
  BOOST_TEST(run_tree("(b 0 1 2)", TreeFma::pairs, true) == ((B + p0) + p1) + p2);
}

// A chain summed backwards: the lowest leaf is its top; the second pivot, asked in
// slots the call has to spare, is its bottom, and one round suffices.
BOOST_AUTO_TEST_CASE(reconstruct_uses_spare_slots_for_a_second_pivot) {
  std::string text = "(99 98)";
  for (int k = 97; k >= 0; --k) text = "(" + text + " " + std::to_string(k) + ")";
  const SumTree t = parse_tree(text, 100, false, "t");
  const ReconstructResult slow = reconstruct_tree(100, tree_oracle(t, 100), 0);
  const ReconstructResult fast = reconstruct_tree(100, tree_oracle(t, 100), 250);
  BOOST_TEST_REQUIRE(fast.is_tree);
  BOOST_TEST(fast.rounds == 1);
  BOOST_TEST(slow.rounds > 1);
  const LcaCounts a(t, 100), b(fast.tree, 100);
  for (int i = 0; i < 100; ++i)
    for (int j = i + 1; j < 100; ++j) BOOST_TEST_REQUIRE(a(i, j) == b(i, j));
}

// oneDNN's bf16 kernel (the emulated order reproduces it bit for bit): float32 trees
// replay none of it; the bf16 numerics (inputs rounded, DAZ/FTZ) replay all of it, and
// the order string with them runs the same.
BOOST_AUTO_TEST_CASE(reveal_replays_the_bf16_kernels) {
  const ConvSpec s = parse_benchdnn("mb1ic32ih6oc16kh3ph1");
  for (const char* order : {"onednn-avx512-bf16:dst=f32", "onednn-avx512-bf16:dst=f32,isa=avx512_core",
                            "onednn-avx512-bf16:dst=f32,block=32"})
    for (const bool bias : {true, false}) {
      const RevealResult r = reveal_conv<float>(s, bias, order_box<float>(order), {});
      BOOST_TEST_INFO(order << (bias ? " + bias" : ""));
      BOOST_TEST_REQUIRE((r.status == RevealStatus::tree), r.reason);
      BOOST_TEST(r.numerics.front().identical_fraction < 0.5);
      BOOST_TEST(r.chosen.rounding.bf16_input);
      BOOST_TEST(!r.chosen.rounding.bf16_dst);
      BOOST_TEST(r.replay_identical_fraction == 1.0);
      BOOST_TEST(r.bound_violations == 0);
      BOOST_TEST(r.calls <= 40);
    }
  const RevealResult r = reveal_conv<float>(s, true, order_box<float>("onednn-avx512-bf16:dst=f32"), {});
  const std::string path = (std::filesystem::temp_directory_path() / "certconv_test_reveal_bf16.tree.json").string();
  write_tree_file(path, r.trees);
  Rng rng(5);
  const Tensor<float> x = normal_tensor<float>(s.x_shape(), rng), w = uniform_tensor<float>(s.w_shape(), 0.3, rng),
                      b = uniform_tensor<float>({s.oc}, 0.3, rng);
  const ConvProblem<float> p{s, x, w, &b};
  const OrderOutput<float> a = run_order(parse_order("tree:file=" + path + tree_numerics_params(r.chosen)), p, {});
  const OrderOutput<float> e = run_order(parse_order("onednn-avx512-bf16:dst=f32"), p, {});
  BOOST_TEST(a.y.data == e.y.data);
  // The same bf16 kernel bound, its input rounding split in two (registry.cpp).
  BOOST_TEST(a.bound_kind.input_rounding);
  for (std::size_t i = 0; i < a.bound.data.size(); ++i)
    BOOST_TEST(std::fabs(a.bound.data[i] - e.bound.data[i]) <= 0.01 * e.bound.data[i]);
  std::filesystem::remove(path);
}

// A bf16 output counts exactly up to 256: fewer leaves reveal (dst=bf16 chosen), more
// cannot, and reveal says why.
BOOST_AUTO_TEST_CASE(reveal_with_a_bf16_output) {
  const RevealResult small =
      reveal_conv<float>(parse_benchdnn("mb1ic16ih6oc16kh3ph1"), true, order_box<float>("onednn-avx512-bf16"), {});
  BOOST_TEST_REQUIRE((small.status == RevealStatus::tree), small.reason);
  BOOST_TEST(small.chosen.rounding.bf16_dst);
  BOOST_TEST(small.replay_identical_fraction == 1.0);
  BOOST_TEST(small.bound_violations == 0);
  const RevealResult big =
      reveal_conv<float>(parse_benchdnn("mb1ic32ih6oc16kh3ph1"), true, order_box<float>("onednn-avx512-bf16"), {});
  BOOST_TEST((big.status == RevealStatus::not_a_tree));
  BOOST_TEST(big.reason.find("cannot count") != std::string::npos, big.reason);
}

// ftz=1 flushes what plain float32 keeps; dst=bf16 rounds the output; f64 refuses them.
BOOST_AUTO_TEST_CASE(tree_order_ftz_and_bf16_dst) {
  const ConvSpec s = parse_benchdnn("mb1ic2ih1oc1kh1");
  TreeFile f;
  f.K = 2;
  f.trees = {parse_tree("(0 1)", 2, false, "t")};
  Tensor<float> x({1, 2, 1, 1}), w({1, 2, 1, 1});
  x.data = {0x1p-50f, 0x1p-50f};
  w.data = {0x1.4p-75f, -0x1p-75f};  // normal products, p0 + p1 = 2^-127: subnormal
  const ConvProblem<float> p{s, x, w, nullptr};
  RunOptions opt;
  BOOST_TEST(run_tree_file(f, TreeFma::none, true, p, opt).y.data[0] == 0x1p-127f);
  BOOST_TEST(run_tree_file(f, TreeFma::none, true, p, opt, {false, true, false}).y.data[0] == 0.0f);
  x.data = {1.0f, 1.0f};
  w.data = {1.0f, 0x1p-9f};  // 1 + 2^-9 is a tie between bf16 neighbours: even, 1
  BOOST_TEST(run_tree_file(f, TreeFma::none, true, p, opt, {false, false, true}).y.data[0] == 1.0f);
  w.data = {1.0f, 0x1.8p-8f};  // 1 + 3·2^-9 rounds up to 1 + 2^-7
  const OrderOutput<float> o = run_tree_file(f, TreeFma::none, true, p, opt, {false, true, true});
  BOOST_TEST(o.y.data[0] == 1.0f + 0x1p-7f);
  BOOST_TEST(o.bound.data[0] >= std::fabs(1.0 + 0x1p-7 - (1.0 + 3 * 0x1p-9)));
  const Tensor<double> xd({1, 2, 1, 1}, 1.0), wd({1, 2, 1, 1}, 1.0);
  BOOST_CHECK_THROW(run_tree_file(f, TreeFma::none, true, ConvProblem<double>{s, xd, wd, nullptr}, opt,
                                  {false, true, false}),
                    InputError);
}
