// certconv identify: which emulated summation order reproduces a given output bit
// for bit. Exit 0 when a candidate matches every element, 1 when none does.
#include <cstdio>
#include <memory>
#include <type_traits>
#include <variant>

#include "certconv/analysis/identify.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/report/identify_doc.hpp"
#include "certconv/core/text.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/report/json.hpp"
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
};

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
  if (!a.json_out.empty()) {
    json files = a.in.files_json();
    files["y"] = file_json(a.y);
    const json doc = identify_document(in.spec, r, dtype_of<T>(), a.threads,
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
  a->in.add_to(*cmd);
  cmd->add_option("y", a->y, "the output to identify, NCHW .npy (e.g. numpy.save of a PyTorch result)")->required();
  add_dtype_option(*cmd, a->dtype, "the precision y was computed in (default: y's dtype)");
  add_json_option(*cmd, a->json_out, "write the result as JSON (schema certconv.identify/1)");
  add_threads_option(*cmd, a->threads);
  cmd->add_option("--show", a->show, "candidates to print (all are in the JSON)")->check(CLI::Range(1, 1 << 20));
  return [a] {
    AnyTensor y = read_npy(a->y);
    const Dtype dtype = a->dtype.empty() ? (y.index() == 1 ? Dtype::f64 : Dtype::f32) : parse_dtype(a->dtype);
    require((y.index() == 1) == (dtype == Dtype::f64),
            a->y + ": dtype " + dtype_name_of(y) + " differs from --dtype " + a->dtype);
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
