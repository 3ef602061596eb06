// Exact accumulation of products of binary32/binary64 numbers.
// Assumptions: IEEE 754 binary32/binary64 inputs, finite (callers check).
// No floating-point arithmetic is used until the final conversion, which is
// exact (an integer of at most p bits times a power of two in range).
#include "certconv/exact/accumulator.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace certconv {

namespace {

using u128 = unsigned __int128;

struct Decomposed {
  std::uint64_t mant;  // integer significand (0 for ±0)
  int exp2;            // value = ±mant · 2^exp2
  bool negative;
};

inline Decomposed decompose(double a) {
  const auto bits = std::bit_cast<std::uint64_t>(a);
  const int ex = static_cast<int>((bits >> 52) & 0x7ff);
  std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
  int e = -1074;
  if (ex != 0) {
    m |= std::uint64_t{1} << 52;
    e = ex - 1075;
  }
  return {m, e, (bits >> 63) != 0};
}

// Magnitude as nonnegative 32-bit digits, value = Σ d[k]·2^(kLsb+32k).
struct Magnitude {
  std::uint32_t d[ExactAccumulator::kLimbs];
  int lo = 0, hi = -1;  // hi = index of the top nonzero digit, -1 for zero
  bool negative = false;

  std::uint32_t digit(long k) const { return (k < lo || k > hi) ? 0u : d[k]; }
  bool bit(long pos) const { return (digit(pos >> 5) >> (pos & 31)) & 1u; }
  // True when any bit strictly below offset pos is set.
  bool any_below(long pos) const {
    const long k = pos >> 5;
    for (long j = lo; j < std::min<long>(k, hi + 1); ++j)
      if (d[j]) return true;
    return (digit(k) & ((std::uint32_t{1} << (pos & 31)) - 1)) != 0;
  }
  // Bits [pos, pos+len) as an integer, len ≤ 64 − 31 + 32 = 65 − (pos mod 32) ≥ 53.
  std::uint64_t bits(long pos, int len) const {
    const long k = pos >> 5;
    const u128 v = (static_cast<u128>(digit(k + 2)) << 64) | (static_cast<u128>(digit(k + 1)) << 32) | digit(k);
    return static_cast<std::uint64_t>(v >> (pos & 31)) & ((std::uint64_t{1} << len) - 1);
  }
};

}  // namespace

void ExactAccumulator::clear() {
  if (hi_ < lo_) {
    std::memset(limb_, 0, sizeof limb_);
  } else {
    std::fill(limb_ + lo_, limb_ + hi_ + 1, std::int64_t{0});
  }
  lo_ = kLimbs;
  hi_ = -1;
  pending_ = 0;
}

// A product of binary64 significands has up to 106 bits: two 64-bit halves.
void ExactAccumulator::add_wide(unsigned __int128 p, int exp2, bool negative) {
  add64(static_cast<std::uint64_t>(p), exp2, negative);
  if (const auto hi = static_cast<std::uint64_t>(p >> 64)) add64(hi, exp2 + 64, negative);
  count_add();
}

void ExactAccumulator::add_product(double a, double b) {
  const Decomposed x = decompose(a), y = decompose(b);
  if (x.mant == 0 || y.mant == 0) return;
  const u128 p = static_cast<u128>(x.mant) * y.mant;
  add_wide(p, x.exp2 + y.exp2, x.negative != y.negative);
}

void ExactAccumulator::add_abs_product(double a, double b) {
  const Decomposed x = decompose(a), y = decompose(b);
  if (x.mant == 0 || y.mant == 0) return;
  const u128 p = static_cast<u128>(x.mant) * y.mant;
  add_wide(p, x.exp2 + y.exp2, false);
}

void add_product_and_abs(double w, double x, ExactAccumulator& sum, ExactAccumulator& abs) {
  const Decomposed a = decompose(w), b = decompose(x);
  if (a.mant == 0 || b.mant == 0) return;
  const u128 p = static_cast<u128>(a.mant) * b.mant;
  sum.add_wide(p, a.exp2 + b.exp2, a.negative != b.negative);
  abs.add_wide(p, a.exp2 + b.exp2, false);
}

void ExactAccumulator::add(double a) {
  const Decomposed x = decompose(a);
  if (x.mant == 0) return;
  add64(x.mant, x.exp2, x.negative);
  count_add();
}

void ExactAccumulator::add_integer(__int128 v, int exp2) {
  const bool negative = v < 0;
  add_wide(negative ? -static_cast<u128>(v) : static_cast<u128>(v), exp2, negative);
}

// Floor-normalizes limbs lo_..hi_ into digits in [0, 2^32), carrying into the
// limb above hi_, which becomes the new top and keeps the sign. The value is
// unchanged; afterwards any 2^28 further adds are safe again.
void ExactAccumulator::propagate() const {
  if (hi_ < lo_) return;
  for (int k = lo_; k <= hi_; ++k) {
    const std::int64_t c = limb_[k] >> 32;  // arithmetic shift: floor division
    limb_[k] -= c * (std::int64_t{1} << 32);
    limb_[k + 1] += c;
  }
  ++hi_;
  while (hi_ > lo_ && limb_[hi_] == 0) --hi_;
  pending_ = 0;
}

int ExactAccumulator::sign() const {
  propagate();
  if (hi_ < lo_) return 0;
  // After propagate only the top limb may be negative; lower digits are ≥ 0.
  if (limb_[hi_] < 0) return -1;
  for (int k = hi_; k >= lo_; --k)
    if (limb_[k] != 0) return 1;
  return 0;
}

namespace {

// The magnitude of the (propagated) limbs as digits.
Magnitude magnitude(const std::int64_t* limb, int lo, int hi) {
  Magnitude m;
  if (hi < lo) return m;
  m.negative = limb[hi] < 0;
  const std::int64_t s = m.negative ? -1 : 1;
  std::int64_t carry = 0;
  for (int k = lo; k <= hi; ++k) {
    std::int64_t v = s * limb[k] + carry;
    carry = v >> 32;
    m.d[k] = static_cast<std::uint32_t>(v);
  }
  // For a negative value the top limb is negative and negation leaves no carry out.
  m.lo = lo;
  m.hi = hi;
  while (m.hi >= m.lo && m.d[m.hi] == 0) --m.hi;
  return m;
}

struct Rounded {
  bool zero = true, negative = false, inexact = false;
  std::uint64_t n = 0;  // integer significand (< 2^p)
  int q = 0;            // value = ±n·2^q
  bool overflow = false;
};

// Rounds the magnitude to precision p with smallest quantum exponent qmin
// (subnormals) and largest finite exponent emax, in `mode`.
Rounded round_magnitude(const Magnitude& m, int p, int qmin, int emax, Rounding mode) {
  Rounded r;
  if (m.hi < m.lo) return r;
  r.zero = false;
  r.negative = m.negative;
  const long top = 32L * m.hi + (31 - std::countl_zero(m.d[m.hi]));  // offset of the leading bit
  const long e_lead = top + ExactAccumulator::kLsb;
  const long q = std::max<long>(e_lead - p + 1, qmin);
  const long pos = q - ExactAccumulator::kLsb;  // offset of the quantum bit, ≥ 0
  // A value below the quantum (top < pos) has integer part 0; only half/sticky remain.
  std::uint64_t n = top < pos ? 0 : m.bits(pos, static_cast<int>(std::min<long>(p, top - pos + 1)));
  const bool half = pos >= 1 && m.bit(pos - 1);
  const bool sticky = pos >= 1 && m.any_below(pos - 1);
  r.inexact = half || sticky;
  bool up = false;  // round the magnitude up?
  switch (mode) {
    case Rounding::nearest_even: up = half && (sticky || (n & 1)); break;
    case Rounding::toward_zero: up = false; break;
    case Rounding::down: up = r.negative && r.inexact; break;
    case Rounding::up: up = !r.negative && r.inexact; break;
  }
  long qq = q;
  if (up && ++n == (std::uint64_t{1} << p)) {
    n >>= 1;
    ++qq;
  }
  r.n = n;
  r.q = static_cast<int>(qq);
  // Largest finite value is (2^p − 1)·2^(emax−p+1).
  const long lead = 63 - std::countl_zero(n) + qq;
  r.overflow = lead > emax;
  return r;
}

}  // namespace

namespace {

template <class F>
F round_magnitude_to(const Magnitude& m, Rounding mode) {
  using L = std::numeric_limits<F>;
  const int p = L::digits;
  const int qmin = L::min_exponent - 1 - (p - 1);  // exponent of the smallest subnormal
  const int emax = L::max_exponent - 1;
  const Rounded r = round_magnitude(m, p, qmin, emax, mode);
  if (r.zero) return F(0);
  F v;
  if (r.overflow) {
    // IEEE 754 §7.4: RN overflows to ∞; directed modes go to ∞ only when rounding away.
    const bool to_inf = mode == Rounding::nearest_even || (mode == Rounding::up && !r.negative) ||
                        (mode == Rounding::down && r.negative);
    v = to_inf ? L::infinity() : L::max();
  } else {
    v = std::ldexp(static_cast<F>(r.n), r.q);  // exact: n < 2^p and n·2^q is representable
  }
  return r.negative ? -v : v;
}

}  // namespace

template <class F>
F ExactAccumulator::round_to(Rounding mode) const {
  propagate();
  return round_magnitude_to<F>(magnitude(limb_, lo_, hi_), mode);
}

Roundings ExactAccumulator::round_all() const {
  propagate();
  const Magnitude m = magnitude(limb_, lo_, hi_);
  const int sgn = m.hi < m.lo ? 0 : (m.negative ? -1 : 1);
  return {round_magnitude_to<double>(m, Rounding::nearest_even), round_magnitude_to<double>(m, Rounding::down),
          round_magnitude_to<double>(m, Rounding::up), round_magnitude_to<float>(m, Rounding::nearest_even), sgn};
}

double ExactAccumulator::round(Rounding mode) const { return round_to<double>(mode); }
float ExactAccumulator::round_f32(Rounding mode) const { return round_to<float>(mode); }

bool ExactAccumulator::exact_in_f64() const {
  propagate();
  const Magnitude m = magnitude(limb_, lo_, hi_);
  const Rounded r = round_magnitude(m, 53, -1074, 1023, Rounding::nearest_even);
  return r.zero || (!r.inexact && !r.overflow);
}

}  // namespace certconv
