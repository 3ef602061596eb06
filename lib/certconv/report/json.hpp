#pragma once
// JSON building blocks shared by the documents (docs/json-schema.md). Non-finite
// numbers are written as null plus a sibling "<key>_status" ("+inf", "-inf",
// "nan"), never as bare NaN/Infinity; values that must round-trip exactly are
// also given as C99 hex strings ("<key>_hex").
#include <nlohmann/json.hpp>
#include <string>

#include "certconv/analysis/metrics.hpp"
#include "certconv/analysis/stats.hpp"
#include "certconv/analysis/truth_summary.hpp"
#include "certconv/core/direction.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

using json = nlohmann::json;

// j[key] = v, or null with j[key + "_status"] when v is not finite.
void put_number(json& j, const std::string& key, double v);
// As put_number, plus j[key + "_hex"] = hex_double(v).
void put_exact(json& j, const std::string& key, double v);

json problem_json(const ConvSpec& s);
// A problem of any direction and rank: the descriptor, direction, which result,
// the fields of its axes, and the 2-D forward problem it was computed as.
json problem_json(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered);
json distribution_json(const Distribution& d);
json record_json(const OutputRecord& r);
json histogram_json(const Histogram& h);
// The per-observed metric fields of docs/json-schema.md (without name/kind/params).
json metrics_json(const ObservedMetrics& m);
// observed[].samples: the plot sample, in columns.
json sample_json(const OutputSample& s);
// The "truth" block: cond distribution, fractions above 1e3 and 1e6, exact zeros.
json truth_json(const TruthSummary& t);

// {"path", "sha256", "bytes"} of an input file.
json file_json(const std::string& path);
// {"shape", "dtype", "sha256", "bytes"} of an array held in memory (sha256 of its
// native-endian element bytes, as numpy's tobytes() gives them).
template <class T>
json tensor_json(const Tensor<T>& t);

// Serializes (indented, arrays of scalars on one line) and writes atomically
// (temp file + rename).
void write_json(const std::string& path, const json& j);

}  // namespace certconv
