#pragma once
// Sharding a batch over N machines: shard I of N (0-based) takes the
// experiments whose grid position k satisfies k mod N == I, so the shards are
// disjoint, cover the grid, and each is fixed by the config alone.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "certconv/batch/config.hpp"

namespace certconv {

struct Shard {
  int index = 0, count = 1;
  bool operator==(const Shard&) const = default;
};

// "I/N" with 0 <= I < N; InputError naming `what` otherwise.
Shard parse_shard(const std::string& text, const std::string& what = "shard");

// A Slurm job array's shard: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT,
// made 0-based with SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_STEP when set
// (so --array=1-16 works too). Empty when not inside a job array.
using Getenv = std::function<const char*(const char*)>;
std::optional<Shard> shard_from_slurm(const Getenv& getenv);

std::vector<Experiment> select_shard(const std::vector<Experiment>& all, Shard s);

}  // namespace certconv
