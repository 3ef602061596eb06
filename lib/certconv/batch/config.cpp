#include "certconv/batch/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "certconv/analysis/analyze.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/sha256.hpp"

namespace certconv {

namespace {

using json = nlohmann::json;

// Every message starts with the config file and the key path at fault.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(path_ + ": " + key + ": " + what);
  }

  void check_keys(const json& obj, const std::string& where, const std::vector<std::string>& known) const {
    for (const auto& [k, v] : obj.items()) {
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      fail(where.empty() ? k : where + "." + k, "unknown key (known: " + list + ")");
    }
  }

  // A scalar or an array of scalars, as an array; each element checked by `ok`.
  // A missing key gives `def`, or fails when def is null.
  template <class Ok>
  std::vector<json> list(const json& root, const std::string& key, const char* what, Ok ok,
                         const json& def = nullptr) const {
    if (!root.contains(key) && def.is_null()) fail(key, "missing (expected " + std::string(what) + " or an array of them)");
    const json& v = root.contains(key) ? root.at(key) : def;
    std::vector<json> out;
    if (v.is_array()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!ok(v[i])) fail(key + "[" + std::to_string(i) + "]", std::string("expected ") + what);
        out.push_back(v[i]);
      }
    } else {
      if (!ok(v)) fail(key, std::string("expected ") + what + " or an array of them");
      out.push_back(v);
    }
    if (out.empty()) fail(key, "is empty");
    return out;
  }

  double number(const json& root, const std::string& key, double def, double min, bool min_open) const {
    if (!root.contains(key)) return def;
    const json& v = root.at(key);
    if (!v.is_number()) fail(key, "expected a number");
    const double d = v.get<double>();
    if (min_open ? !(d > min) : !(d >= min)) fail(key, "must be " + std::string(min_open ? "> " : ">= ") + json(min).dump());
    return d;
  }

  bool boolean(const json& obj, const std::string& key, const std::string& where, bool def) const {
    if (!obj.contains(key)) return def;
    if (!obj.at(key).is_boolean()) fail(where + key, "expected true or false");
    return obj.at(key).get<bool>();
  }

  std::string string(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.at(key).is_string()) fail(where + key, "expected a string");
    return obj.at(key).get<std::string>();
  }

 private:
  std::string path_;
};

struct Problem {
  ConvDesc desc;
  std::string origin;  // "problems[i]" for duplicate messages
};

ConvDesc parse_desc(const Reader& r, const std::string& desc, std::optional<std::int64_t> mb, const std::string& key) {
  try {
    return parse_conv_desc(desc, mb);
  } catch (const InputError& err) {
    r.fail(key, err.what());
  }
}

std::vector<Problem> read_problems(const json& root, const Reader& r, const std::string& base_dir) {
  if (!root.contains("problems")) r.fail("problems", "missing (an array of descriptors or {\"shapes\": FILE} objects)");
  const json& ps = root.at("problems");
  if (!ps.is_array() || ps.empty()) r.fail("problems", "expected a non-empty array");
  std::vector<Problem> out;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const std::string where = "problems[" + std::to_string(i) + "]";
    const json& e = ps[i];
    if (e.is_string()) {
      out.push_back({parse_desc(r, e.get<std::string>(), std::nullopt, where), where});
      continue;
    }
    if (!e.is_object()) r.fail(where, "expected a descriptor string or an object");
    r.check_keys(e, where, {"desc", "name", "mb", "shapes", "filter", "regex", "skip_non_2d"});
    const std::string w = where + ".";
    std::optional<std::int64_t> mb;
    if (e.contains("mb")) {
      if (!e["mb"].is_number_integer() || e["mb"].get<std::int64_t>() < 1) r.fail(w + "mb", "expected an integer >= 1");
      mb = e["mb"].get<std::int64_t>();
    }
    if (e.contains("desc") == e.contains("shapes")) r.fail(where, "give exactly one of 'desc' and 'shapes'");
    if (e.contains("desc")) {
      for (const char* k : {"filter", "regex", "skip_non_2d"})
        if (e.contains(k)) r.fail(w + k, "only with 'shapes'");
      const std::string desc = r.string(e, "desc", w);
      out.push_back({parse_desc(r, desc, mb, w + "desc"), where});
      if (e.contains("name")) out.back().desc.name = r.string(e, "name", w);
      continue;
    }
    if (e.contains("name")) r.fail(w + "name", "only with 'desc' (shape files name their layers)");
    std::filesystem::path file = r.string(e, "shapes", w);
    if (file.is_relative()) file = std::filesystem::path(base_dir) / file;
    const bool skip_non_2d = r.boolean(e, "skip_non_2d", w, false);
    std::vector<ConvDesc> descs;
    try {
      descs = read_shapes_file_any(file.string(), mb);
    } catch (const InputError& err) {
      r.fail(w + "shapes", err.what());
    }
    const std::string filter = e.contains("filter") ? r.string(e, "filter", w) : "";
    std::optional<std::regex> re;
    if (e.contains("regex")) {
      const std::string pattern = r.string(e, "regex", w);
      try {
        re.emplace(pattern);
      } catch (const std::regex_error& err) {
        r.fail(w + "regex", std::string("invalid regular expression: ") + err.what());
      }
    }
    std::size_t kept = 0;
    for (ConvDesc& d : descs) {
      if (skip_non_2d && d.rank != 2) continue;
      if (d.name.find(filter) == std::string::npos) continue;
      if (re && !std::regex_search(d.name, *re)) continue;
      out.push_back({std::move(d), where});
      ++kept;
    }
    if (kept == 0) r.fail(where, "no layer of " + file.string() + " matches the filter");
  }
  return out;
}

std::vector<std::string> read_orders(const json& root, const Reader& r, bool any_f64, bool& saw_all) {
  const auto items = r.list(root, "orders", "an order string", [](const json& v) { return v.is_string(); });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string key = root.at("orders").is_array() ? "orders[" + std::to_string(i) + "]" : "orders";
    const std::string text = items[i].get<std::string>();
    if (text == "all") {
      saw_all = true;
      for (const auto& n : all_order_names())
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
      continue;
    }
    OrderSpec os;
    try {
      os = parse_order(text);
    } catch (const InputError& err) {
      r.fail(key, err.what());
    }
    const auto in = os.params.find("input");
    if (any_f64 && in != os.params.end() && in->second != "f32")
      r.fail(key, "'" + text + "' rounds float32 inputs; it needs dtype f32, but dtypes lists f64");
    if (std::find(out.begin(), out.end(), text) != out.end()) r.fail(key, "'" + text + "' is listed twice");
    out.push_back(text);
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  require(f.good(), path + ": cannot open batch config");
  std::stringstream ss;
  ss << f.rdbuf();
  require(!f.bad(), path + ": cannot read batch config");
  return ss.str();
}

}  // namespace

std::string sanitize_name(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (keep)
      out += c;
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "_" : out;
}

BatchConfig parse_batch_config(const std::string& text, const std::string& path, const std::string& base_dir) {
  const Reader r(path);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) throw InputError(path + ": expected a JSON object at the top level");
  r.check_keys(root, "",
               {"description", "problems", "directions", "dtypes", "orders", "dists", "seeds", "rtol", "atol", "lambda",
                "threads", "allow_violations", "skip_unsupported"});

  BatchConfig c;
  c.path = path;
  c.sha256 = sha256_hex(text);
  if (root.contains("description")) c.description = r.string(root, "description", "");
  const auto problems = read_problems(root, r, base_dir);

  // analyze's directions: one result each (BWD_WB's db is certified by `truth`), no bias generated.
  std::vector<Direction> dirs;
  const auto dir_items = r.list(
      root, "directions", "\"FWD_D\", \"BWD_D\" or \"BWD_W\"",
      [](const json& v) {
        if (!v.is_string()) return false;
        const auto d = parse_direction(v.get<std::string>());
        return d && (*d == Direction::fwd_d || *d == Direction::bwd_d || *d == Direction::bwd_w);
      },
      "FWD_D");
  for (const json& d : dir_items) {
    const Direction dir = *parse_direction(d.get<std::string>());
    if (std::find(dirs.begin(), dirs.end(), dir) != dirs.end())
      r.fail("directions", std::string(direction_name(dir)) + " is listed twice");
    dirs.push_back(dir);
  }

  std::vector<Dtype> dtypes;
  for (const json& d : r.list(root, "dtypes", "\"f32\" or \"f64\"",
                              [](const json& v) { return v.is_string() && (v == "f32" || v == "f64"); }, "f32"))
    dtypes.push_back(d == "f64" ? Dtype::f64 : Dtype::f32);
  const bool any_f64 = std::find(dtypes.begin(), dtypes.end(), Dtype::f64) != dtypes.end();

  bool saw_all = false;
  c.orders = read_orders(root, r, any_f64, saw_all);

  std::vector<std::string> dists;
  const auto dist_items =
      r.list(root, "dists", "a distribution string", [](const json& v) { return v.is_string(); }, "kaiming");
  // Syntax and parameters are checked once on a probe problem here, so a typo
  // fails the whole config before anything runs.
  const ConvSpec probe = parse_benchdnn("mb1ic8ih3oc1kh1");
  for (std::size_t i = 0; i < dist_items.size(); ++i) {
    const std::string d = dist_items[i].get<std::string>();
    try {
      generate_inputs<float>(probe, d, 0);
    } catch (const InputError& err) {
      r.fail(root.contains("dists") && root.at("dists").is_array() ? "dists[" + std::to_string(i) + "]" : "dists",
             err.what());
    }
    dists.push_back(d);
  }

  std::vector<std::uint64_t> seeds;
  for (const json& s : r.list(root, "seeds", "a non-negative integer",
                              [](const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v >= 0); }, 1))
    seeds.push_back(s.get<std::uint64_t>());

  c.rtol = r.number(root, "rtol", c.rtol, 0, false);
  c.atol = r.number(root, "atol", c.atol, 0, false);
  c.lambda = r.number(root, "lambda", c.lambda, 0, true);
  if (root.contains("threads")) {
    if (!root["threads"].is_number_integer() || root["threads"] < 0 || root["threads"] > 1024)
      r.fail("threads", "expected an integer in [0, 1024] (0 = all cores)");
    c.threads = root["threads"].get<int>();
  }
  c.allow_violations = r.boolean(root, "allow_violations", "", false);
  c.skip_unsupported = r.boolean(root, "skip_unsupported", "", saw_all);

  std::map<std::string, std::string> seen;  // params hash → origin
  for (const Problem& p : problems)
    for (const Direction dir : dirs)
      for (const Dtype dtype : dtypes)
        for (const auto& dist : dists)
          for (const auto seed : seeds) {
            if (dist.rfind("gendot", 0) == 0 && (dir != Direction::fwd_d || p.desc.rank != 2))
              r.fail(p.origin, "dist '" + dist + "' builds forward 2-D outputs only; '" + to_benchdnn(p.desc) + "' " +
                                   direction_name(dir) + " is not one");
            Experiment e;
            e.id = static_cast<int>(c.experiments.size());
            e.desc = p.desc;
            e.dir = dir;
            e.dtype = dtype;
            e.dist = dist;
            e.seed = seed;
            e.params = {{"desc", to_benchdnn(p.desc)}, {"dtype", dtype_name(dtype)},
                        {"dist", dist},                {"seed", seed},
                        {"orders", c.orders},          {"rtol", c.rtol},
                        {"atol", c.atol},              {"lambda", c.lambda},
                        {"allow_violations", c.allow_violations}, {"skip_unsupported", c.skip_unsupported}};
            // Forward experiments keep the parameters (and file names) they had before directions.
            if (dir != Direction::fwd_d) e.params["direction"] = direction_name(dir);
            e.params_hash = sha256_hex(e.params.dump());
            const auto [it, fresh] = seen.emplace(e.params_hash, p.origin);
            if (!fresh)
              r.fail(p.origin, "layer '" + to_benchdnn(p.desc) + "' repeats an experiment of " + it->second);
            std::string layer = sanitize_name(p.desc.name.empty() ? to_benchdnn(p.desc) : p.desc.name);
            if (layer.size() > 80) layer.resize(80);
            const std::string dir_part = dir == Direction::fwd_d ? "" : sanitize_name(direction_name(dir)) + "__";
            e.file = layer + "__" + dir_part + dtype_name(dtype) + "__" + sanitize_name(dist) + "__s" +
                     std::to_string(seed) + "__" + e.params_hash.substr(0, 8) + ".json";
            c.experiments.push_back(std::move(e));
          }
  return c;
}

BatchConfig load_batch_config(const std::string& path) {
  const std::string base = std::filesystem::path(path).parent_path().string();
  return parse_batch_config(read_text(path), path, base.empty() ? "." : base);
}

}  // namespace certconv
