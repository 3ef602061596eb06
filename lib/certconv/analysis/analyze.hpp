#pragma once
// The analysis behind `certconv analyze` (and the batch runner and the Python
// module): certified truth, then every requested emulated order, real backend
// and user-supplied output measured against it, as one JSON document
// (schema certconv.analyze/1, docs/json-schema.md).
#include <string>
#include <utility>
#include <vector>

#include "certconv/exact/truth.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/report/json.hpp"

namespace certconv {

struct AnalyzeRequest {
  bool f64 = false;                                          // compute dtype of the orders
  std::vector<std::string> orders;                           // order strings, "all" expanded by the caller
  std::vector<std::pair<std::string, std::string>> files;    // user outputs: name, .npy path
  double rtol = 1e-5, atol = 1e-8;                           // isclose against the truth
  double lambda = 5;                                         // probabilistic bound parameter
  int threads = 0;
  bool allow_violations = false;
  bool skip_unsupported = false;  // orders that reject the problem are listed as skipped (for "all")
};

struct AnalyzeResult {
  json doc;            // problem, parameters, truth, observed (no header/inputs: the caller adds those)
  int exit_code = 0;   // 1 when a rigorous bound is violated and not allowed
  std::string table;   // readable summary for stdout
};

// Every order name in the registry with kind "order" (what --orders all means),
// plus the real backends built into this binary.
std::vector<std::string> all_order_names();

// x/w of type TI (the stored inputs), orders computed in req.f64 ? double : float.
template <class TI>
AnalyzeResult analyze(const ConvProblem<TI>& p, const AnalyzeRequest& req);

// The "truth" block: cond distribution, fractions above 1e3 and 1e6, exact zeros.
json truth_json(const Truth& t);

}  // namespace certconv
