// certconv merge: shard outputs of one batch config combined into one directory
// with one index.json (conflicts listed there).
#include <cstdio>
#include <memory>

#include "certconv/batch/merge.hpp"
#include "commands.hpp"

namespace certconv::app {

namespace {

struct MergeArgs {
  std::vector<std::string> dirs;
  std::string out;
};

}  // namespace

Runner add_merge(CLI::App& app) {
  auto a = std::make_shared<MergeArgs>();
  auto* cmd = app.add_subcommand("merge", "combine batch shard outputs into one directory and index.json");
  cmd->add_option("dirs", a->dirs, "batch output directories")->required();
  cmd->add_option("--out", a->out, "merged output directory (may be one of the sources)")->required();
  return [a] {
    const MergeSummary s = merge_batches(a->dirs, a->out);
    std::printf("merged into %s/index.json: %d done, %d failed, %d pending, %d missing, %d conflicts\n",
                a->out.c_str(), s.done, s.failed, s.pending, s.missing, s.conflicts);
    const bool complete = s.failed == 0 && s.pending == 0 && s.missing == 0 && s.conflicts == 0;
    return complete && !s.violation_exit ? 0 : 1;
  };
}

}  // namespace certconv::app
