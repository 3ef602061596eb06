// certconv explain: the seed question. Two outputs of one convolution "don't
// match": bug or round-off, how far is each from the truth, what tolerance is
// safe, and what float64 would give.
#include <cmath>
#include <cstdio>
#include <variant>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/report/explain_doc.hpp"
#include "certconv/report/json.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct ExplainArgs {
  InputArgs in;
  std::string a, b, names = "A,B", json_out;
  double rtol = 1e-3, atol = 1e-8;
  bool f64 = false;
  int threads = 0;
};

template <class T>
Tensor<T> check_output(AnyTensor t, const std::string& path, const std::string& name, const ConvSpec& spec) {
  auto* y = std::get_if<Tensor<T>>(&t);
  require(y != nullptr, path + ": output '" + name + "' is " + (t.index() == 0 ? "float32" : "float64") +
                            " but the other output is " + (t.index() == 0 ? "float64" : "float32") +
                            "; A and B must share one dtype");
  require(y->shape == spec.y_shape(), path + ": output '" + name + "' has the wrong shape for " + to_benchdnn(spec) +
                                          " (expected [" + std::to_string(spec.mb) + ", " + std::to_string(spec.oc) +
                                          ", " + std::to_string(spec.oh) + ", " + std::to_string(spec.ow) + "])");
  for (std::size_t i = 0; i < y->data.size(); ++i)
    require(std::isfinite(y->data[i]), path + ": output '" + name + "' has a non-finite value at flat index " +
                                           std::to_string(i));
  return std::move(*y);
}

}  // namespace

template <class TI, class T>
int explain_and_report(const ConvProblem<TI>& p, const Tensor<T>& a, const Tensor<T>& b, const ExplainRequest& req,
                       const F64Orders& f64, int threads, const std::string& json_out, json inputs) {
  TruthOptions topt;
  topt.threads = threads;
  topt.progress = true;
  // With f64, the same question in float64: both names must be orders or backends.
  const ExplainOutcome o = explain_problem(p, a, b, req, f64, topt);
  std::printf("%s (%s vs %s, %s)\n\n%s\n", to_benchdnn(p.spec).c_str(), req.name_a.c_str(), req.name_b.c_str(),
              std::is_same_v<T, float> ? "float32" : "float64", o.result.verdict.c_str());
  if (o.f64)
    std::printf("\nIn float64 (recomputed by %s and %s):\n%s\n", f64->first.c_str(), f64->second.c_str(),
                o.f64->verdict.c_str());
  if (!json_out.empty()) {
    write_json(json_out, explain_document(p.spec, o, threads, std::move(inputs)));
    std::printf("\nwrote %s\n", json_out.c_str());
  }
  return o.result.consistent ? 0 : 1;
}

template int explain_and_report(const ConvProblem<float>&, const Tensor<float>&, const Tensor<float>&,
                                const ExplainRequest&, const F64Orders&, int, const std::string&, json);
template int explain_and_report(const ConvProblem<float>&, const Tensor<double>&, const Tensor<double>&,
                                const ExplainRequest&, const F64Orders&, int, const std::string&, json);
template int explain_and_report(const ConvProblem<double>&, const Tensor<float>&, const Tensor<float>&,
                                const ExplainRequest&, const F64Orders&, int, const std::string&, json);
template int explain_and_report(const ConvProblem<double>&, const Tensor<double>&, const Tensor<double>&,
                                const ExplainRequest&, const F64Orders&, int, const std::string&, json);

Runner add_explain(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand("explain", "two outputs don't match: bug or round-off, and what tolerance is safe");
  a->in.add_to(*cmd);
  cmd->add_option("A", a->a, "first output, NCHW .npy")->required();
  cmd->add_option("B", a->b, "second output, same dtype")->required();
  cmd->add_option("--names", a->names, "names of A and B (order names when --f64 is given), e.g. im2col,onednn");
  cmd->add_option("--rtol", a->rtol, "rtol of the comparison (torch.isclose)");
  cmd->add_option("--atol", a->atol, "atol of the comparison (torch.isclose)");
  add_json_option(*cmd, a->json_out, "output JSON document (schema certconv.explain/1)");
  cmd->add_flag("--f64", a->f64, "also recompute A and B in float64 by the named orders");
  add_threads_option(*cmd, a->threads);
  return [a] {
    ExplainRequest req;
    const auto comma = a->names.find(',');
    require(comma != std::string::npos && comma > 0 && comma + 1 < a->names.size() &&
                a->names.find(',', comma + 1) == std::string::npos,
            "--names: expected two names separated by one comma, got '" + a->names + "'");
    req.name_a = a->names.substr(0, comma);
    req.name_b = a->names.substr(comma + 1);
    req.rtol = a->rtol;
    req.atol = a->atol;
    F64Orders f64;
    if (a->f64) f64 = std::pair{req.name_a, req.name_b};
    return std::visit(
        [&](const auto& in) {
          const ConvSpec& spec = in.spec;
          AnyTensor ta = read_npy(a->a), tb = read_npy(a->b);
          json inputs = {{"source", "files"}, {"files", a->in.files_json()}};
          inputs["files"]["A"] = file_json(a->a);
          inputs["files"]["B"] = file_json(a->b);
          if (ta.index() == 0) {
            const auto ya = check_output<float>(std::move(ta), a->a, req.name_a, spec);
            const auto yb = check_output<float>(std::move(tb), a->b, req.name_b, spec);
            return explain_and_report(in.view(), ya, yb, req, f64, a->threads, a->json_out, inputs);
          }
          const auto ya = check_output<double>(std::move(ta), a->a, req.name_a, spec);
          const auto yb = check_output<double>(std::move(tb), a->b, req.name_b, spec);
          return explain_and_report(in.view(), ya, yb, req, f64, a->threads, a->json_out, inputs);
        },
        load_inputs(a->in));
  };
}

}  // namespace certconv::app
