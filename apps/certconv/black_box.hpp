#pragma once
// The black boxes `reveal` (and `identify --reveal-*`) call: a registry order or
// backend, or a shell command with {x} {w} {bias} {y} placeholders run in a
// temporary directory. A command that fails, times out or writes no {y} is an
// InputError (exit 2) ending with the tail of its output; the directory is removed
// afterwards, also when an error unwinds.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/reveal/reveal.hpp"

namespace certconv::app {

// A fresh temporary directory under TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// `sh -c line` with stdout and stderr to the file `log`, its process group killed
// after `timeout` seconds. Throws InputError (with the log's tail) unless it exits 0.
void run_command(const std::string& line, const std::string& log, double timeout);

// Replaces {x} {w} {bias} {y} in cmd by the paths of those files in dir.
std::string command_line(const std::string& cmd, const TempDir& dir);

struct BlackBoxSpec {
  std::string backend, command;  // exactly one of them
  double timeout = 600;
  int threads = 1;
};

// The black box of a BlackBoxSpec, and its description for the JSON documents.
template <class T>
struct AppBlackBox {
  explicit AppBlackBox(const BlackBoxSpec& s) {
    require(s.backend.empty() != s.command.empty(), "give one black box: --backend or --command");
    if (!s.backend.empty()) {
      const OrderSpec o = parse_order(s.backend);
      describe = {{"kind", order_kind_name(find_order(o.name).kind)}, {"order", order_str(o)}};
      fn = [o, threads = s.threads](const ConvProblem<T>& p) {
        RunOptions ro;
        ro.threads = threads;
        ro.want_bound = false;
        return run_order(o, p, ro).y;
      };
      return;
    }
    require(s.command.find("{y}") != std::string::npos, "--command must write its output to {y}");
    describe = {{"kind", "command"}, {"command", s.command}, {"timeout_s", s.timeout}};
    dir = std::make_unique<TempDir>();
    fn = [cmd = s.command, timeout = s.timeout, d = dir.get()](const ConvProblem<T>& p) {
      write_npy(d->file("x.npy"), p.x);
      write_npy(d->file("w.npy"), p.w);
      if (p.bias) write_npy(d->file("bias.npy"), *p.bias);
      const std::string y = d->file("y.npy");
      std::filesystem::remove(y);
      run_command(command_line(cmd, *d), d->file("log.txt"), timeout);
      require(std::filesystem::exists(y), "--command exited 0 but wrote no {y}");
      return read_npy_as<T>(y, "{y}");
    };
  }
  // Removes the temporary directory (the black box cannot run after this).
  void close() { dir.reset(); }

  BlackBox<T> fn;
  nlohmann::json describe;
  std::unique_ptr<TempDir> dir;
};

}  // namespace certconv::app
