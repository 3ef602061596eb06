// certconv identify: which emulated summation order reproduces a given output bit
// for bit; with --reveal-backend or --reveal-command, when none does, the order
// revealed from that black box (certconv reveal) replayed on the same inputs.
// Exit 0 when a candidate (or the revealed order) matches every element, 1 otherwise.
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>
#include <variant>

#include "certconv/analysis/identify.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/report/identify_doc.hpp"
#include "certconv/report/reveal_doc.hpp"
#include "certconv/core/text.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/report/json.hpp"
#include "black_box.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct IdentifyArgs {
  InputArgs in;
  std::string y, dtype, json_out;
  int threads = 0;
  int show = 10;
  // The black box to reveal when no candidate reproduces y (docs/reveal.md).
  std::string reveal_backend, reveal_command, reveal_tree_out;
  double reveal_timeout = 600;
};

// No catalog order reproduces y: reveal the black box that made it, then replay the
// revealed trees on the user's own inputs. Returns the reveal document with
// `reproduces_y` (the identical fraction) added, and sets `reproduced`.
template <class T>
json reveal_fallback(const OwnedProblem<T>& in, const Tensor<T>& y, const IdentifyArgs& a, bool& reproduced) {
  const ConvSpec& spec = in.spec;
  const bool has_bias = in.bias.has_value();
  AppBlackBox<T> box(BlackBoxSpec{a.reveal_backend, a.reveal_command, a.reveal_timeout, a.threads});
  RevealOptions opt;
  opt.threads = a.threads;
  const RevealResult r = reveal_conv<T>(spec, has_bias, box.fn, opt);
  box.close();
  std::string order;
  double frac = 0;
  if (r.status == RevealStatus::tree) {
    write_tree_file(a.reveal_tree_out, r.trees);
    order = order_str(parse_order("tree:file=" + a.reveal_tree_out + ",fma=" + tree_fma_name(r.chosen.fma) +
                                  ",first=" + (r.chosen.first_lo ? "lo" : "hi")));
    RunOptions ro;
    ro.threads = a.threads;
    ro.want_bound = false;
    const Tensor<T> mine = run_order(parse_order(order), in.view(), ro).y;
    std::int64_t same = 0;
    for (std::size_t i = 0; i < y.data.size(); ++i) same += std::memcmp(&y.data[i], &mine.data[i], sizeof(T)) == 0;
    frac = y.data.empty() ? 1 : static_cast<double>(same) / static_cast<double>(y.size());
    std::printf("revealed %s: %s, replays %s on %.6f of its outputs\n", box.describe.dump().c_str(), order.c_str(),
                a.y.c_str(), frac);
  } else {
    std::printf("revealed %s: %s (%s)\n", box.describe.dump().c_str(), reveal_status_name(r.status), r.reason.c_str());
  }
  reproduced = frac == 1.0;
  const RevealRequest q{spec, has_bias, dtype_of<T>(), a.threads, box.describe, order, a.reveal_tree_out, opt};
  json d = reveal_document(q, r);
  d["reproduces_y"] = {{"identical_fraction", frac}, {"outputs", y.size()}};
  return d;
}

const char* dtype_name_of(const AnyTensor& t) { return t.index() == 0 ? "f32" : "f64"; }

void print_result(const IdentifyResult& r, const IdentifyArgs& a, std::int64_t outputs) {
  std::printf("%lld outputs, %zu candidates (%zu skipped: they reject the problem)\n\n",
              static_cast<long long>(outputs), r.candidates.size() + r.skipped.size(), r.skipped.size());
  std::printf("%-10s %-10s %-9s %-9s %s\n", "identical", "mismatch", "norm_err", "distance", "order");
  for (std::size_t i = 0; i < r.candidates.size() && i < static_cast<std::size_t>(a.show); ++i) {
    const IdentifyCandidate& c = r.candidates[i];
    std::printf("%-10.6f %-10lld %-9.3g %-9.3g %s\n", c.identical_fraction, static_cast<long long>(c.mismatches),
                c.max_norm_err_of_mismatches, c.max_norm_dist_of_mismatches, order_str(c.order).c_str());
  }
  std::printf("(over the mismatches: max norm_err of %s against the truth, and max |%s - candidate| in "
              "u*absdot)\n",
              a.y.c_str(), a.y.c_str());
  std::printf("\n");
  if (!r.candidates.empty() && r.candidates.front().mismatches == 0) {
    std::size_t shown = 0, matches = 0;
    for (const IdentifyCandidate& c : r.candidates) {
      if (c.mismatches != 0) break;
      ++matches;
      if (shown < static_cast<std::size_t>(a.show)) {
        std::printf("identified: %s\n", order_str(c.order).c_str());
        ++shown;
      }
    }
    if (matches > shown) std::printf("(%zu more reproduce it: --show N lists them)\n", matches - shown);
  } else if (!r.candidates.empty()) {
    const IdentifyCandidate& c = r.candidates.front();
    std::printf("no candidate reproduces %s; closest: %s (%.6f identical; where they differ, %s is within %.3g "
                "u*absdot of the truth and %.3g u*absdot of the candidate)\n",
                a.y.c_str(), order_str(c.order).c_str(), c.identical_fraction, a.y.c_str(), c.max_norm_err_of_mismatches,
                c.max_norm_dist_of_mismatches);
  } else {
    std::printf("no candidate accepts this problem\n");
  }
}

template <class TI, class T>
int run_identify(const OwnedProblem<TI>& in, const Tensor<T>& y, const IdentifyArgs& a) {
  const IdentifyResult r = identify(in.view(), y, a.threads);
  print_result(r, a, y.size());
  bool matched = !r.candidates.empty() && r.candidates.front().mismatches == 0;
  json revealed = nullptr;
  if (!matched && (!a.reveal_backend.empty() || !a.reveal_command.empty())) {
    // The black box computes in y's dtype; float inputs for a double y are widened (exactly).
    if constexpr (std::is_same_v<T, TI>)
      revealed = reveal_fallback(in, y, a, matched);
    else
      revealed = reveal_fallback(problem_cast<T>(in.view()), y, a, matched);
  }
  if (!a.json_out.empty()) {
    json files = a.in.files_json();
    files["y"] = file_json(a.y);
    const json doc = identify_document(in.spec, r, dtype_of<T>(), a.threads,
                                       {{"source", "files"}, {"files", std::move(files)}}, std::move(revealed));
    write_json(a.json_out, doc);
    std::printf("wrote %s\n", a.json_out.c_str());
  }
  return matched ? 0 : 1;
}

// Any direction and rank: the candidates that apply (orders/order.hpp applies_to),
// on the lowered problem; no reveal fallback (reveal probes forward 2-D kernels).
template <class TI, class T>
int run_general_identify(const GeneralInputs<TI>& in, const Tensor<T>& y, const IdentifyArgs& a) {
  require(a.reveal_backend.empty() && a.reveal_command.empty(),
          "--reveal-backend/--reveal-command: reveal probes forward 2-D convolutions; not with --dir " +
              std::string(direction_name(in.dir)));
  const IdentifyResult r = identify(in.desc, in.dir, in.operands(), y, a.threads);
  print_result(r, a, y.size());
  if (!a.json_out.empty()) {
    json files = a.in.files_json();
    files["y"] = file_json(a.y);
    const Lowered<TI> l = std::move(lower(in.desc, in.dir, in.operands()).front());
    const json doc = identify_document(in.desc, in.dir, l.result, l.problem.spec, r, dtype_of<T>(), a.threads,
                                       {{"source", "files"}, {"files", std::move(files)}});
    write_json(a.json_out, doc);
    std::printf("wrote %s\n", a.json_out.c_str());
  }
  return !r.candidates.empty() && r.candidates.front().mismatches == 0 ? 0 : 1;
}

}  // namespace

Runner add_identify(CLI::App& app) {
  auto a = std::make_shared<IdentifyArgs>();
  auto* cmd = app.add_subcommand("identify", "which emulated summation order reproduces an output bit for bit");
  a->in.add_to(*cmd, true, true);
  cmd->add_option("y", a->y,
                  "the output to identify (y, or with --dir dx or dw), .npy (e.g. numpy.save of a PyTorch result)")
      ->required();
  add_dtype_option(*cmd, a->dtype, "the precision y was computed in (default: y's dtype)");
  add_json_option(*cmd, a->json_out, "write the result as JSON (schema certconv.identify/1)");
  add_threads_option(*cmd, a->threads);
  cmd->add_option("--show", a->show, "candidates to print (all are in the JSON)")->check(CLI::Range(1, 1 << 20));
  auto* rb = cmd->add_option("--reveal-backend", a->reveal_backend,
                             "when no order matches: reveal this order or backend (certconv reveal --backend)");
  auto* rc = cmd->add_option("--reveal-command", a->reveal_command,
                             "when no order matches: reveal this command (certconv reveal --command)");
  rb->excludes(rc);
  rc->excludes(rb);
  cmd->add_option("--reveal-tree-out", a->reveal_tree_out, "the revealed tree file (default: Y with .tree.json)");
  cmd->add_option("--reveal-timeout", a->reveal_timeout, "seconds one --reveal-command call may take")
      ->check(CLI::PositiveNumber);
  return [a] {
    if (a->reveal_tree_out.empty())
      a->reveal_tree_out = (a->y.ends_with(".npy") ? a->y.substr(0, a->y.size() - 4) : a->y) + ".tree.json";
    AnyTensor y = read_npy(a->y);
    const Dtype dtype = a->dtype.empty() ? (y.index() == 1 ? Dtype::f64 : Dtype::f32) : parse_dtype(a->dtype);
    require((y.index() == 1) == (dtype == Dtype::f64),
            a->y + ": dtype " + dtype_name_of(y) + " differs from --dtype " + a->dtype);
    if (a->in.general()) {
      const AnyGeneral g = load_general(a->in);
      if (const auto* g32 = std::get_if<GeneralInputs<float>>(&g)) {
        if (dtype == Dtype::f64) return run_general_identify(*g32, std::get<Tensor<double>>(y), *a);
        return run_general_identify(*g32, std::get<Tensor<float>>(y), *a);
      }
      require(dtype == Dtype::f64, a->y + ": float64 operands cannot give a float32 result exactly; use --dtype f64");
      return run_general_identify(std::get<GeneralInputs<double>>(g), std::get<Tensor<double>>(y), *a);
    }
    const AnyInputs in = load_inputs(a->in);
    require(dtype == Dtype::f64 || in.index() == 0,
            a->in.x + ": float64 inputs cannot give a float32 output exactly; use --dtype f64 or float32 inputs");
    const ConvSpec& spec = std::visit([](const auto& i) -> const ConvSpec& { return i.spec; }, in);
    std::visit([&](const auto& t) {
      require(t.shape == spec.y_shape(), a->y + ": shape does not match the problem " + to_benchdnn(spec) +
                                             ", which needs [" + extents_text(spec.y_shape()) + "]");
    }, y);
    if (const auto* i32 = std::get_if<OwnedProblem<float>>(&in)) {
      if (dtype == Dtype::f64) return run_identify(*i32, std::get<Tensor<double>>(y), *a);
      return run_identify(*i32, std::get<Tensor<float>>(y), *a);
    }
    return run_identify(std::get<OwnedProblem<double>>(in), std::get<Tensor<double>>(y), *a);
  };
}

}  // namespace certconv::app
