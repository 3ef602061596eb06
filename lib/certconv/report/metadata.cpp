#include "certconv/report/metadata.hpp"

#include <mpfi.h>
#include <mpfr.h>
#include <sys/utsname.h>

#include <boost/version.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "certconv/core/config.hpp"
#include "certconv/core/error.hpp"
#if CERTCONV_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if CERTCONV_HAVE_OPENBLAS
extern "C" char* openblas_get_config(void);
extern "C" char* openblas_get_corename(void);
#endif

namespace certconv {

nlohmann::json tool_json() {
  return {{"name", "certconv"},
          {"version", CERTCONV_VERSION},
          {"git_hash", git_hash()},
          {"compiler", CERTCONV_COMPILER},
          {"buildtype", CERTCONV_BUILDTYPE},
          {"flags", CERTCONV_FLAGS}};
}

nlohmann::json libraries_json() {
  nlohmann::json j;
  j["mpfr"] = mpfr_get_version();
  j["mpfi"] = mpfi_get_version();
  j["boost"] = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
               std::to_string(BOOST_VERSION % 100);
#if CERTCONV_HAVE_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  j["onednn"] = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  j["onednn"] = nullptr;
#endif
#if CERTCONV_HAVE_OPENBLAS
  j["blas"] = {{"name", "OpenBLAS"}, {"config", openblas_get_config()}, {"core", openblas_get_corename()}};
#else
  j["blas"] = nullptr;
#endif
  return j;
}

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

nlohmann::json machine_json(int threads) {
  struct utsname u {};
  uname(&u);
  nlohmann::json isa = nlohmann::json::array();
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) isa.push_back("avx2");
  if (__builtin_cpu_supports("fma")) isa.push_back("fma");
  if (__builtin_cpu_supports("avx512f")) isa.push_back("avx512f");
  if (__builtin_cpu_supports("avx512bw")) isa.push_back("avx512bw");
  // What the integer truth (VNNI) and the reduced-precision kernels (bf16, AMX) depend on.
  if (__builtin_cpu_supports("avx512vnni")) isa.push_back("avx512vnni");
  if (__builtin_cpu_supports("avx512bf16")) isa.push_back("avx512bf16");
  if (__builtin_cpu_supports("amx-int8")) isa.push_back("amx-int8");
  if (__builtin_cpu_supports("amx-bf16")) isa.push_back("amx-bf16");
  return {{"cpu", cpu_model()},
          {"arch", u.machine},
          {"kernel", std::string(u.sysname) + " " + u.release},
          {"isa", isa},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"threads", threads}};
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json document_header(const std::string& schema, int threads) {
  return {{"schema", schema},
          {"tool", tool_json()},
          {"libraries", libraries_json()},
          {"machine", machine_json(threads)},
          {"created_utc", utc_now()}};
}

std::string hex_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

}  // namespace certconv
