// The C++ half of the Python module: certconv's library functions on NumPy
// arrays. certconv/__init__.py wraps these with PyTorch-style arguments (ints or
// pairs, tensors via .numpy()) and returns the JSON documents as dicts.
// certconv::InputError becomes ValueError; the GIL is released while computing.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <tuple>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "arrays.hpp"
#include "certconv/analysis/analyze.hpp"
#include "certconv/analysis/explain.hpp"
#include "certconv/analysis/identify.hpp"
#include "certconv/core/config.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/exact/result_truth.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/report/analyze_doc.hpp"
#include "certconv/report/explain_doc.hpp"
#include "certconv/report/identify_doc.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/reveal_doc.hpp"
#include "certconv/reveal/reveal.hpp"
#include "certconv/testing.hpp"

namespace certconv::py_binding {

namespace {

using Pair = std::pair<std::int64_t, std::int64_t>;

// PyTorch's conv2d arguments: dilation 1 = none.
struct ConvArgs {
  Pair stride, padding, dilation;
  std::int64_t groups;
};

template <class T>
using Problem = OwnedProblem<T>;
using AnyProblem = std::variant<Problem<float>, Problem<double>>;

const char* dtype_word(std::size_t index) { return index == 0 ? "float32" : "float64"; }

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

AnyProblem make_problem(const py::array& x, const py::array& w, const std::optional<py::array>& bias,
                        const ConvArgs& c) {
  AnyTensor tx = to_tensor(x, "x", 4), tw = to_tensor(w, "w", 4);
  std::optional<AnyTensor> tb;
  if (bias) tb = to_tensor(*bias, "bias", 1);
  if (tx.index() != tw.index() || (tb && tb->index() != tx.index()))
    throw py::type_error(std::string("x is ") + dtype_word(tx.index()) + ", w is " + dtype_word(tw.index()) +
                         (tb ? std::string(", bias is ") + dtype_word(tb->index()) : std::string()) +
                         "; x, w and bias must share one dtype");
  return std::visit(
      [&](auto& xt) -> AnyProblem {
        using T = typename std::decay_t<decltype(xt.data)>::value_type;
        auto& wt = std::get<Tensor<T>>(tw);
        const auto &xs = xt.shape, &ws = wt.shape;
        require(ws[1] * c.groups == xs[1],
                "w: shape " + shape_text(ws) + " has " + std::to_string(ws[1]) + " input channels per group, so with groups=" +
                    std::to_string(c.groups) + " x needs " + std::to_string(ws[1] * c.groups) +
                    " channels, but x has shape " + shape_text(xs));
        require(ws[0] % c.groups == 0, "w: shape " + shape_text(ws) + " has " + std::to_string(ws[0]) +
                                           " output channels, not divisible by groups=" + std::to_string(c.groups));
        Problem<T> p{from_pytorch(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], c.stride.first, c.stride.second,
                                  c.padding.first, c.padding.second, c.dilation.first, c.dilation.second, c.groups),
                     std::move(xt), std::move(wt), {}};
        if (tb) p.bias = std::move(std::get<Tensor<T>>(*tb));
        check_problem(p.view());
        return p;
      },
      tx);
}

// "f32" | "f64" | None (= the inputs' dtype) → the compute dtype.
template <class TI>
Dtype want_dtype(const std::optional<std::string>& dtype) {
  if (!dtype) return dtype_of<TI>();
  require(*dtype == "f32" || *dtype == "f64", "dtype must be 'f32' or 'f64', got '" + *dtype + "'");
  require(*dtype == "f64" || std::is_same_v<TI, float>,
          "dtype='f32' needs float32 inputs; x and w are float64 (round them yourself if you mean it)");
  return *dtype == "f64" ? Dtype::f64 : Dtype::f32;
}

// The "inputs" block of a document made from Python: the arrays described
// (shape, dtype, sha256), named as in the call.
template <class T>
json arrays_json(const Problem<T>& p) {
  json a = {{"x", tensor_json(p.x)}, {"w", tensor_json(p.w)}};
  if (p.bias) a["bias"] = tensor_json(*p.bias);
  return a;
}

// The fields of a truth asked for from Python, y always: absdot and cond need the
// Σ|w·x| pass, the others come with y.
struct TruthFields {
  bool y32, lo, hi, absdot, cond;
};

TruthFields truth_fields(const std::vector<std::string>& names) {
  TruthFields f{};
  for (const std::string& n : names) {
    require(n == "y" || n == "y32" || n == "lo" || n == "hi" || n == "absdot" || n == "cond",
            "fields: unknown field '" + n + "' (y, y32, lo, hi, absdot, cond)");
    f.y32 |= n == "y32";
    f.lo |= n == "lo";
    f.hi |= n == "hi";
    f.absdot |= n == "absdot";
    f.cond |= n == "cond";
  }
  return f;
}

// The asked-for fields of t into d (cond = absdot/|y|, computed here).
void put_truth(py::dict& d, Truth&& t, const TruthFields& f) {
  if (f.cond) {
    Tensor<double> cond(t.y.shape);
    for (std::size_t i = 0; i < cond.data.size(); ++i) cond.data[i] = cond_of(t.absdot.data[i], t.y.data[i]);
    d["cond"] = to_array(std::move(cond));
  }
  d["y"] = to_array(std::move(t.y));
  if (f.y32) d["y32"] = to_array(std::move(t.y32));
  if (f.lo) d["lo"] = to_array(std::move(t.lo));
  if (f.hi) d["hi"] = to_array(std::move(t.hi));
  if (f.absdot) d["absdot"] = to_array(std::move(t.absdot));
  d["exact_zeros"] = t.exact_zeros;
  d["undetermined"] = t.undetermined;
  d["kernel"] = t.kernel;
}

py::dict truth_py(const py::array& x, const py::array& w, const std::optional<py::array>& bias, const ConvArgs& c,
                  const std::string& method, int precision, int threads, const std::vector<std::string>& fields) {
  TruthOptions opt;
  opt.method = parse_truth_method(method);
  const TruthFields f = truth_fields(fields);
  const AnyProblem ap = make_problem(x, w, bias, c);
  opt.precision = precision;
  opt.threads = threads;
  opt.absdot = f.absdot || f.cond;
  Truth t;
  std::visit(
      [&](const auto& p) {
        py::gil_scoped_release unlocked;
        t = compute_truth(p.view(), opt);
      },
      ap);
  py::dict d;
  d["spec"] = std::visit([](const auto& p) { return to_benchdnn(p.spec); }, ap);
  put_truth(d, std::move(t), f);
  return d;
}

template <class TC>
py::dict order_dict(OrderOutput<TC>&& out, const OrderSpec& os) {
  py::dict d;
  d["order"] = order_str(os);
  d["dtype"] = std::is_same_v<TC, float> ? "f32" : "f64";
  d["y"] = to_array(std::move(out.y));
  d["bound"] = out.bound.data.empty() ? py::object(py::none()) : py::object(to_array(std::move(out.bound)));
  d["bound_kind"] = bound_kind_name(out.bound_kind);
  d["running_bound"] = out.running_bound.data.empty() ? py::object(py::none())
                                                      : py::object(to_array(std::move(out.running_bound)));
  d["provenance"] = out.provenance;
  return d;
}

py::dict run_py(const py::array& x, const py::array& w, const std::optional<py::array>& bias, const ConvArgs& c,
                const std::string& order, const std::optional<std::string>& dtype, int threads, bool want_bound) {
  const OrderSpec os = parse_order(order);
  const AnyProblem ap = make_problem(x, w, bias, c);
  RunOptions ro;
  ro.threads = resolve_threads(threads);
  ro.want_bound = want_bound;
  return std::visit(
      [&](const auto& p) -> py::dict {
        using TI = typename std::decay_t<decltype(p.x.data)>::value_type;
        if (want_dtype<TI>(dtype) == Dtype::f32) {
          if constexpr (std::is_same_v<TI, float>) {
            OrderOutput<float> out;
            {
              py::gil_scoped_release unlocked;
              out = run_order(os, p.view(), ro);
            }
            return order_dict(std::move(out), os);
          }
        }
        OrderOutput<double> out;
        {
          py::gil_scoped_release unlocked;
          if constexpr (std::is_same_v<TI, double>) {
            out = run_order(os, p.view(), ro);
          } else {
            const Tensor<double> xd = tensor_cast<double>(p.x), wd = tensor_cast<double>(p.w);
            Tensor<double> bd;
            if (p.bias) bd = tensor_cast<double>(*p.bias);
            out = run_order(os, ConvProblem<double>{p.spec, xd, wd, p.bias ? &bd : nullptr}, ro);
          }
        }
        return order_dict(std::move(out), os);
      },
      ap);
}

std::string analyze_py(const py::array& x, const py::array& w, const std::optional<py::array>& bias,
                       const ConvArgs& c, const std::vector<std::string>& orders,
                       const std::vector<std::tuple<std::string, py::array, std::string>>& observed,
                       const std::optional<std::string>& dtype, double rtol, double atol, double lambda, int threads,
                       bool allow_violations) {
  const AnyProblem ap = make_problem(x, w, bias, c);
  AnalyzeRequest req;
  for (const std::string& o : orders) {
    if (o != "all") {
      req.orders.push_back(o);
      continue;
    }
    for (const std::string& name : all_order_names()) req.orders.push_back(name);
    req.skip_unsupported = true;
  }
  for (const auto& [name, y, format] : observed)
    req.observed.push_back({name, "<array>", to_tensor(y, "observed['" + name + "']", 4),
                            format.empty() ? std::nullopt
                                           : std::optional(parse_output_format(format, "observed['" + name + "']")),
                            "file", std::nullopt, std::nullopt});
  require(!req.orders.empty() || !req.observed.empty(), "analyze: give orders or observed outputs, nothing to analyze");
  require(lambda > 0, "lambda_ must be positive");
  req.rtol = rtol;
  req.atol = atol;
  req.lambda = lambda;
  req.threads = threads;
  req.allow_violations = allow_violations;
  return std::visit(
      [&](const auto& p) {
        using TI = typename std::decay_t<decltype(p.x.data)>::value_type;
        req.dtype = want_dtype<TI>(dtype);
        py::gil_scoped_release unlocked;
        const AnalyzeResult r = analyze(p.view(), req);
        json arrays = arrays_json(p);
        for (const Observed& o : req.observed)
          arrays["observed"][o.name] = std::visit([](const auto& y) { return tensor_json(y); }, o.y);
        const json inputs = {{"source", "python"}, {"dtype", dtype_name(req.dtype)}, {"arrays", std::move(arrays)}};
        return analyze_document(p.spec, req, r, inputs).dump();
      },
      ap);
}

// Any direction and rank: the problem as a benchdnn descriptor (built by
// __init__.py from PyTorch's arguments), the operands the direction reads.
struct DirArgs {
  std::string desc, direction;
  std::optional<py::array> x, w, bias, dy;
};

template <class T>
struct DirProblem {
  ConvDesc desc;
  Direction dir;
  std::optional<Tensor<T>> x, w, bias, dy;
  Operands<T> operands() const {
    return {x ? &*x : nullptr, w ? &*w : nullptr, bias ? &*bias : nullptr, dy ? &*dy : nullptr};
  }
};
using AnyDirProblem = std::variant<DirProblem<float>, DirProblem<double>>;

AnyDirProblem make_dir_problem(const DirArgs& a) {
  const ConvDesc d = parse_conv_desc(a.desc);
  const auto dir = parse_direction(a.direction);
  require(dir.has_value(), "direction: unknown '" + a.direction + "'");
  std::vector<std::pair<std::string, AnyTensor>> ts;
  for (const auto& [name, arr] : {std::pair{"x", &a.x}, {"w", &a.w}, {"bias", &a.bias}, {"dy", &a.dy}})
    if (*arr) ts.emplace_back(name, to_tensor(**arr, name, static_cast<int>(operand_shape(d, name).size())));
  require(!ts.empty(), "no operands");
  for (const auto& [name, t] : ts)
    if (t.index() != ts.front().second.index())
      throw py::type_error(name + " is " + dtype_word(t.index()) + ", " + ts.front().first + " is " +
                           dtype_word(ts.front().second.index()) + "; the operands must share one dtype");
  const auto build = [&](auto tag) -> AnyDirProblem {
    using T = decltype(tag);
    DirProblem<T> p{d, *dir, {}, {}, {}, {}};
    for (auto& [name, t] : ts) {
      auto& slot = name == "x" ? p.x : name == "w" ? p.w : name == "bias" ? p.bias : p.dy;
      slot = std::move(std::get<Tensor<T>>(t));
    }
    check_operands(p.desc, p.dir, p.operands());
    return p;
  };
  return ts.front().second.index() == 0 ? build(float{}) : build(double{});
}

// f(p) with p the problem in its own type, the GIL released meanwhile.
template <class F>
auto visit_unlocked(const AnyDirProblem& ap, F&& f) {
  return std::visit(
      [&](const auto& p) {
        py::gil_scoped_release unlocked;
        return f(p);
      },
      ap);
}

py::list truth_dir_py(const DirArgs& a, const std::string& method, int precision, int threads,
                      const std::vector<std::string>& fields) {
  TruthOptions opt;
  opt.method = parse_truth_method(method);
  const TruthFields f = truth_fields(fields);
  opt.precision = precision;
  opt.threads = threads;
  opt.absdot = f.absdot || f.cond;
  const AnyDirProblem ap = make_dir_problem(a);
  std::vector<ResultTruth> rs =
      visit_unlocked(ap, [&](const auto& p) { return compute_result_truth(p.desc, p.dir, p.operands(), opt); });
  py::list out;
  for (ResultTruth& r : rs) {
    py::dict d;
    d["spec"] = a.desc;
    d["direction"] = direction_name(std::visit([](const auto& p) { return p.dir; }, ap));
    d["result"] = r.result;
    d["n_terms"] = r.n_terms;
    put_truth(d, std::move(r.truth), f);
    out.append(std::move(d));
  }
  return out;
}

std::string analyze_dir_py(const DirArgs& a, const std::vector<std::string>& orders,
                           const std::vector<std::tuple<std::string, py::array>>& observed,
                           const std::optional<std::string>& dtype, double rtol, double atol, double lambda,
                           int threads, bool allow_violations) {
  const AnyDirProblem ap = make_dir_problem(a);
  AnalyzeRequest req;
  for (const std::string& o : orders) {
    if (o != "all") {
      req.orders.push_back(o);
      continue;
    }
    const ConvDesc d = parse_conv_desc(a.desc);
    for (const std::string& name : order_names_for(*parse_direction(a.direction), d.rank)) req.orders.push_back(name);
    req.skip_unsupported = true;
  }
  require(lambda > 0, "lambda_ must be positive");
  req.rtol = rtol;
  req.atol = atol;
  req.lambda = lambda;
  req.threads = threads;
  req.allow_violations = allow_violations;
  return std::visit(
      [&]<class TI>(const DirProblem<TI>& p) {
        require(p.dir != Direction::bwd_wb, "direction 'bwd_wb': analyze takes one result; use 'bwd_w' for dw");
        const auto rank = static_cast<int>(result_shape(p.desc, result_names(p.dir).front()).size());
        for (const auto& [name, y] : observed)
          req.observed.push_back({name, "<array>", to_tensor(y, "observed['" + name + "']", rank),
                                  std::nullopt, "file", std::nullopt, std::nullopt});
        require(!req.orders.empty() || !req.observed.empty(), "analyze: give orders or observed outputs, nothing to analyze");
        req.dtype = want_dtype<TI>(dtype);
        py::gil_scoped_release unlocked;
        const AnalyzeResult r = analyze(p.desc, p.dir, p.operands(), req);
        json arrays = json::object();
        for (const auto& [name, t] : {std::pair{"x", &p.x}, {"w", &p.w}, {"dy", &p.dy}})
          if (*t) arrays[name] = tensor_json(**t);
        for (const Observed& o : req.observed)
          arrays["observed"][o.name] = std::visit([](const auto& y) { return tensor_json(y); }, o.y);
        const json inputs = {{"source", "python"}, {"dtype", dtype_name(req.dtype)}, {"arrays", std::move(arrays)}};
        return analyze_document(p.desc, p.dir, req, r, inputs).dump();
      },
      ap);
}

// As `certconv explain` writes it (apps/certconv/cmd_explain.cpp), inputs from Python.
template <class TI, class TA, class TB>
json explain_doc(const Problem<TI>& p, const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req, bool f64,
                 int threads) {
  TruthOptions topt;
  topt.threads = threads;
  // With f64, the same question in float64: both names must be orders or backends.
  std::optional<std::pair<std::string, std::string>> f64_orders;
  if (f64) f64_orders = std::pair{req.name_a, req.name_b};
  const ExplainOutcome o = explain_problem(p.view(), a, b, req, f64_orders, topt);
  json arrays = arrays_json(p);
  arrays["A"] = tensor_json(a);
  arrays["B"] = tensor_json(b);
  return explain_document(p.spec, o, threads, {{"source", "python"}, {"arrays", std::move(arrays)}});
}

ExplainRequest explain_request(const std::string& name_a, const std::string& name_b, const std::string& format_a,
                               const std::string& format_b, double rtol, double atol) {
  ExplainRequest req;
  req.name_a = name_a;
  req.name_b = name_b;
  req.rtol = rtol;
  req.atol = atol;
  req.formats = {parse_output_format(format_a, "formats[0]"), parse_output_format(format_b, "formats[1]")};
  return req;
}

std::string explain_py(const py::array& a, const py::array& b, const py::array& x, const py::array& w,
                       const std::optional<py::array>& bias, const ConvArgs& c, const std::string& name_a,
                       const std::string& name_b, const std::string& format_a, const std::string& format_b,
                       double rtol, double atol, bool f64, int threads) {
  AnyTensor ta = to_tensor(a, "a", 4), tb = to_tensor(b, "b", 4);
  const AnyProblem ap = make_problem(x, w, bias, c);
  const ExplainRequest req = explain_request(name_a, name_b, format_a, format_b, rtol, atol);
  if (f64) {  // float64 recomputes A and B: their names must be orders
    parse_order(name_a);
    parse_order(name_b);
  }
  return std::visit(
      [&](const auto& p, const auto& ya, const auto& yb) {
        const auto check = [&](const auto& y, const char* what) {
          require(y.shape == p.spec.y_shape(), std::string(what) + ": shape " + shape_text(y.shape) +
                                                   " is not the output shape " + shape_text(p.spec.y_shape()) +
                                                   " of " + to_benchdnn(p.spec));
          for (std::size_t i = 0; i < y.data.size(); ++i)
            require(std::isfinite(y.data[i]), std::string(what) + ": non-finite value at flat index " + std::to_string(i));
        };
        check(ya, "a");
        check(yb, "b");
        py::gil_scoped_release unlocked;
        return explain_doc(p, ya, yb, req, f64, threads).dump();
      },
      ap, ta, tb);
}

// explain for any direction and rank: a and b are the direction's result (BWD_WB:
// dw or db, by a's shape), explained on its lowered problem.
std::string explain_dir_py(const py::array& a, const py::array& b, const DirArgs& args, const std::string& name_a,
                           const std::string& name_b, const std::string& format_a, const std::string& format_b,
                           double rtol, double atol, bool f64, int threads) {
  const AnyTensor ta = to_tensor(a, "a", static_cast<int>(a.ndim())), tb = to_tensor(b, "b", static_cast<int>(b.ndim()));
  const AnyDirProblem ap = make_dir_problem(args);
  const ExplainRequest req = explain_request(name_a, name_b, format_a, format_b, rtol, atol);
  std::optional<std::pair<std::string, std::string>> f64_orders;
  if (f64) f64_orders = std::pair{name_a, name_b};
  return std::visit(
      [&]<class TI>(const DirProblem<TI>& p, const auto& ya, const auto& yb) {
        const auto finite = [](const auto& y, const char* what) {
          for (std::size_t i = 0; i < y.data.size(); ++i)
            require(std::isfinite(y.data[i]), std::string(what) + ": non-finite value at flat index " + std::to_string(i));
        };
        finite(ya, "a");
        finite(yb, "b");
        py::gil_scoped_release unlocked;
        const std::vector<Lowered<TI>> ls = lower(p.desc, p.dir, p.operands());
        const Lowered<TI>& l = result_with_shape(ls, p.desc, p.dir, ya.shape, "a");
        TruthOptions topt;
        topt.threads = threads;
        const ExplainOutcome o = explain_problem(l, p.dir, p.desc.rank, ya, yb, req, f64_orders, topt);
        json arrays = json::object();
        for (const auto& [name, t] : {std::pair{"x", &p.x}, {"w", &p.w}, {"dy", &p.dy}})
          if (*t) arrays[name] = tensor_json(**t);
        arrays["A"] = tensor_json(ya);
        arrays["B"] = tensor_json(yb);
        return explain_document(p.desc, p.dir, l.result, l.problem.spec, o, threads,
                                {{"source", "python"}, {"arrays", std::move(arrays)}})
            .dump();
      },
      ap, ta, tb);
}

// As `certconv identify` writes it (apps/certconv/cmd_identify.cpp): y in its own
// dtype; float32 inputs may give a float64 y (widened exactly), not the reverse.
std::string identify_py(const py::array& y, const py::array& x, const py::array& w,
                        const std::optional<py::array>& bias, const ConvArgs& c, int threads) {
  AnyTensor ty = to_tensor(y, "y", 4);
  const AnyProblem ap = make_problem(x, w, bias, c);
  require(ty.index() == 1 || ap.index() == 0,
          "y is float32 but x is float64: float64 inputs cannot give a float32 output exactly");
  return std::visit(
      [&](const auto& p) {
        const auto go = [&](auto tag) {
          using T = decltype(tag);
          const Tensor<T>& yt = std::get<Tensor<T>>(ty);
          require(yt.shape == p.spec.y_shape(), "y: shape " + shape_text(yt.shape) + " is not the output shape " +
                                                    shape_text(p.spec.y_shape()) + " of " + to_benchdnn(p.spec));
          py::gil_scoped_release unlocked;
          const IdentifyResult r = identify(p.view(), yt, threads);
          json arrays = arrays_json(p);
          arrays["y"] = tensor_json(yt);
          return identify_document(p.spec, r, dtype_of<T>(), threads, {{"source", "python"}, {"arrays", std::move(arrays)}})
              .dump();
        };
        using TI = typename std::decay_t<decltype(p.x.data)>::value_type;
        if constexpr (std::is_same_v<TI, double>) return go(double{});  // y float32 was refused above
        else return ty.index() == 0 ? go(float{}) : go(double{});
      },
      ap);
}

std::string identify_dir_py(const py::array& y, const DirArgs& a, int threads) {
  const AnyDirProblem ap = make_dir_problem(a);
  return std::visit(
      [&]<class TI>(const DirProblem<TI>& p) {
        const Lowered<TI> l = std::move(lower(p.desc, p.dir, p.operands()).front());
        AnyTensor ty = to_tensor(y, "y", static_cast<int>(l.shape.size()));
        require(ty.index() == 1 || std::is_same_v<TI, float>,
                "y is float32 but the operands are float64: they cannot give a float32 result exactly");
        const auto go = [&](auto tag) {
          using T = decltype(tag);
          const Tensor<T>& yt = std::get<Tensor<T>>(ty);
          py::gil_scoped_release unlocked;
          const IdentifyResult r = identify(p.desc, p.dir, p.operands(), yt, threads);
          json arrays = json::object();
          for (const auto& [name, t] : {std::pair{"x", &p.x}, {"w", &p.w}, {"dy", &p.dy}})
            if (*t) arrays[name] = tensor_json(**t);
          arrays["y"] = tensor_json(yt);
          return identify_document(p.desc, p.dir, l.result, l.problem.spec, r, dtype_of<T>(), threads,
                                   {{"source", "python"}, {"arrays", std::move(arrays)}})
              .dump();
        };
        if constexpr (std::is_same_v<TI, double>) return go(double{});
        else return ty.index() == 0 ? go(float{}) : go(double{});
      },
      ap);
}

py::dict record_dict(const OutputRecord& r) {
  py::dict d;
  d["index"] = py::tuple(py::cast(r.coords));
  d["observed"] = r.observed;
  d["truth"] = r.truth;
  d["abs_err"] = r.abs_err;
  d["bound"] = r.bound;
  d["cond"] = r.cond;
  d["norm_err"] = r.norm_err;
  return d;
}

py::dict check_dict(const CheckResult& r) {
  py::dict d;
  d["passed"] = r.passed;
  d["beyond"] = r.beyond;
  d["outputs"] = r.outputs;
  d["bound_kind"] = bound_kind_name(r.bound_kind);
  d["message"] = r.message;
  py::list list;
  for (const OutputRecord& o : r.worst) list.append(record_dict(o));
  d["worst"] = list;
  return d;
}

py::dict check_py(const py::array& observed, const py::array& x, const py::array& w,
                  const std::optional<py::array>& bias, const ConvArgs& c, const std::string& tolerance, int threads,
                  std::size_t worst) {
  Tolerance tol = parse_tolerance(tolerance);
  tol.threads = threads;
  tol.worst = worst;
  AnyTensor ty = to_tensor(observed, "actual", 4);
  const AnyProblem ap = make_problem(x, w, bias, c);
  CheckResult r;
  std::visit(
      [&](const auto& y, const auto& p) {
        py::gil_scoped_release unlocked;
        r = check_conv(y, p.view(), tol);
      },
      ty, ap);
  return check_dict(r);
}

// check_conv for any direction and rank: observed is the direction's result in its
// own shape (BWD_WB: dw or db, told apart by the shape).
py::dict check_dir_py(const py::array& observed, const DirArgs& a, const std::string& tolerance, int threads,
                      std::size_t worst) {
  Tolerance tol = parse_tolerance(tolerance);
  tol.threads = threads;
  tol.worst = worst;
  const AnyDirProblem ap = make_dir_problem(a);
  AnyTensor ty = to_tensor(observed, "actual", static_cast<int>(observed.ndim()));
  CheckResult r;
  std::visit(
      [&](const auto& y, const auto& p) {
        py::gil_scoped_release unlocked;
        r = check_conv(y, p.desc, p.dir, p.operands(), tol);
      },
      ty, ap);
  return check_dict(r);
}

py::dict tolerance_dict(CertifiedTolerance t) {
  py::dict d;
  d["per_element"] = to_array(std::move(t.per_element));
  d["atol"] = t.atol;
  d["rtol"] = t.rtol;
  d["bound_kind"] = bound_kind_name(t.bound_kind);
  return d;
}

Tolerance tolerance_for(const std::string& tolerance, const std::optional<std::string>& dtype, int threads) {
  Tolerance tol = parse_tolerance(tolerance);
  tol.threads = threads;
  if (dtype) {
    require(*dtype == "f32" || *dtype == "f64", "dtype must be 'f32' or 'f64', got '" + *dtype + "'");
    tol.dtype = *dtype == "f32" ? Dtype::f32 : Dtype::f64;
  }
  return tol;
}

// One dict per result of the direction, each with its "result" name.
py::list certified_tolerance_dir_py(const DirArgs& a, const std::string& tolerance,
                                    const std::optional<std::string>& dtype, int threads) {
  const Tolerance tol = tolerance_for(tolerance, dtype, threads);
  const AnyDirProblem ap = make_dir_problem(a);
  std::vector<CertifiedTolerance> ts =
      visit_unlocked(ap, [&](const auto& p) { return certified_tolerance(p.desc, p.dir, p.operands(), tol); });
  py::list out;
  for (CertifiedTolerance& t : ts) {
    const std::string result = t.result;
    py::dict d = tolerance_dict(std::move(t));
    d["result"] = result;
    out.append(std::move(d));
  }
  return out;
}

py::dict certified_tolerance_py(const py::array& x, const py::array& w, const std::optional<py::array>& bias,
                                const ConvArgs& c, const std::string& tolerance,
                                const std::optional<std::string>& dtype, int threads) {
  const Tolerance tol = tolerance_for(tolerance, dtype, threads);
  const AnyProblem ap = make_problem(x, w, bias, c);
  CertifiedTolerance t;
  std::visit(
      [&](const auto& p) {
        py::gil_scoped_release unlocked;
        t = certified_tolerance(p.view(), tol);
      },
      ap);
  return tolerance_dict(std::move(t));
}

// certconv.reveal: the Python function fn(x, w, bias) as the black box (the GIL is
// held throughout: fn runs on this thread). Returns the certconv.reveal/1 document as
// JSON text; with tree_out, the trees are written there and `order` reads them.
template <class T>
std::string reveal_typed(const py::function& fn, const ConvSpec& spec, bool has_bias, const std::string& tree_out,
                         int threads, std::uint64_t seed) {
  const BlackBox<T> box = [&fn](const ConvProblem<T>& p) {
    const py::object b = p.bias ? py::object(to_array(Tensor<T>(*p.bias))) : py::object(py::none());
    const py::object y = fn(to_array(Tensor<T>(p.x)), to_array(Tensor<T>(p.w)), b);
    const AnyTensor t = to_tensor(py::array::ensure(y), "the function's output", 4);
    require(std::holds_alternative<Tensor<T>>(t), std::string("the function returned ") +
                                                      (t.index() == 0 ? "float32" : "float64") + ", not " +
                                                      dtype_name(dtype_of<T>()));
    return std::get<Tensor<T>>(t);
  };
  RevealOptions opt;
  opt.threads = threads;
  opt.seed = seed;
  const RevealResult r = reveal_conv<T>(spec, has_bias, box, opt);
  std::string order;
  if (r.status == RevealStatus::tree && !tree_out.empty()) {
    write_tree_file(tree_out, r.trees);
    order = order_str(parse_order("tree:file=" + tree_out + tree_numerics_params(r.chosen)));
  }
  const json black_box{{"kind", "python"}, {"function", py::repr(fn).cast<std::string>()}};
  return reveal_document({spec, has_bias, dtype_of<T>(), threads, black_box, order, tree_out, opt}, r).dump();
}

std::string reveal_py(const py::function& fn, const std::vector<std::int64_t>& xs, const std::vector<std::int64_t>& ws,
                      bool has_bias, const ConvArgs& c, const std::string& dtype, const std::string& tree_out,
                      int threads, std::uint64_t seed) {
  require(xs.size() == 4 && ws.size() == 4, "x_shape and w_shape must have 4 entries (NCHW, OIHW)");
  require(dtype == "f32" || dtype == "f64", "dtype must be 'f32' or 'f64', got '" + dtype + "'");
  ConvSpec spec = from_pytorch(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], c.stride.first, c.stride.second,
                               c.padding.first, c.padding.second, c.dilation.first, c.dilation.second, c.groups);
  require(ws[1] * c.groups == xs[1], "w_shape " + shape_text(ws) + " does not fit x_shape " + shape_text(xs) +
                                         " with groups=" + std::to_string(c.groups));
  return dtype == "f32" ? reveal_typed<float>(fn, spec, has_bias, tree_out, threads, seed)
                        : reveal_typed<double>(fn, spec, has_bias, tree_out, threads, seed);
}

// Guarded<f>::call: f under FpEnvGuard, so that a host's environment (PyTorch after
// torch.set_flush_denormal(True), say) neither reaches certconv's arithmetic nor is
// lost on return. Every function of the module is bound through it.
template <auto F>
struct Guarded;
template <class R, class... A, R (*F)(A...)>
struct Guarded<F> {
  static R call(A... a) {
    const FpEnvGuard fp_env;
    return F(std::forward<A>(a)...);
  }
};

}  // namespace

}  // namespace certconv::py_binding

PYBIND11_MODULE(_certconv, m) {
  using namespace certconv::py_binding;
  namespace py = pybind11;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const certconv::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  py::class_<DirArgs>(m, "DirArgs")
      .def(py::init<std::string, std::string, std::optional<py::array>, std::optional<py::array>,
                    std::optional<py::array>, std::optional<py::array>>(),
           py::arg("desc"), py::arg("direction"), py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("dy"));
  py::class_<ConvArgs>(m, "ConvArgs")
      .def(py::init<Pair, Pair, Pair, std::int64_t>(), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
           py::arg("groups"));
  m.attr("__version__") = CERTCONV_VERSION;
  m.def("order_names", &Guarded<&certconv::all_order_names>::call, "every order and real backend built in");
  m.def("truth", &Guarded<&truth_py>::call);
  m.def("truth_dir", &Guarded<&truth_dir_py>::call);
  m.def("analyze_dir", &Guarded<&analyze_dir_py>::call);
  m.def("identify_dir", &Guarded<&identify_dir_py>::call);
  m.def("run", &Guarded<&run_py>::call);
  m.def("analyze", &Guarded<&analyze_py>::call);
  m.def("explain", &Guarded<&explain_py>::call);
  m.def("identify", &Guarded<&identify_py>::call);
  m.def("check_conv", &Guarded<&check_py>::call);
  m.def("certified_tolerance", &Guarded<&certified_tolerance_py>::call);
  m.def("check_dir", &Guarded<&check_dir_py>::call);
  m.def("explain_dir", &Guarded<&explain_dir_py>::call);
  m.def("certified_tolerance_dir", &Guarded<&certified_tolerance_dir_py>::call);
  m.def("reveal", &Guarded<&reveal_py>::call);
}
