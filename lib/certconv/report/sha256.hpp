#pragma once
// SHA-256 of files, recorded in JSON documents so a result can be traced to
// its exact inputs. Uses OpenSSL's libcrypto (Debian libssl-dev).
#include <string>

namespace certconv {

// Lower-case hex digest of the file's bytes; InputError naming the file if unreadable.
std::string sha256_file(const std::string& path);
// Lower-case hex digest of a byte string.
std::string sha256_hex(const std::string& bytes);

}  // namespace certconv
