// Revealing a convolution's summation order (reveal.hpp).
#include "certconv/reveal/reveal.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

#include "certconv/bounds/order_free.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/core/text.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/reveal/reconstruct.hpp"

namespace certconv {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The largest power of two: ±M and any partial sum of ones round back to ±M, and
// M − M = 0 exactly, however many ones (< 2^24 resp. 2^53) a block adds first.
template <class T>
constexpr T swamp() {
  if constexpr (std::is_same_v<T, float>)
    return 0x1p127f;
  else
    return 0x1p1023;
}

// Which leaves each output position sees: interior positions all of them, border
// positions (listed in `border`) those in valid[b] (the bias always).
struct Geometry {
  std::int64_t K = 0, n = 0, P = 0;
  std::vector<std::uint8_t> interior;
  std::vector<std::int64_t> border;              // position of border entry b
  std::vector<std::int64_t> border_of;           // position → b, or −1
  std::vector<std::vector<std::uint8_t>> valid;  // per border entry, n leaves
  std::vector<std::int64_t> n_valid;             // per border entry
};

Geometry geometry(const ConvSpec& s, bool has_bias) {
  Geometry g;
  g.K = s.n_terms();
  g.n = g.K + (has_bias ? 1 : 0);
  g.P = s.oh * s.ow;
  g.interior.assign(static_cast<std::size_t>(g.P), 0);
  g.border_of.assign(static_cast<std::size_t>(g.P), -1);
  const std::int64_t icg = s.ic / s.g;
  for (std::int64_t oy = 0; oy < s.oh; ++oy)
    for (std::int64_t ox = 0; ox < s.ow; ++ox) {
      std::vector<std::uint8_t> vy(static_cast<std::size_t>(s.kh)), vx(static_cast<std::size_t>(s.kw));
      bool all = true;
      for (std::int64_t ky = 0; ky < s.kh; ++ky) {
        const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1);
        all &= (vy[static_cast<std::size_t>(ky)] = iy >= 0 && iy < s.ih);
      }
      for (std::int64_t kx = 0; kx < s.kw; ++kx) {
        const std::int64_t ix = ox * s.sw - s.pw + kx * (s.dw + 1);
        all &= (vx[static_cast<std::size_t>(kx)] = ix >= 0 && ix < s.iw);
      }
      const std::int64_t p = oy * s.ow + ox;
      if (all) {
        g.interior[static_cast<std::size_t>(p)] = 1;
        continue;
      }
      std::vector<std::uint8_t> v(static_cast<std::size_t>(g.n), 1);
      std::int64_t count = g.n;
      for (std::int64_t c = 0; c < icg; ++c)
        for (std::int64_t ky = 0; ky < s.kh; ++ky)
          for (std::int64_t kx = 0; kx < s.kw; ++kx)
            if (!vy[static_cast<std::size_t>(ky)] || !vx[static_cast<std::size_t>(kx)]) {
              v[static_cast<std::size_t>((c * s.kh + ky) * s.kw + kx)] = 0;
              --count;
            }
      g.border_of[static_cast<std::size_t>(p)] = static_cast<std::int64_t>(g.border.size());
      g.border.push_back(p);
      g.valid.push_back(std::move(v));
      g.n_valid.push_back(count);
    }
  return g;
}

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(T)) == 0;
}

// The black box, counted, with its output's shape checked.
template <class T>
class Box {
 public:
  Box(const ConvSpec& s, const BlackBox<T>& f) : s_(s), f_(f) {}
  Tensor<T> operator()(const ConvProblem<T>& p) {
    ++calls;
    Tensor<T> y = f_(p);
    require(y.shape == s_.y_shape(), "the black box returned an output of shape [" + shape_text(y.shape) +
                                         "]; the problem needs [" + shape_text(s_.y_shape()) + "]");
    return y;
  }
  std::int64_t calls = 0;

 private:
  const ConvSpec& s_;
  const BlackBox<T>& f_;
  static std::string shape_text(const std::vector<std::int64_t>& v) {
    std::string t;
    for (std::size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + std::to_string(v[i]);
    return t;
  }
};

// The probes on the convolution: calibration, rebuilds, and the lanes' classes.
template <class T>
class Prober {
 public:
  Prober(const ConvSpec& s, bool has_bias, Box<T>& box, const Geometry& g)
      : s_(s), box_(box), g_(g), p_{s, Tensor<T>(s.x_shape(), T(1)), Tensor<T>(s.w_shape(), T(1)), {}} {
    if (has_bias) p_.bias = Tensor<T>({s.oc}, T(1));
  }

  bool deterministic = true;
  std::int64_t calls = 0;

  // The same probes on every channel: (0, 1) and (n − 2, n − 1), the ends of a sum
  // in leaf order, where blocked and split sums differ most.
  void calibrate() {
    for (const ProbePair& pr : {ProbePair{0, 1}, ProbePair{g_.n - 2, g_.n - 1}}) {
      if (g_.n < 3 && !cal_.empty()) break;
      Call c{std::vector<ProbePair>(static_cast<std::size_t>(s_.oc), pr), {}};
      cal_.push_back(done_.size());
      done_.push_back(run(std::move(c)));
    }
  }

  // Starts a rebuild for the unexplained interior lanes that answer the calibration
  // like lane `first` (cls < 0 marks the unexplained lanes).
  void start(std::int64_t first, const std::vector<std::int32_t>& cls) {
    const std::int64_t P = g_.P;
    rep_.assign(static_cast<std::size_t>(s_.oc), -1);
    chans_.clear();
    for (std::int64_t c = 0; c < s_.oc; ++c)
      for (std::int64_t p = 0; p < P; ++p) {
        const std::int64_t lane = c * P + p;
        if (cls[static_cast<std::size_t>(lane)] >= 0 || !g_.interior[static_cast<std::size_t>(p)] ||
            !same_calibration(lane, first))
          continue;
        rep_[static_cast<std::size_t>(c)] = p;
        chans_.push_back(c);
        break;
      }
  }

  // With all leaves one, an interior output of image 0 that is not the count n: the
  // output cannot hold the probes' counts (a bf16 output: integers up to 256 only).
  std::optional<T> miscount() {
    const Call c = run({std::vector<ProbePair>(static_cast<std::size_t>(s_.oc), kNone), {}});
    for (std::size_t l = 0; l < c.y.size(); ++l)
      if (g_.interior[l % static_cast<std::size_t>(g_.P)] && c.y[l] != static_cast<T>(g_.n)) return c.y[l];
    return std::nullopt;
  }

  // Probes one call answers in this rebuild: one per representative channel.
  std::int64_t per_call() const { return static_cast<std::int64_t>(chans_.size()); }

  std::vector<std::int64_t> answer(const std::vector<ProbePair>& pairs) {
    std::vector<std::int64_t> l(pairs.size(), -1);
    const std::size_t cap = chans_.size();
    for (std::size_t q0 = 0; q0 < pairs.size(); q0 += cap) {
      const std::size_t q1 = std::min(pairs.size(), q0 + cap);
      Call c{std::vector<ProbePair>(static_cast<std::size_t>(s_.oc), kNone), {}};
      for (std::size_t q = q0; q < q1; ++q) c.pairs[static_cast<std::size_t>(chans_[q - q0])] = pairs[q];
      done_.push_back(run(std::move(c)));
      const Call& done = done_.back();
      for (std::size_t q = q0; q < q1; ++q) {
        const std::int64_t ch = chans_[q - q0];
        const T v = done.y[static_cast<std::size_t>(ch * g_.P + rep_[static_cast<std::size_t>(ch)])];
        l[q] = decode(static_cast<double>(v), g_.n);
      }
    }
    return l;
  }

  // Gives class `c` to every unexplained interior (or border) lane whose answers to
  // every probe so far are tree t's.
  void assign(const SumTree& t, std::int32_t c, bool border, std::vector<std::int32_t>& cls) const {
    const LcaCounts lc(t, g_.n);
    const std::vector<std::int64_t> all = lc.counts({});
    // Per call and channel: the LCA of its probe (−1: none).
    std::vector<std::int32_t> lca(done_.size() * static_cast<std::size_t>(s_.oc), -1);
    for (std::size_t k = 0; k < done_.size(); ++k)
      for (std::int64_t ch = 0; ch < s_.oc; ++ch) {
        const ProbePair pr = done_[k].pairs[static_cast<std::size_t>(ch)];
        if (pr != kNone)
          lca[k * static_cast<std::size_t>(s_.oc) + static_cast<std::size_t>(ch)] = lc.lca(pr.first, pr.second);
      }
    for (std::int64_t p = 0; p < g_.P; ++p) {
      const std::int64_t b = g_.border_of[static_cast<std::size_t>(p)];
      if ((b >= 0) != border) continue;
      const std::vector<std::int64_t> under =
          b < 0 ? std::vector<std::int64_t>{} : lc.counts(g_.valid[static_cast<std::size_t>(b)]);
      const std::vector<std::int64_t>& cnt = b < 0 ? all : under;
      const std::int64_t nv = b < 0 ? g_.n : g_.n_valid[static_cast<std::size_t>(b)];
      for (std::int64_t ch = 0; ch < s_.oc; ++ch) {
        auto& cl = cls[static_cast<std::size_t>(ch * g_.P + p)];
        if (cl >= 0) continue;
        bool ok = true;
        for (std::size_t k = 0; k < done_.size() && ok; ++k) {
          const std::int32_t a = lca[k * static_cast<std::size_t>(s_.oc) + static_cast<std::size_t>(ch)];
          if (a < 0) continue;
          const ProbePair pr = done_[k].pairs[static_cast<std::size_t>(ch)];
          if (b >= 0 && !(g_.valid[static_cast<std::size_t>(b)][static_cast<std::size_t>(pr.first)] &&
                          g_.valid[static_cast<std::size_t>(b)][static_cast<std::size_t>(pr.second)]))
            continue;  // a padded tap: no count
          ok = static_cast<double>(done_[k].y[static_cast<std::size_t>(ch * g_.P + p)]) ==
               static_cast<double>(nv - cnt[static_cast<std::size_t>(a)]);
        }
        if (ok) cl = c;
      }
    }
  }

 private:
  static constexpr ProbePair kNone{-1, -1};
  // The probe of each channel (kNone: all ones) and image 0 of the output.
  struct Call {
    std::vector<ProbePair> pairs;
    std::vector<T> y;
  };

  const ConvSpec& s_;
  Box<T>& box_;
  const Geometry& g_;
  OwnedProblem<T> p_;
  std::vector<Call> done_;        // every call so far
  std::vector<std::size_t> cal_;  // which of them calibrate
  std::vector<std::int64_t> rep_, chans_;

  Call run(Call c) {
    const T M = swamp<T>();
    for (std::int64_t ch = 0; ch < s_.oc; ++ch) set(ch, c.pairs[static_cast<std::size_t>(ch)], M);
    const Tensor<T> y = box_(p_.view());
    if (++calls == 1) deterministic &= same_bits(y, box_(p_.view()));
    for (std::int64_t ch = 0; ch < s_.oc; ++ch) set(ch, c.pairs[static_cast<std::size_t>(ch)], T(1));
    c.y.assign(y.data.begin(), y.data.begin() + s_.oc * g_.P);
    return c;
  }
  bool same_calibration(std::int64_t a, std::int64_t b) const {
    for (const std::size_t i : cal_)
      if (const Call& k = done_[i];
          std::memcmp(&k.y[static_cast<std::size_t>(a)], &k.y[static_cast<std::size_t>(b)], sizeof(T)) != 0)
        return false;
    return true;
  }
  // The sum of n leaves holding one ±M pair, l = n − y when y is an integer in [0, n − 2].
  static std::int64_t decode(double y, std::int64_t n) {
    return y >= 0 && y <= static_cast<double>(n - 2) && y == std::floor(y) ? n - static_cast<std::int64_t>(y) : -1;
  }
  // Leaves i, j of output channel c to +mag, −mag (back to 1 when mag = 1).
  void set(std::int64_t c, const ProbePair& pr, T mag) {
    if (pr == kNone) return;
    put(c, pr.first, mag);
    put(c, pr.second, mag == T(1) ? T(1) : -mag);
  }
  // Leaf k of output channel c: tap k of its weights, or the bias (k = K).
  void put(std::int64_t c, std::int64_t k, T v) {
    if (k == g_.K)
      p_.bias->data[static_cast<std::size_t>(c)] = v;
    else
      p_.w.data[static_cast<std::size_t>(c * g_.K + k)] = v;
  }
};

// Inputs as PyTorch initialises nn.Conv2d: x ~ N(0, 1), w and bias ~ U(±1/√fan_in).
template <class T>
OwnedProblem<T> random_problem(const ConvSpec& s, bool has_bias, std::uint64_t seed) {
  Rng rng(seed);
  OwnedProblem<T> p{s, Tensor<T>(s.x_shape()), Tensor<T>(s.w_shape()), {}};
  const double a = 1 / std::sqrt(static_cast<double>(s.n_terms()));
  for (T& v : p.x.data) v = static_cast<T>(rng.normal());
  for (T& v : p.w.data) v = static_cast<T>(rng.uniform(-a, a));
  if (has_bias) {
    p.bias = Tensor<T>({s.oc});
    for (T& v : p.bias->data) v = static_cast<T>(rng.uniform(-a, a));
  }
  return p;
}

template <class T>
std::int64_t mismatches(const Tensor<T>& a, const Tensor<T>& b) {
  std::int64_t m = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) m += std::memcmp(&a.data[i], &b.data[i], sizeof(T)) != 0;
  return m;
}

// The tree bound of the replay against the truth and against the order-free bound.
template <class T>
void check_bounds(const ConvProblem<T>& p, const Tensor<T>& y, const Tensor<double>& bound, TreeFma fma, int threads,
                  RevealResult& r) {
  TruthOptions topt;
  topt.threads = threads;
  const Truth truth = compute_truth(p, topt);
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  std::vector<double> ratio(y.data.size());
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    const double yh = static_cast<double>(y.data[i]), b = bound.data[i];
    // Certainly outside: beyond [lo − b, hi + b] rounded outward.
    r.bound_violations += yh < -add_up(-truth.lo.data[i], b) || yh > add_up(truth.hi.data[i], b);
    const double err = std::fabs(yh - truth.y.data[i]);
    r.max_tightness = std::max(r.max_tightness, err == 0 ? 0 : err / b);
    const double of = order_free_bound(truth.absdot.data[i], n, dtype_of<T>(),
                                       fma != TreeFma::none ? Products::fused : Products::rounded);
    ratio[i] = of > 0 ? b / of : 0;
  }
  r.max_bound_ratio = ratio.empty() ? 0 : *std::max_element(ratio.begin(), ratio.end());
  if (!ratio.empty()) {
    std::nth_element(ratio.begin(), ratio.begin() + static_cast<std::ptrdiff_t>(ratio.size() / 2), ratio.end());
    r.median_bound_ratio = ratio[ratio.size() / 2];
  }
  r.bounds_checked = true;
}

}  // namespace

const char* reveal_status_name(RevealStatus s) {
  switch (s) {
    case RevealStatus::tree:
      return "tree";
    case RevealStatus::not_a_tree:
      return "not_a_tree";
    case RevealStatus::non_deterministic:
      return "non_deterministic";
  }
  return "?";
}

std::string tree_numerics_params(const RevealNumerics& n) {
  return std::string(",fma=") + tree_fma_name(n.fma) + ",first=" + (n.first_lo ? "lo" : "hi") +
         (n.rounding.bf16_input ? ",input=bf16" : "") + (n.rounding.ftz ? ",ftz=1" : "") +
         (n.rounding.bf16_dst ? ",dst=bf16" : "");
}

std::int64_t all_pairs_calls(std::int64_t n, std::int64_t oc) { return (n * (n - 1) / 2 + oc - 1) / oc; }

template <class T>
RevealResult reveal_conv(const ConvSpec& s, bool has_bias, const BlackBox<T>& f, const RevealOptions& opt) {
  const FpEnvGuard fp_env;
  const auto t0 = Clock::now();
  RevealResult r;
  require(s.n_terms() + (has_bias ? 1 : 0) >= 2, "reveal: one term is no sum; the problem needs two or more");
  const Geometry g = geometry(s, has_bias);
  require(std::find(g.interior.begin(), g.interior.end(), 1) != g.interior.end(),
          "reveal: every output of " + to_benchdnn(s) + " touches the padding; it needs one that does not");
  Box<T> box(s, f);
  Prober<T> prober(s, has_bias, box, g);
  auto finish = [&](RevealStatus st, std::string why) {
    r.status = st;
    r.reason = std::move(why);
    r.calls = box.calls;
    r.probe_calls = prober.calls;
    r.seconds = since(t0);
    return r;
  };
  const char* kNonDet = "two calls with the same inputs gave different outputs";

  // Rebuilds, one per class of lanes.
  const std::int64_t lanes = s.oc * g.P;
  std::vector<std::int32_t> cls(static_cast<std::size_t>(lanes), -1);
  r.trees.K = g.K;
  r.trees.has_bias = has_bias;
  prober.calibrate();
  for (std::int32_t c = 0; c < opt.max_classes && prober.deterministic; ++c) {
    std::int64_t first = 0;  // the first unexplained interior lane
    while (first < lanes &&
           (!g.interior[static_cast<std::size_t>(first % g.P)] || cls[static_cast<std::size_t>(first)] >= 0))
      ++first;
    if (first == lanes) break;
    prober.start(first, cls);
    ReconstructResult rec = reconstruct_tree(
        g.n, [&](const std::vector<ProbePair>& q) { return prober.answer(q); }, prober.per_call(),
        opt.seed + static_cast<std::uint64_t>(c));
    r.queries += rec.queries;
    r.rounds += rec.rounds;
    if (!rec.is_tree) {
      if (c > 0) break;  // the lanes left keep class 0; the replay tells
      // One more call, on failure only: can the output count at all?
      if (const std::optional<T> v = prober.miscount())
        return finish(RevealStatus::not_a_tree,
                      "the output cannot count the probes' leaves: with every input one, an output is " +
                          number_text(static_cast<double>(*v), 9) + ", not the " + std::to_string(g.n) +
                          " leaves (a bf16 output holds integers exactly only up to 256); the swamping probes "
                          "need an output that holds every count up to the number of leaves");
      return finish(RevealStatus::not_a_tree, "the probe answers fit no summation tree: " + rec.why_not);
    }
    prober.assign(rec.tree, c, false, cls);
    if (cls[static_cast<std::size_t>(first)] < 0) {
      if (c == 0) return finish(RevealStatus::not_a_tree, "the rebuilt tree does not predict its own probes");
      break;
    }
    r.trees.trees.push_back(std::move(rec.tree));
  }
  if (!prober.deterministic) return finish(RevealStatus::non_deterministic, kNonDet);
  // Border lanes last, against every probe: the fewer taps they see, the more trees fit.
  for (std::size_t c = 0; c < r.trees.trees.size(); ++c)
    prober.assign(r.trees.trees[c], static_cast<std::int32_t>(c), true, cls);
  r.probe_seconds = since(t0);
  // Border and unexplained lanes may take another class where the replay confirms it.
  std::vector<std::uint8_t> flexible(cls.size());
  for (std::size_t l = 0; l < cls.size(); ++l)
    flexible[l] = cls[l] < 0 || !g.interior[l % static_cast<std::size_t>(g.P)];
  for (std::int32_t& c : cls) {
    r.unexplained_lanes += c < 0;
    c = std::max(c, 0);
  }

  // Numerics (and the flexible lanes' classes) by bit-exact replay on random inputs:
  // one when there is one tree; with several, a flexible lane takes the class that
  // reproduces it on the most of eight (a wrong tree can agree with a few by chance).
  RunOptions no_bound;
  no_bound.threads = opt.threads;
  no_bound.want_bound = false;
  const std::size_t nc = r.trees.trees.size(), lanes_u = cls.size();
  const int inputs = nc > 1 ? 8 : 1;
  std::vector<OwnedProblem<T>> rs;
  std::vector<Tensor<T>> ys;
  for (int i = 0; i < inputs; ++i) {
    rs.push_back(random_problem<T>(s, has_bias, opt.seed + static_cast<std::uint64_t>(i)));
    ys.push_back(box(rs.back().view()));
    if (i == 0 && !same_bits(ys[0], box(rs[0].view()))) return finish(RevealStatus::non_deterministic, kNonDet);
  }
  std::vector<std::int32_t> best_cls = cls;
  auto try_numerics = [&](TreeFma fma, bool lo, TreeRounding rd) {
    // hits[c·lanes + l]: the inputs on which tree c reproduces lane l in every image.
    std::vector<int> hits(nc * lanes_u, 0);
    for (std::size_t c = 0; c < nc; ++c) {
      TreeFile one;
      one.K = g.K;
      one.has_bias = has_bias;
      one.trees = {r.trees.trees[c]};
      for (int i = 0; i < inputs; ++i) {
        const Tensor<T> yt = run_tree_file(one, fma, lo, rs[static_cast<std::size_t>(i)].view(), no_bound, rd).y;
        std::vector<std::uint8_t> same(lanes_u, 1);
        for (std::size_t e = 0; e < yt.data.size(); ++e)
          if (std::memcmp(&yt.data[e], &ys[static_cast<std::size_t>(i)].data[e], sizeof(T)) != 0) same[e % lanes_u] = 0;
        for (std::size_t l = 0; l < lanes_u; ++l) hits[c * lanes_u + l] += same[l];
      }
    }
    std::vector<std::int32_t> k = cls;
    std::int64_t good = 0;
    for (std::size_t l = 0; l < lanes_u; ++l) {
      auto at = [&](std::size_t c) { return hits[c * lanes_u + l]; };
      for (std::size_t c = 0; flexible[l] && c < nc; ++c)
        if (at(c) > at(static_cast<std::size_t>(k[l]))) k[l] = static_cast<std::int32_t>(c);
      good += at(static_cast<std::size_t>(k[l])) == inputs;
    }
    const double frac = lanes_u == 0 ? 1 : static_cast<double>(good) / static_cast<double>(lanes_u);
    r.numerics.push_back({fma, lo, rd, frac});
    if (frac > r.chosen.identical_fraction || r.numerics.size() == 1) {
      r.chosen = r.numerics.back();
      best_cls = std::move(k);
    }
  };
  constexpr std::pair<TreeFma, bool> kFma[] = {{TreeFma::none, true},
                                               {TreeFma::all, true},
                                               {TreeFma::all, false},
                                               {TreeFma::pairs, true},
                                               {TreeFma::pairs, false}};
  for (const auto& [fma, lo] : kFma) try_numerics(fma, lo, {});
  // A bf16 kernel (float32 accumulation of bf16 inputs): with and without flush to
  // zero (VDPBF16PS, oneDNN's emulation of it); a bf16 output when every output is a
  // bf16 value, which random float32 sums are not.
  if constexpr (std::is_same_v<T, float>) {
    bool bf16_out = true;
    for (const Tensor<T>& y : ys)
      for (const T v : y.data) bf16_out &= round_to_format(v, InputFormat::bf16) == v;
    for (const bool ftz : {true, false})
      for (const auto& [fma, lo] : kFma)
        if (r.chosen.identical_fraction < 0.5) try_numerics(fma, lo, {true, ftz, bf16_out});
  }
  // A compensated sum (or one in extra precision) swamps like a tree, but no rounding
  // of that tree comes close to it: most outputs differ whatever the numerics.
  if (r.chosen.identical_fraction < 0.5)
    return finish(RevealStatus::not_a_tree,
                  "the probes fit a summation tree, but no choice of numerics replays even half of the outputs "
                  "(best " +
                      std::to_string(r.chosen.identical_fraction) +
                      "): not plain rounded additions (compensated, extra precision or a transform?)");
  cls = std::move(best_cls);
  r.class_lanes.assign(nc, 0);
  for (const std::int32_t c : cls) ++r.class_lanes[static_cast<std::size_t>(c)];
  if (nc > 1) {
    // Per position only, when every channel has the same classes; the file indexes
    // channels within a group, so groups beyond the first are taken to repeat it.
    const std::int64_t ocg = s.oc / s.g;
    bool by_position = true;
    for (std::int64_t ch = 1; ch < s.oc && by_position; ++ch)
      by_position = std::equal(cls.begin(), cls.begin() + g.P, cls.begin() + ch * g.P);
    r.trees.oh = s.oh;
    r.trees.ow = s.ow;
    r.trees.channels = by_position ? 1 : ocg;
    r.trees.lane_class.assign(cls.begin(), cls.begin() + r.trees.channels * g.P);
  }

  // The check on fresh inputs, with the tree bound.
  const OwnedProblem<T> r2 = random_problem<T>(s, has_bias, opt.seed + 0x9e3779b97f4a7c15ULL);  // unlike rs
  const Tensor<T> y2 = box(r2.view());
  RunOptions with_bound = no_bound;
  with_bound.want_bound = opt.check_bounds;
  with_bound.want_running = false;
  const OrderOutput<T> rep =
      run_tree_file(r.trees, r.chosen.fma, r.chosen.first_lo, r2.view(), with_bound, r.chosen.rounding);
  r.replay_outputs = y2.size();
  r.replay_mismatches = mismatches(y2, rep.y);
  r.replay_identical_fraction =
      y2.data.empty() ? 1 : 1 - static_cast<double>(r.replay_mismatches) / static_cast<double>(y2.size());
  if (opt.check_bounds) check_bounds(r2.view(), y2, rep.bound, r.chosen.fma, opt.threads, r);
  return finish(RevealStatus::tree, "");
}

template RevealResult reveal_conv(const ConvSpec&, bool, const BlackBox<float>&, const RevealOptions&);
template RevealResult reveal_conv(const ConvSpec&, bool, const BlackBox<double>&, const RevealOptions&);

}  // namespace certconv
