#pragma once
// Error kinds shared by the library and the app. InputError is bad usage or bad
// input (exit code 2); its message names the file, field or index at fault.
#include <stdexcept>
#include <string>

namespace certconv {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws InputError(what) when cond is false.
void require(bool cond, const std::string& what);

const char* git_hash();

}  // namespace certconv
