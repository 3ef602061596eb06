#pragma once
// Batch configuration (docs/batch.md): a JSON grid over problems (any rank),
// directions, dtypes, input distributions and seeds; every experiment runs the same list of orders and
// becomes one certconv.analyze/1 document. load_batch_config parses, validates
// (unknown keys, orders, descriptors, distributions → InputError naming the
// file and the key path, e.g. `problems[1].mb_override`) and expands the grid.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "certconv/core/direction.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

struct Experiment {
  int id = 0;  // position in the expanded grid (problems × directions × dtypes × dists × seeds)
  ConvDesc desc;
  Direction dir = Direction::fwd_d;
  Dtype dtype = Dtype::f32;
  std::string dist;   // generator, as for `analyze --gen`
  std::uint64_t seed = 0;
  // Everything that determines the result (threads excluded: results do not
  // depend on them), its SHA-256, and the file name derived from both.
  nlohmann::json params;
  std::string params_hash;
  std::string file;  // <layer>[__<dir>]__<dtype>__<dist>__s<seed>__<hash8>.json (dir unless FWD_D)
};

struct BatchConfig {
  std::string path, sha256;  // the config file as given, and its content's digest
  std::string description;
  std::vector<std::string> orders;  // "all" expanded
  double rtol = 1e-5, atol = 1e-8, lambda = 5;
  int threads = 1;  // per experiment
  bool allow_violations = false;
  bool skip_unsupported = false;  // orders that reject a problem are listed as skipped
  std::vector<Experiment> experiments;
};

BatchConfig load_batch_config(const std::string& path);

// Parses and validates a config given as text; relative shape-file paths are
// resolved against base_dir. `path` only names the source in messages.
BatchConfig parse_batch_config(const std::string& text, const std::string& path, const std::string& base_dir);

// "resnet_50:res2a_branch1*4" → "resnet_50_res2a_branch1_4": letters, digits,
// '.', '-' kept, every other run of characters becomes one '_'.
std::string sanitize_name(const std::string& s);

}  // namespace certconv
