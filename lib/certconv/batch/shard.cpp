#include "certconv/batch/shard.hpp"

#include <charconv>

#include "certconv/core/error.hpp"

namespace certconv {

namespace {

// The whole string as a non-negative int, or nullopt.
std::optional<int> to_int(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& what) {
  const auto slash = text.find('/');
  const auto i = to_int(std::string_view(text).substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : to_int(std::string_view(text).substr(slash + 1));
  const Shard s{i.value_or(-1), n.value_or(0)};
  require(s.count >= 1 && s.index >= 0 && s.index < s.count,
          what + ": expected I/N with 0 <= I < N (0-based shard index), got '" + text + "'");
  return s;
}

std::optional<Shard> shard_from_slurm(const Getenv& getenv) {
  const char* id = getenv("SLURM_ARRAY_TASK_ID");
  if (!id) return std::nullopt;
  const char* count = getenv("SLURM_ARRAY_TASK_COUNT");
  const auto value = [&](const char* name, const char* text) {
    const auto v = text ? to_int(text) : std::nullopt;
    require(v.has_value(), "environment: " + std::string(name) + " is not a non-negative integer: '" +
                               (text ? text : "(unset)") + "'");
    return *v;
  };
  const int task = value("SLURM_ARRAY_TASK_ID", id), n = value("SLURM_ARRAY_TASK_COUNT", count);
  const char* min = getenv("SLURM_ARRAY_TASK_MIN");
  const char* step = getenv("SLURM_ARRAY_TASK_STEP");
  const int lo = min ? value("SLURM_ARRAY_TASK_MIN", min) : 0, st = step ? value("SLURM_ARRAY_TASK_STEP", step) : 1;
  require(st >= 1 && task >= lo && (task - lo) % st == 0 && (task - lo) / st < n,
          "environment: SLURM_ARRAY_TASK_ID=" + std::string(id) + " is not one of the " + std::to_string(n) +
              " tasks from SLURM_ARRAY_TASK_MIN=" + std::to_string(lo) + " in steps of " + std::to_string(st));
  return Shard{(task - lo) / st, n};
}

std::vector<Experiment> select_shard(const std::vector<Experiment>& all, Shard s) {
  std::vector<Experiment> out;
  for (const Experiment& e : all)
    if (e.id % s.count == s.index) out.push_back(e);
  return out;
}

}  // namespace certconv
