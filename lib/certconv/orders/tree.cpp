// tree:file=PATH,fma=0|1|pairs,first=lo|hi,input=f32|bf16,ftz=0|1,dst=f32|bf16 —
// replays a summation tree read from a tree file (sum_tree.hpp), as `certconv reveal`
// writes it: one tree per class of outputs (by position, or by position and output
// channel), the same for every image.
//
// Exact accumulation order, per output of channel c (within its group) at position
// m = oy·OW + ox, over T = trees[lane_class[(c mod channels)·OH·OW + m]] (trees[0]
// when the file has one tree):
//   leaf k                 p_k = fl(x_k · w_k); the bias leaf is the bias, exactly;
//   node (A B), fma=0      fl(A + B);
//   node (A B), fma=1      A or B a product leaf k and the other not: fma(x_k, w_k, other);
//                          both product leaves j < k: first=lo fma(x_k, w_k, p_j),
//                          first=hi fma(x_j, w_j, p_k);  neither: fl(A + B);
//   node (A B), fma=pairs  as fma=1 when both are product leaves, else fl(A + B)
//                          (a pairwise sum fuses only its bottom pairs);
//   node (c1 c2 … cn)      the left fold ((c1 c2) c3) … with the rules above;
//   y = T(root).
// Padded taps are zero products in their places (orders/driver.hpp: values unchanged).
// Reduced-precision kernels (float32 only; the defaults are plain float32), the
// inputs as kernel_inputs (input_format.hpp) gives them:
//   input=bf16  (every order's parameter, registry.cpp) x, w and the bias rounded to
//               bf16, nearest-even, before the tree runs;
//   ftz=1       x and w below 2^-126 read as zero (DAZ), and every product, sum and
//               FMA the exact result rounded once to float32 and flushed to zero
//               below 2^-126 (add_round_ftz of vdpbf16ps.hpp, VDPBF16PS's
//               arithmetic): p_k = ftz(fl(x_k·w_k)), ftz(fl(A + B)), ftz(fma(x, w, C));
//   dst=bf16    y rounded to bf16, nearest-even: with ftz=1 as VCVTNEPS2BF16 (a
//               subnormal y read as zero), with ftz=0 gradually (oneDNN's emulation).
// Bounds: input=bf16 adds the input-rounding term (bounds/input_rounding.hpp) to the
// bound on the rounded inputs, which is the tree bound (Theorem tree_gamma) with
// ftz=0 and dst=f32; with ftz=1 or dst=bf16 it is the order-free bound of the bf16
// kernels (bf16_bound.hpp: flush to zero, DAZ and output rounding), not a tree bound.
// The program evaluates each node's larger child first so that the stack stays short;
// the order of evaluation does not change any value.
#include <algorithm>
#include <memory>

#include "certconv/bounds/input_rounding.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/orders/bf16_bound.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"
#include "certconv/orders/sum_tree.hpp"
#include "certconv/orders/vdpbf16ps.hpp"

namespace certconv {

namespace {

enum class Op : std::uint8_t { push_prod, push_bias, fma_into, add };

struct Instr {
  Op op;
  std::int64_t k;  // the term of push_prod and fma_into
};

// A tree compiled to a stack program.
struct Program {
  std::vector<Instr> code;
  std::int64_t depth = 0;  // stack rows needed
};

class Compiler {
 public:
  Compiler(const SumTree& t, std::int64_t K, TreeFma fma, bool first_lo)
      : t_(t), K_(K), fused_(fma != TreeFma::none), pairs_only_(fma == TreeFma::pairs), lo_(first_lo) {}

  Program compile() {
    emit(t_.root);
    return std::move(p_);
  }

 private:
  const SumTree& t_;
  std::int64_t K_;
  bool fused_, pairs_only_, lo_;
  Program p_;
  std::int64_t sp_ = 0;

  const SumTree::Node& node(std::int32_t i) const { return t_.nodes[static_cast<std::size_t>(i)]; }
  bool is_prod(std::int32_t i) const { return node(i).leaf >= 0 && node(i).leaf < K_; }
  // Stack rows needed to evaluate node i (Sethi–Ullman numbering).
  std::int64_t need(std::int32_t i) const {
    const SumTree::Node& n = node(i);
    if (n.leaf >= 0) return 1;
    std::int64_t r = need(n.kids[0]);
    for (std::size_t c = 1; c < n.kids.size(); ++c) r = std::max(r, need(n.kids[c]) + 1);
    return r;
  }
  void push(Instr in) {
    p_.code.push_back(in);
    if (in.op == Op::push_prod || in.op == Op::push_bias) p_.depth = std::max(p_.depth, ++sp_);
    if (in.op == Op::add) --sp_;
  }
  void leaf(std::int32_t i) { push(is_prod(i) ? Instr{Op::push_prod, node(i).leaf} : Instr{Op::push_bias, 0}); }
  // Pushes node i (a leaf or a subtree) onto the stack.
  void emit(std::int32_t i) {
    const SumTree::Node& n = node(i);
    if (n.leaf >= 0) return leaf(i);
    combine(n.kids[0], n.kids[1], true);
    for (std::size_t c = 2; c < n.kids.size(); ++c) combine(-1, n.kids[c], false);
  }
  // a + b, a = −1: the sum already on top of the stack (a subtree, never a product leaf).
  void combine(std::int32_t a, std::int32_t b, bool a_pending) {
    const bool pa = a_pending && is_prod(a), pb = is_prod(b);
    if (fused_ && pa && pb) {
      const bool a_first = (node(a).leaf < node(b).leaf) == lo_;
      leaf(a_first ? a : b);
      push({Op::fma_into, node(a_first ? b : a).leaf});
    } else if (fused_ && !pairs_only_ && (pa || pb)) {
      if (a_pending) emit(pa ? b : a);
      push({Op::fma_into, node(pa ? a : b).leaf});
    } else if (!a_pending) {
      emit(b);
      push({Op::add, 0});
    } else {
      const bool a_big = need(a) >= need(b);
      emit(a_big ? a : b);
      emit(a_big ? b : a);
      push({Op::add, 0});
    }
  }
};

// ftz=1: each operation on the exact binary64 product (exact for float32 x and w),
// rounded once and flushed.
struct FtzPolicy : ValuePolicy<float> {
  static float prod(float x, float w) { return add_round_ftz(0.0f, static_cast<double>(x) * w); }
  static float add(float a, float b) { return add_round_ftz(a, b); }
  static float fma(float x, float w, float c) { return add_round_ftz(c, static_cast<double>(x) * w); }
};

template <class T, bool Ftz = false>
struct TreeKernel {
  std::vector<Program> programs;
  std::vector<std::int32_t> lane_class;  // empty: programs[0] everywhere
  std::int64_t channels = 0, positions = 0;

  // Lanes [a, b) of r with program g into out.
  template <class P>
  void run(const Row<T>& r, const Program& g, std::int64_t a, std::int64_t b, const typename P::Rows& out) const {
    const std::int64_t len = b - a;
    const auto st = P::template scratch_rows<struct TreeStack>(static_cast<std::size_t>(g.depth * r.len));
    std::int64_t sp = 0;  // rows in use; row s holds lanes at s·len
    for (const Instr& in : g.code) {
      const std::int64_t top = (sp - 1) * len;
      switch (in.op) {
        case Op::push_prod: {
          const T* x = r.x(in.k) + a;
          const T w = r.w[in.k];
          for (std::int64_t j = 0; j < len; ++j) st.set(sp * len + j, P::prod(x[j], w));
          ++sp;
          break;
        }
        case Op::push_bias: {
          const auto bias = P::exact(*r.bias);
          for (std::int64_t j = 0; j < len; ++j) st.set(sp * len + j, bias);
          ++sp;
          break;
        }
        case Op::fma_into: {
          const T* x = r.x(in.k) + a;
          const T w = r.w[in.k];
          for (std::int64_t j = 0; j < len; ++j) st.set(top + j, P::fma(x[j], w, st.get(top + j)));
          break;
        }
        case Op::add: {
          const std::int64_t below = top - len;
          for (std::int64_t j = 0; j < len; ++j) st.set(below + j, P::add(st.get(below + j), st.get(top + j)));
          --sp;
          break;
        }
      }
    }
    for (std::int64_t j = 0; j < len; ++j) out.set(a + j, st.get(j));
  }

  template <class P>
  void row(const Row<T>& r, const typename P::Rows& out) const {
    if constexpr (Ftz && std::is_same_v<P, ValuePolicy<T>>)
      values<FtzPolicy>(r, out);
    else
      values<P>(r, out);
  }

  template <class P>
  void values(const Row<T>& r, const typename P::Rows& out) const {
    if constexpr (std::is_same_v<P, TreePolicy<T>>) {
      // The bound's tree (read off once, not per position) covers every class's tree.
      run<P>(r, programs[0], 0, r.len, out);
      const auto other = P::template scratch_rows<struct TreeOtherClass>(static_cast<std::size_t>(r.len));
      for (std::size_t c = 1; c < programs.size(); ++c) {
        run<P>(r, programs[c], 0, r.len, other);
        for (std::int64_t j = 0; j < r.len; ++j) out.set(j, cover(out.get(j), other.get(j)));
      }
    } else if (lane_class.empty()) {
      run<P>(r, programs[0], 0, r.len, out);
    } else {
      const std::int32_t* cls = lane_class.data() + (r.gemm_n % channels) * positions + r.m0;
      for (std::int64_t a = 0; a < r.len;) {
        std::int64_t b = a + 1;
        while (b < r.len && cls[b] == cls[a]) ++b;
        run<P>(r, programs[static_cast<std::size_t>(cls[a])], a, b, out);
        a = b;
      }
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const std::string path = ps.get("file", "");
  require(!path.empty(), "order 'tree': parameter 'file' (a tree file from certconv reveal --tree-out) is required");
  const std::string fma = ps.choice("fma", "0", {"0", "1", "pairs"});
  const TreeFma f = fma == "0" ? TreeFma::none : fma == "1" ? TreeFma::all : TreeFma::pairs;
  const bool first_lo = ps.choice("first", "lo", {"lo", "hi"}) == "lo";
  // input= is the registry's: the problem here is rounded already.
  const TreeRounding rd{.ftz = ps.flag("ftz", false),
                        .bf16_dst = ps.choice("dst", "f32", {"f32", "bf16"}) == "bf16"};
  return run_tree_file(read_tree_file(path), f, first_lo, p, opt, rd);
}

}  // namespace

const char* tree_fma_name(TreeFma f) { return f == TreeFma::none ? "0" : f == TreeFma::all ? "1" : "pairs"; }

template <class T>
OrderOutput<T> run_tree_file(const TreeFile& f, TreeFma fma, bool first_lo, const ConvProblem<T>& p,
                             const RunOptions& opt, TreeRounding rd) {
  const ConvSpec& s = p.spec;
  require(f.K == s.n_terms(),
          "tree file: the trees sum " + std::to_string(f.K) + " terms; the problem has " + std::to_string(s.n_terms()));
  require(f.has_bias == (p.bias != nullptr), f.has_bias
                                                 ? "tree file: the trees have a bias leaf; the problem has none"
                                                 : "tree file: the trees have no bias leaf; the problem has a bias");
  require(f.lane_class.empty() || (f.oh == s.oh && f.ow == s.ow && (f.channels == 1 || f.channels == s.oc / s.g)),
          "tree file: the classes are for " + std::to_string(f.channels) + " channels of " + std::to_string(f.oh) +
              "x" + std::to_string(f.ow) + " outputs; the problem has " + std::to_string(s.oc / s.g) +
              " channels per group of " + std::to_string(s.oh) + "x" + std::to_string(s.ow));
  auto build = [&](auto ker) {
    for (const SumTree& t : f.trees) ker.programs.push_back(Compiler(t, f.K, fma, first_lo).compile());
    ker.lane_class = f.lane_class;
    ker.channels = f.channels;
    ker.positions = f.oh * f.ow;
    return ker;
  };
  if (!rd.any()) return run_tree_order(p, opt, build(TreeKernel<T>{}));
  if constexpr (std::is_same_v<T, double>) {
    throw InputError("order 'tree': input=bf16, ftz=1 and dst=bf16 are for float32 (dtype f32)");
  } else if (rd.bf16_input) {
    // As input=bf16 of run_order (registry.cpp): |o − y| ≤ |o − ỹ| + |ỹ − y|, ỹ the
    // exact convolution of the rounded inputs.
    const OwnedProblem<float> rounded = round_problem(p, InputFormat::bf16);
    OrderOutput<float> out = run_tree_file(f, fma, first_lo, rounded.view(), opt, {false, rd.ftz, rd.bf16_dst});
    if (opt.want_bound && !out.bound.data.empty()) {
      const Tensor<double> e = input_rounding_error(p, rounded.view(), resolve_threads(opt.threads));
      for (std::size_t i = 0; i < e.data.size(); ++i) {
        out.bound.data[i] = add_up(out.bound.data[i], e.data[i]);
        if (!out.running_bound.data.empty()) out.running_bound.data[i] = add_up(out.running_bound.data[i], e.data[i]);
      }
      out.bound_kind.input_rounding = true;
    }
    return out;
  } else {
    const OwnedProblem<float> seen = kernel_inputs(p, InputFormat::f32, rd.ftz);
    RunOptions values = opt;
    values.want_bound = false;
    OrderOutput<float> out = rd.ftz ? run_tree_order(seen.view(), values, build(TreeKernel<float, true>{}))
                                    : run_tree_order(seen.view(), values, build(TreeKernel<float>{}));
    if (rd.bf16_dst)
      for (float& v : out.y.data) v = rd.ftz ? vcvtneps2bf16(v) : round_to_format(v, InputFormat::bf16);
    if (opt.want_bound) set_bf16_kernel_bound(out, p, seen.view(), rd.bf16_dst, opt.threads);
    return out;
  }
}

template OrderOutput<float> run_tree_file(const TreeFile&, TreeFma, bool, const ConvProblem<float>&, const RunOptions&,
                                          TreeRounding);
template OrderOutput<double> run_tree_file(const TreeFile&, TreeFma, bool, const ConvProblem<double>&,
                                           const RunOptions&, TreeRounding);

OrderInfo make_tree_order() {
  return {.name = "tree",
          .params = {OrderParam{"file", "", "the tree file (certconv reveal --tree-out): trees per position class"},
                     OrderParam{"fma", "0",
                                "1: a product leaf joins a sum as fma(x, w, sum); pairs: only two product leaves"},
                     OrderParam{"first", "lo",
                                "fma=1, two product leaves: the lower (lo) or higher (hi) term is "
                                "rounded first and the other fused into it"},
                     OrderParam{"ftz", "0",
                                "1: x, w below 2^-126 read as zero and every result below 2^-126 flushed "
                                "(VDPBF16PS)"},
                     OrderParam{"dst", "f32", "bf16: the output rounded to bf16, nearest-even"}},
          .accumulation =
              "the summation tree of the file, per position class; fma=1 fuses product leaves into "
              "their sibling",
          .run_f32 = run<float>,
          .run_f64 = run<double>};
}

}  // namespace certconv
