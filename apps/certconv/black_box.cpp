// Black boxes for reveal (black_box.hpp): the temporary directory and the shell.
#include "black_box.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace certconv::app {

namespace {

std::string tail_of(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > n ? "..." + s.substr(s.size() - n) : s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

}  // namespace

TempDir::TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "certconv-reveal-XXXXXX").string();
  require(mkdtemp(t.data()) != nullptr,
          "cannot create a temporary directory under " + std::filesystem::temp_directory_path().string());
  path_ = t;
  // The placeholders are replaced unquoted, so that the command may quote them itself.
  require(
      t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") == std::string::npos,
      "the temporary directory " + t + " has characters a shell would interpret; set TMPDIR");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string command_line(const std::string& cmd, const TempDir& dir) {
  std::string s = cmd;
  for (const char* name : {"x", "w", "bias", "y"})
    s = replace_all(s, std::string("{") + name + "}", dir.file(std::string(name) + ".npy"));
  return s;
}

void run_command(const std::string& line, const std::string& log, double timeout) {
  const pid_t pid = fork();
  require(pid >= 0, "--command: fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);  // also here: the child may not have run yet when a timeout kills its group
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw InputError("--command timed out after " + std::to_string(timeout) +
                       " s; its output: " + tail_of(log, 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  require(rc == 0, "--command failed (exit status " + std::to_string(rc) + "); its output: " + tail_of(log, 2000));
}

}  // namespace certconv::app
