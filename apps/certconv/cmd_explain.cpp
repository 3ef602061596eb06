// certconv explain: the seed question. Two outputs of one convolution "don't
// match": bug or round-off, how far is each from the truth, what tolerance is
// safe, and what float64 would give.
#include <array>
#include <cmath>
#include <type_traits>
#include <cstdio>
#include <variant>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/core/text.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/report/explain_doc.hpp"
#include "certconv/report/json.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct ExplainArgs {
  InputArgs in;
  std::string a, b, names = "A,B", formats, json_out;
  double rtol = 1e-3, atol = 1e-8;
  bool f64 = false;
  int threads = 0;
};

// One output file and its format: given (--formats), else read off the file's dtype
// ('<f8' f64, '<f4' f32, '<f2' fp16, widened exactly). The values must fit it.
struct Side {
  AnyTensor y;
  OutputFormat format;
};

Side read_side(const std::string& path, const std::string& name, const std::string& declared) {
  bool half = false;
  Side s{read_npy(path, true, &half), OutputFormat::f32};
  const OutputFormat from_file = half ? OutputFormat::fp16 : s.y.index() == 1 ? OutputFormat::f64 : OutputFormat::f32;
  s.format = declared.empty() ? from_file : parse_output_format(declared, "--formats");
  const std::string what = path + ": output '" + name + "'";
  require((s.format == OutputFormat::f64) == (s.y.index() == 1),
          what + " is " + (s.y.index() == 1 ? "float64 ('<f8')" : half ? "float16 ('<f2')" : "float32 ('<f4')") +
              " but its format is " + output_format_name(s.format) +
              (s.format == OutputFormat::f64 ? ", which needs '<f8'" : ", which needs '<f4' (or '<f2')"));
  std::visit([&](const auto& y) {
    for (std::size_t i = 0; i < y.data.size(); ++i)
      require(std::isfinite(y.data[i]), what + " has a non-finite value at index " +
                                            index_text(y.shape, static_cast<std::int64_t>(i)));
    if constexpr (std::is_same_v<std::decay_t<decltype(y)>, Tensor<float>>)
      if (s.format == OutputFormat::bf16 || s.format == OutputFormat::fp16)
        require_in_format(y, s.format == OutputFormat::bf16 ? InputFormat::bf16 : InputFormat::fp16, what);
  }, s.y);
  return s;
}

std::vector<std::int64_t> shape_of(const Side& s) {
  return std::visit([](const auto& y) { return y.shape; }, s.y);
}

// The side's shape must be the result's (shape); problem: how the error names it.
void require_shape(const Side& s, const std::string& path, const std::string& name,
                   const std::vector<std::int64_t>& shape, const std::string& problem) {
  require(shape_of(s) == shape, path + ": output '" + name + "' has shape " + shape_text(shape_of(s)) +
                                    ", not the output shape " + shape_text(shape) + " of " + problem);
}

// Prints the verdicts and writes the document (made by `document`) to json_out.
template <class MakeDocument>
int report(const std::string& problem, const ExplainOutcome& o, const ExplainRequest& req, const F64Orders& f64,
           const std::string& json_out, MakeDocument document) {
  const std::string formats = req.formats[0] == req.formats[1]
                                  ? output_format_words(req.formats[0])
                                  : output_format_words(req.formats[0]) + " vs " + output_format_words(req.formats[1]);
  std::printf("%s (%s vs %s, %s)\n\n%s\n", problem.c_str(), req.name_a.c_str(), req.name_b.c_str(),
              formats.c_str(), o.result.verdict.c_str());
  if (o.f64)
    std::printf("\nIn float64 (recomputed by %s and %s):\n%s\n", f64->first.c_str(), f64->second.c_str(),
                o.f64->verdict.c_str());
  if (!json_out.empty()) {
    write_json(json_out, document());
    std::printf("\nwrote %s\n", json_out.c_str());
  }
  return o.result.consistent ? 0 : 1;
}

}  // namespace

template <class TI, class TA, class TB>
int explain_and_report(const ConvProblem<TI>& p, const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req,
                       const F64Orders& f64, int threads, const std::string& json_out, json inputs) {
  TruthOptions topt;
  topt.threads = threads;
  topt.progress = true;
  // With f64, the same question in float64: both names must be orders or backends.
  const ExplainOutcome o = explain_problem(p, a, b, req, f64, topt);
  return report(to_benchdnn(p.spec), o, req, f64, json_out,
                [&] { return explain_document(p.spec, o, threads, std::move(inputs)); });
}

// Any direction and rank: one result (BWD_WB: dw or db, by A's shape), explained
// on its lowered problem (analysis/explain.hpp).
template <class TI>
int explain_general(const GeneralInputs<TI>& in, const ExplainArgs& a, ExplainRequest req, const F64Orders& f64,
                    const std::array<std::string, 2>& declared, json inputs) {
  const std::vector<Lowered<TI>> ls = lower(in.desc, in.dir, in.operands());
  const std::string problem = to_benchdnn(in.desc) + " " + direction_name(in.dir);
  const Side sa = read_side(a.a, req.name_a, declared[0]), sb = read_side(a.b, req.name_b, declared[1]);
  const Lowered<TI>& l = result_with_shape(ls, in.desc, in.dir, shape_of(sa), a.a + ": output '" + req.name_a + "'");
  require_shape(sb, a.b, req.name_b, l.shape, problem + " " + l.result);
  req.formats = {sa.format, sb.format};
  TruthOptions topt;
  topt.threads = a.threads;
  topt.progress = true;
  return std::visit(
      [&](const auto& ya, const auto& yb) {
        const ExplainOutcome o = explain_problem(l, in.dir, in.desc.rank, ya, yb, req, f64, topt);
        return report(problem + " " + l.result, o, req, f64, a.json_out, [&] {
          return explain_document(in.desc, in.dir, l.result, l.problem.spec, o, a.threads, inputs);
        });
      },
      sa.y, sb.y);
}

#define CERTCONV_EXPLAIN_AND_REPORT(TI, TA, TB)                                                                        \
  template int explain_and_report(const ConvProblem<TI>&, const Tensor<TA>&, const Tensor<TB>&, const ExplainRequest&, \
                                  const F64Orders&, int, const std::string&, json);
CERTCONV_EXPLAIN_AND_REPORT(float, float, float)
CERTCONV_EXPLAIN_AND_REPORT(float, float, double)
CERTCONV_EXPLAIN_AND_REPORT(float, double, float)
CERTCONV_EXPLAIN_AND_REPORT(float, double, double)
CERTCONV_EXPLAIN_AND_REPORT(double, float, float)
CERTCONV_EXPLAIN_AND_REPORT(double, float, double)
CERTCONV_EXPLAIN_AND_REPORT(double, double, float)
CERTCONV_EXPLAIN_AND_REPORT(double, double, double)
#undef CERTCONV_EXPLAIN_AND_REPORT

Runner add_explain(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand("explain", "two outputs don't match: bug or round-off, and what tolerance is safe");
  a->in.add_to(*cmd, true, true);
  cmd->add_option("A", a->a, "first output, NCHW .npy")->required();
  cmd->add_option("B", a->b, "second output, NCHW .npy (it may differ from A in dtype/format)")->required();
  cmd->add_option("--formats", a->formats,
                  "formats of A and B, e.g. f64,f32 or f32,bf16 (f64, f32, bf16, fp16; default: read off each "
                  "file's dtype, '<f2' = fp16); bf16/fp16 in a '<f4' file are checked value by value");
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
    std::array<std::string, 2> declared;
    if (!a->formats.empty()) {
      const auto c = a->formats.find(',');
      require(c != std::string::npos && a->formats.find(',', c + 1) == std::string::npos,
              "--formats: expected two formats separated by one comma, got '" + a->formats + "'");
      declared = {a->formats.substr(0, c), a->formats.substr(c + 1)};
    }
    json inputs = {{"source", "files"}, {"files", a->in.files_json()}};
    inputs["files"]["A"] = file_json(a->a);
    inputs["files"]["B"] = file_json(a->b);
    if (a->in.general())
      return std::visit([&](const auto& in) { return explain_general(in, *a, req, f64, declared, inputs); },
                        load_general(a->in));
    return std::visit(
        [&](const auto& in) {
          const ConvSpec& spec = in.spec;
          const Side sa = read_side(a->a, req.name_a, declared[0]), sb = read_side(a->b, req.name_b, declared[1]);
          require_shape(sa, a->a, req.name_a, spec.y_shape(), to_benchdnn(spec));
          require_shape(sb, a->b, req.name_b, spec.y_shape(), to_benchdnn(spec));
          req.formats = {sa.format, sb.format};
          return std::visit(
              [&](const auto& ya, const auto& yb) {
                return explain_and_report(in.view(), ya, yb, req, f64, a->threads, a->json_out, inputs);
              },
              sa.y, sb.y);
        },
        load_inputs(a->in));
  };
}

}  // namespace certconv::app
