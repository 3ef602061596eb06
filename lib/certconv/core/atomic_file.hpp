#pragma once
// Atomic output: write to "<path>.tmp.<pid>.<n>" in the same directory, flush,
// then rename over path. An unwritable path raises InputError naming it.
#include <string>
#include <string_view>

namespace certconv {

void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace certconv
