#pragma once
// Runs the certconv app (CERTCONV_BIN) for end-to-end tests and captures its
// exit code, stdout and stderr.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace certconv::test {

struct CliResult {
  int rc = -1;
  std::string out, err;
};

// Built by appending: GCC 12 warns falsely (-Wrestrict) on chains of std::string +.
inline std::string shell_quote(const std::string& s) {
  std::string q(1, '\'');
  for (char c : s) {
    if (c == '\'')
      q.append("'\\''");
    else
      q.push_back(c);
  }
  q.push_back('\'');
  return q;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh scratch directory per call site name, removed first if present.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("certconv-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline CliResult run_cli(const std::vector<std::string>& args, const std::string& env_prefix = "") {
  const char* bin = std::getenv("CERTCONV_BIN");
  std::string cmd = env_prefix;
  cmd.append(" ").append(shell_quote(bin ? bin : "certconv"));
  for (const auto& a : args) cmd.append(" ").append(shell_quote(a));
  auto dir = std::filesystem::temp_directory_path();
  auto tag = std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  auto out = dir / ("certconv-cli-" + tag + ".out"), err = dir / ("certconv-cli-" + tag + ".err");
  cmd.append(" </dev/null >").append(shell_quote(out.string())).append(" 2>").append(shell_quote(err.string()));
  int st = std::system(cmd.c_str());
  CliResult r;
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace certconv::test
