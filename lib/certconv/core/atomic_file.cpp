#include "certconv/core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "certconv/core/error.hpp"

namespace certconv {

namespace {

std::atomic<unsigned long> tmp_counter{0};

// Removes the temp file (if any) so that a failed write leaves no trace.
[[noreturn]] void fail(const std::string& path, const std::string& tmp, int err) {
  if (!tmp.empty()) ::unlink(tmp.c_str());
  throw InputError(path + ": cannot write output: " + std::generic_category().message(err));
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  // pid + counter keeps concurrent writers (threads or processes) apart.
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(tmp_counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail(path, "", errno);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(path, tmp, err);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  // close() is where NFS and full disks report delayed write errors.
  if (::close(fd) != 0) fail(path, tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(path, tmp, errno);
}

}  // namespace certconv
