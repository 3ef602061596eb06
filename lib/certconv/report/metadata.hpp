#pragma once
// The provenance block every certconv JSON document carries, so that a table
// in a paper can be traced to the run that made it: tool (version, git hash,
// compiler, flags), libraries (MPFR, MPFI, Boost, oneDNN, BLAS), machine (CPU,
// ISA, threads) and the UTC creation time.
#include <nlohmann/json.hpp>
#include <string>

namespace certconv {

nlohmann::json tool_json();
nlohmann::json libraries_json();
nlohmann::json machine_json(int threads);
std::string utc_now();  // ISO 8601, e.g. 2026-11-25T16:22:44Z

// {"schema": ..., "tool": ..., "libraries": ..., "machine": ..., "created_utc": ...}
nlohmann::json document_header(const std::string& schema, int threads);

// C99 hex-float text ("0x1.8p+1") of v, for values that must round-trip exactly.
std::string hex_double(double v);

}  // namespace certconv
