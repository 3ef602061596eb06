#include "certconv/core/error.hpp"

namespace certconv {

void require(bool cond, const std::string& what) {
  if (!cond) throw InputError(what);
}

}  // namespace certconv
