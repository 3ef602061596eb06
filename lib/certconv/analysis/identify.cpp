#include "certconv/analysis/identify.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "certconv/core/format.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/text.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv {

namespace {

// The values identify tries for one parameter: those it declares, else its default.
std::vector<std::string> sweep(const OrderParam& param, const SweepContext& c) {
  std::vector<std::string> v = param.sweep ? param.sweep(c) : std::vector<std::string>{};
  if (v.empty()) v.push_back(param.default_value);
  return v;
}

// |d|/scale; +inf for d ≠ 0 at scale 0 and for NaN (non-finite values).
double norm(double d, double scale) {
  const double r = scale > 0 ? std::fabs(d) / scale : (d == 0 ? 0 : kInf);
  return std::isnan(r) ? kInf : r;
}

}  // namespace

std::vector<OrderSpec> identify_candidates(const ConvSpec& s, Dtype dtype, bool has_bias, Direction dir,
                                           bool forward_2d) {
  const SweepContext c{.spec = s, .dtype = dtype, .has_bias = has_bias};
  std::vector<OrderSpec> out;
  for (const OrderInfo& info : order_list()) {
    if (info.kind != OrderKind::order || needs_argument(info) || !applies_to(info, dir, forward_2d)) continue;
    std::vector<OrderSpec> partial{OrderSpec{info.name, {}}};
    for (const OrderParam& param : info.params) {
      std::vector<OrderSpec> next;
      for (const OrderSpec& o : partial)
        for (const std::string& v : sweep(param, c)) {
          OrderSpec e = o;
          e.params[param.key] = v;
          next.push_back(std::move(e));
        }
      partial = std::move(next);
    }
    out.insert(out.end(), partial.begin(), partial.end());
  }
  return out;
}

namespace {

template <class TI, class T>
IdentifyResult identify_among(const ConvProblem<TI>& p, const Tensor<T>& y, int threads,
                              const std::vector<OrderSpec>& candidates) {
  const FpEnvGuard fp_env;
  check_problem(p);
  const ConvSpec& s = p.spec;
  require(y.shape == s.y_shape(), "the output to identify has the wrong shape for " + to_benchdnn(s));
  TruthOptions topt;
  topt.threads = threads;
  const Truth truth = compute_truth(p, topt);

  // Float inputs for a double output are widened (exactly); otherwise p runs as is.
  OwnedProblem<T> widened;
  if constexpr (!std::is_same_v<T, TI>) widened = problem_cast<T>(p);
  const ConvProblem<T> pt = [&] {
    if constexpr (std::is_same_v<T, TI>)
      return p;
    else
      return widened.view();
  }();
  RunOptions opt;
  opt.threads = threads;
  opt.want_bound = false;
  const double u = format_consts<T>().u;

  IdentifyResult r;
  for (const OrderSpec& o : candidates) {
    OrderOutput<T> out;
    try {
      out = run_order(o, pt, opt);
    } catch (const InputError& e) {
      r.skipped.emplace_back(order_str(o), e.what());
      continue;
    }
    IdentifyCandidate c{.order = o};
    for (std::size_t i = 0; i < y.data.size(); ++i) {
      if (std::memcmp(&y.data[i], &out.y.data[i], sizeof(T)) == 0) continue;
      ++c.mismatches;
      const double yi = static_cast<double>(y.data[i]), scale = u * truth.absdot.data[i];
      c.max_norm_err_of_mismatches = std::max(c.max_norm_err_of_mismatches, norm(yi - truth.y.data[i], scale));
      c.max_norm_dist_of_mismatches =
          std::max(c.max_norm_dist_of_mismatches, norm(yi - static_cast<double>(out.y.data[i]), scale));
    }
    c.identical_fraction =
        y.data.empty() ? 1 : static_cast<double>(y.size() - c.mismatches) / static_cast<double>(y.size());
    r.candidates.push_back(std::move(c));
  }
  std::stable_sort(r.candidates.begin(), r.candidates.end(), [](const auto& a, const auto& b) {
    return a.identical_fraction > b.identical_fraction;
  });
  return r;
}

}  // namespace

template <class TI, class T>
IdentifyResult identify(const ConvProblem<TI>& p, const Tensor<T>& y, int threads) {
  return identify_among(p, y, threads, identify_candidates(p.spec, dtype_of<T>(), p.bias != nullptr));
}

template <class TI, class T>
IdentifyResult identify(const ConvDesc& d, Direction dir, const Operands<TI>& ops, const Tensor<T>& y, int threads) {
  require(dir != Direction::bwd_wb, "direction BWD_WB has two results (dw, db); identify dw with BWD_W");
  const Lowered<TI> l = std::move(lower(d, dir, ops).front());
  require(y.shape == l.shape, "the output to identify has shape " + shape_text(y.shape) + "; " + l.result + " of " +
                                  direction_name(dir) + " has " + shape_text(l.shape));
  return identify_among(l.problem.view(), to_lowered_layout(l, y), threads,
                        identify_candidates(l.problem.spec, dtype_of<T>(), l.problem.bias.has_value(), dir,
                                            is_forward(dir) && d.rank <= 2));
}

template IdentifyResult identify(const ConvDesc&, Direction, const Operands<float>&, const Tensor<float>&, int);
template IdentifyResult identify(const ConvDesc&, Direction, const Operands<float>&, const Tensor<double>&, int);
template IdentifyResult identify(const ConvDesc&, Direction, const Operands<double>&, const Tensor<double>&, int);
template IdentifyResult identify(const ConvProblem<float>&, const Tensor<float>&, int);
template IdentifyResult identify(const ConvProblem<float>&, const Tensor<double>&, int);
template IdentifyResult identify(const ConvProblem<double>&, const Tensor<double>&, int);

}  // namespace certconv
