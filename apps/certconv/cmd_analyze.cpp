// certconv analyze: truth, then every requested order, backend and user file
// measured against it; a summary table on stdout and the whole result as JSON.
#include <cstdio>
#include <iostream>
#include <optional>

#include "certconv/analysis/analyze.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/report/analyze_doc.hpp"
#include "certconv/report/analyze_summary.hpp"
#include "certconv/report/json.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct AnalyzeArgs {
  InputArgs in;
  std::string gen, dtype = "f32", json_out;
  std::uint64_t seed = 1;
  std::vector<std::string> orders, observed;
  double rtol = 1e-5, atol = 1e-8, lambda = 5;
  int threads = 0;
  bool allow_violations = false;
};

AnalyzeRequest make_request(const AnalyzeArgs& a) {
  AnalyzeRequest req;
  req.dtype = parse_dtype(a.dtype);
  req.rtol = a.rtol;
  req.atol = a.atol;
  req.lambda = a.lambda;
  req.threads = a.threads;
  req.allow_violations = a.allow_violations;
  for (const auto& list : a.orders)
    for (const auto& o : split_order_list(list)) {
      if (o == "all") {
        for (const auto& name : all_order_names()) req.orders.push_back(name);
        req.skip_unsupported = true;
      } else {
        req.orders.push_back(o);
      }
    }
  for (const auto& o : a.observed) {
    const auto eq = o.find('=');
    require(eq != std::string::npos && eq > 0 && eq + 1 < o.size(),
            "--observed: expected NAME=FILE.npy[:FORMAT], got '" + o + "'");
    std::string path = o.substr(eq + 1);
    // ":bf16" etc. after the file: its format (a path may hold colons of its own).
    std::optional<OutputFormat> format;
    if (const auto colon = path.rfind(':'); colon != std::string::npos) {
      const std::string tail = path.substr(colon + 1);
      if (tail == "f64" || tail == "f32" || tail == "bf16" || tail == "fp16") {
        format = parse_output_format(tail, "--observed");
        path.resize(colon);
      }
    }
    bool half = false;
    AnyTensor y = read_npy(path, true, &half);
    if (half && !format) format = OutputFormat::fp16;
    req.observed.push_back({o.substr(0, eq), path, std::move(y), format, "file", std::nullopt, std::nullopt});
  }
  require(!req.orders.empty() || !req.observed.empty(), "--orders or --observed: nothing to analyze");
  return req;
}

int finish(const json& doc, const AnalyzeResult& r, const AnalyzeArgs& a, const std::string& problem) {
  write_json(a.json_out, doc);
  std::printf("%s\n", problem.c_str());
  std::printf("truth: cond median %s, p99 %s, max %s; exact zeros %lld\n\n",
              doc["truth"]["cond"]["median"].dump().c_str(), doc["truth"]["cond"]["p99"].dump().c_str(),
              doc["truth"]["cond"]["max"].dump().c_str(), static_cast<long long>(doc["truth"]["exact_zeros"]));
  std::fputs(analyze_summary_table(r).c_str(), stdout);
  for (const auto& o : doc["observed"])
    for (const auto& v : o["violating"])
      std::printf("VIOLATION %s at index %s: observed %s, truth %s, bound %s\n", o["name"].get<std::string>().c_str(),
                  v["index"].dump().c_str(), v["observed_hex"].get<std::string>().c_str(),
                  v["truth_hex"].get<std::string>().c_str(), v["bound"].dump().c_str());
  std::printf("\nwrote %s\n", a.json_out.c_str());
  return r.exit_code;
}

template <class T>
int run_analyze(const ConvProblem<T>& p, const AnalyzeArgs& a, json inputs) {
  const AnalyzeRequest req = make_request(a);
  const AnalyzeResult r = analyze(p, req);
  return finish(analyze_document(p.spec, req, r, std::move(inputs)), r, a, to_benchdnn(p.spec));
}

// Any direction and rank (analysis/analyze.hpp): one result at a time.
template <class T>
int run_general_analyze(const GeneralInputs<T>& in, const AnalyzeArgs& a, json inputs) {
  require(in.dir != Direction::bwd_wb,
          "--dir BWD_WB: analyze takes one result; use BWD_W for dw (db is a plain sum: `certconv truth --dir BWD_WB "
          "--db-out` certifies it)");
  const AnalyzeRequest req = make_request(a);
  const AnalyzeResult r = analyze(in.desc, in.dir, in.operands(), req);
  return finish(analyze_document(in.desc, in.dir, req, r, std::move(inputs)), r, a,
                to_benchdnn(in.desc) + " " + direction_name(in.dir) + " " + r.result);
}

}  // namespace

std::vector<std::string> split_order_list(const std::string& list) {
  // Commas separate orders and also an order's parameters: a piece with '=' but
  // no ':' continues the previous order's parameter list.
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string piece = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!out.empty() && piece.find('=') != std::string::npos && piece.find(':') == std::string::npos)
      out.back() += "," + piece;
    else if (!piece.empty())
      out.push_back(piece);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Runner add_analyze(CLI::App& app) {
  auto a = std::make_shared<AnalyzeArgs>();
  auto* cmd = app.add_subcommand("analyze", "errors of orders, backends and your outputs against the certified truth");
  a->in.add_to(*cmd, false, true);
  cmd->add_option("--gen", a->gen,
                  "generate inputs instead of --x/--w: normal, uniform, kaiming, integer, gendot:cond=C, wide:decades=D");
  cmd->add_option("--seed", a->seed, "generator seed");
  add_dtype_option(*cmd, a->dtype, "working precision of the orders");
  cmd->add_option("--orders", a->orders, "orders/backends, comma-separated (NAME[:k=v,...]), or 'all'");
  cmd->add_option("--observed", a->observed,
                  "your own output as NAME=Y.npy[:FORMAT] (repeatable); FORMAT f64, f32, bf16, fp16 (default: the "
                  "file's dtype, '<f2' = fp16; bf16 for a '<f4' file holding bf16 values, checked value by value)");
  cmd->add_option("--rtol", a->rtol, "isclose rtol against the truth");
  cmd->add_option("--atol", a->atol, "isclose atol against the truth");
  cmd->add_option("--lambda", a->lambda, "lambda of the probabilistic bound")->check(CLI::PositiveNumber);
  add_json_option(*cmd, a->json_out, "output JSON document (schema certconv.analyze/1)")->required();
  add_threads_option(*cmd, a->threads);
  cmd->add_flag("--allow-violations", a->allow_violations, "exit 0 even when a rigorous bound is violated");
  return [a] {
    if (!a->gen.empty()) {
      require(a->in.x.empty() && a->in.w.empty(), "--gen: give either --gen or --x/--w, not both");
      require(!a->in.spec.empty(), "--gen: give --spec (with no operand files there are no shapes to read)");
      require(a->in.dy.empty() && a->in.bias.empty(), "--gen: give either --gen or operand files, not both");
      const json inputs = {{"source", "generator"}, {"dist", a->gen}, {"seed", a->seed}, {"dtype", a->dtype}};
      if (a->in.general()) {
        if (parse_dtype(a->dtype) == Dtype::f64)
          return run_general_analyze(generate_general<double>(a->in, a->gen, a->seed), *a, inputs);
        return run_general_analyze(generate_general<float>(a->in, a->gen, a->seed), *a, inputs);
      }
      const ConvSpec spec = a->in.resolve_spec({}, {});
      if (parse_dtype(a->dtype) == Dtype::f64) {
        const auto g = generate_inputs<double>(spec, a->gen, a->seed);
        return run_analyze(ConvProblem<double>{spec, g.x, g.w, nullptr}, *a, inputs);
      }
      const auto g = generate_inputs<float>(spec, a->gen, a->seed);
      return run_analyze(ConvProblem<float>{spec, g.x, g.w, nullptr}, *a, inputs);
    }
    const json files = {{"source", "files"}, {"dtype", a->dtype}, {"files", a->in.files_json()}};
    if (a->in.general())
      return std::visit([&](const auto& in) { return run_general_analyze(in, *a, files); }, load_general(a->in));
    require(!a->in.x.empty() && !a->in.w.empty(), "analyze: give --x and --w (or --gen DIST --seed S)");
    return std::visit(
        [&](const auto& in) {
          json inputs = {{"source", "files"}, {"dtype", a->dtype}, {"files", a->in.files_json()}};
          return run_analyze(in.view(), *a, inputs);
        },
        load_inputs(a->in));
  };
}

}  // namespace certconv::app
