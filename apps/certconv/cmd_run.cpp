// certconv run: one emulated summation order on given inputs; writes the observed
// output in --dtype and, with --bound, the rigorous per-element bound as <f8.
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct RunArgs {
  InputArgs in;
  std::string order, dtype, out, bound, running;
  int threads = 0;
};

template <class T>
int run_one(const OwnedProblem<T>& in, const OrderSpec& order, const RunArgs& a) {
  RunOptions opt;
  opt.threads = a.threads;
  opt.want_bound = !a.bound.empty() || !a.running.empty();
  opt.want_running = !a.running.empty();
  const OrderOutput<T> out = run_order(order, in.view(), opt);
  write_npy(a.out, out.y);
  nlohmann::json summary = {{"order", order_str(order)},
                            {"dtype", a.dtype},
                            {"outputs", out.y.size()},
                            {"bound_kind", bound_kind_name(out.bound_kind)},
                            {"out", a.out}};
  if (!a.bound.empty()) {
    // No proven bound: +inf everywhere (true, and never mistaken for a small one).
    Tensor<double> b =
        out.bound.data.empty() ? Tensor<double>(out.y.shape, std::numeric_limits<double>::infinity()) : out.bound;
    write_npy(a.bound, b);
    summary["bound"] = a.bound;
  }
  if (!a.running.empty()) {
    require(!out.running_bound.data.empty(), "--running: order '" + order.name + "' has no running error bound");
    write_npy(a.running, out.running_bound);
    summary["running_bound"] = a.running;
  }
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}

// Any direction and rank: the order runs on the lowered problem (core/lower.hpp)
// and its output and bound are written in the result's shape.
template <class T>
int run_general(const GeneralInputs<T>& in, const OrderSpec& order, const RunArgs& a) {
  require(in.dir != Direction::bwd_wb, "--dir BWD_WB: run computes one result; use BWD_W for dw");
  order_for_direction(order.name, in.dir, in.desc.rank, "--order " + order.name);
  const Lowered<T> l = std::move(lower(in.desc, in.dir, in.operands()).front());
  RunOptions opt;
  opt.threads = a.threads;
  opt.want_bound = !a.bound.empty();
  require(a.running.empty(), "--running: not with --dir (the running bound is per forward order)");
  const OrderOutput<T> out = run_order(order, l.problem.view(), opt);
  write_npy(a.out, to_result_layout(l, out.y));
  nlohmann::json summary = {{"order", order_str(order)}, {"dtype", a.dtype}, {"direction", direction_name(in.dir)},
                            {"result", l.result}, {"outputs", out.y.size()},
                            {"bound_kind", bound_kind_name(out.bound_kind)}, {"out", a.out}};
  if (!a.bound.empty()) {
    const Tensor<double> b = out.bound.data.empty()
                                 ? Tensor<double>(l.shape, std::numeric_limits<double>::infinity())
                                 : to_result_layout(l, out.bound);
    write_npy(a.bound, b);
    summary["bound"] = a.bound;
  }
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "run one emulated summation order; write its output and rigorous bound");
  a->in.add_to(*cmd, true, true);
  cmd->add_option("--order", a->order, "NAME[:key=value,...]; see `certconv orders`")->required();
  add_dtype_option(*cmd, a->dtype, "the working precision; x, w and bias must have it")->required();
  cmd->add_option("--out", a->out, "observed output, NCHW .npy in --dtype")->required();
  cmd->add_option("--bound", a->bound, "rigorous per-element bound on |out - exact|, <f8 NCHW");
  cmd->add_option("--running", a->running, "a posteriori running error bound (Higham 2002 §3.3), <f8 NCHW");
  add_threads_option(*cmd, a->threads);
  return [a] {
    const OrderSpec order = parse_order(a->order);  // bad order or key: exit 2 before reading files
    const Dtype dtype = parse_dtype(a->dtype);
    if (a->in.general()) {
      const AnyGeneral g = load_general(a->in);
      require((g.index() == 1) == (dtype == Dtype::f64), "--dtype " + a->dtype + " does not match the operands, which are " +
                                                             (g.index() == 1 ? "float64" : "float32"));
      return std::visit([&](const auto& i) { return run_general(i, order, *a); }, g);
    }
    const AnyInputs in = load_inputs(a->in);
    require((in.index() == 1) == (dtype == Dtype::f64),
            "--dtype " + a->dtype + " does not match the inputs: " + a->in.x + " is " +
                (in.index() == 1 ? "float64" : "float32"));
    return std::visit([&](const auto& i) { return run_one(i, order, *a); }, in);
  };
}

}  // namespace certconv::app
