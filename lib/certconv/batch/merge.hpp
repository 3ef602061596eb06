#pragma once
// `certconv merge`: the shard outputs of one batch config combined into one
// directory and one index.json. Result files are copied (byte for byte) unless
// already in place. An experiment found in several sources is taken once: a
// complete result wins over a failed or pending one; two complete results whose
// observed or truth sections differ (timings aside) are a conflict, listed in
// the index under "conflicts" (the first source's file is kept).
#include <string>
#include <vector>

namespace certconv {

struct MergeSummary {
  int done = 0, failed = 0, pending = 0, missing = 0, conflicts = 0;
  bool violation_exit = false;  // some experiment's own exit code is 1
};

// Sources are batch output directories; all must come from one config (same
// SHA-256), else InputError naming both index files.
MergeSummary merge_batches(const std::vector<std::string>& dirs, const std::string& out_dir);

}  // namespace certconv
