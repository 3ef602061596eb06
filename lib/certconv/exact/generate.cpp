#include "certconv/exact/generate.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

#include "certconv/core/error.hpp"
#include "certconv/core/key_values.hpp"
#include "certconv/exact/accumulator.hpp"

namespace certconv {

double Rng::normal() {
  // 1 − U keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - uniform01(), u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

template <class T>
Tensor<T> normal_tensor(std::vector<std::int64_t> shape, Rng& rng) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t.data) v = static_cast<T>(rng.normal());
  return t;
}

template <class T>
Tensor<T> uniform_tensor(std::vector<std::int64_t> shape, double bound, Rng& rng) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t.data) v = static_cast<T>(rng.uniform(-bound, bound));
  return t;
}

namespace {

// "name:key=value" → value of key (the distribution's one parameter) as a double,
// with a clear error.
double dist_param(const std::string& dist, const std::string& key) {
  const auto [name, list] = split_name(dist);
  std::optional<std::string> found;
  for (const KeyValue& kv : split_key_values(list.value_or(""))) {
    require(kv.key == key, "generator '" + dist + "': unknown parameter '" + kv.item + "' (" + name + " takes " + key + ")");
    found = kv.value;
  }
  require(found.has_value(), "generator '" + dist + "': missing parameter '" + key + "' (e.g. " + name + ":" + key + "=1e6)");
  const std::string v = *found;
  try {
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    require(used == v.size() && std::isfinite(d), "");
    return d;
  } catch (const std::exception&) {
    throw InputError("generator '" + dist + "': parameter '" + key + "' is not a finite number: '" + v + "'");
  }
}

// Terms q_0..q_{n−1} whose exact sum has cond = Σ|q|/|Σq| ≈ c: the first half
// with exponents spread over [0, log2 c], the second half each cancelling the
// exact running sum down to a random term whose exponent falls linearly to 0
// (GenDot's construction with the other vector ≡ 1). Each step can cancel only
// about p bits (q_i is rounded to T), so short sums reach a smaller cond.
template <class T>
std::vector<T> gensum(std::size_t n, double c, Rng& rng) {
  // Headroom below the overflow threshold for n terms and the ±2^2 channel scaling.
  const int room = std::numeric_limits<T>::max_exponent - 8 - static_cast<int>(std::bit_width(n));
  const int emax = std::min(static_cast<int>(std::lround(std::log2(c))), room);
  std::vector<T> q(n);
  const std::size_t half = n / 2;
  ExactAccumulator s;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = rng.uniform(-1, 1);
    if (i < half) {
      const int e = i == 0 ? emax : static_cast<int>(rng.bits() % static_cast<std::uint64_t>(emax + 1));
      q[i] = static_cast<T>(std::ldexp(r, e));
    } else {
      const double frac = half + 1 < n ? double(i - half) / double(n - 1 - half) : 1.0;
      const int e = static_cast<int>(std::lround(emax * (1 - frac)));
      q[i] = static_cast<T>(std::ldexp(r, e) - s.round());
    }
    s.add(double(q[i]));
  }
  return q;
}

template <class T>
Generated<T> gendot_inputs(const ConvSpec& spec, double cond, Rng& rng) {
  require(cond >= 1 && std::isfinite(cond), "generator gendot: cond must be finite and >= 1");
  require(spec.n_terms() >= 6, "generator gendot: needs at least 6 terms per output (ic/g*kh*kw), got " +
                                   std::to_string(spec.n_terms()));
  Generated<T> g{Tensor<T>(spec.x_shape()), Tensor<T>(spec.w_shape())};
  // Channel values ±2^k make every product w·x exact, so the cancellation survives.
  std::vector<T> xc(static_cast<std::size_t>(spec.ic));
  for (auto& v : xc) v = static_cast<T>(std::ldexp(rng.bits() & 1 ? 1.0 : -1.0, static_cast<int>(rng.bits() % 5) - 2));
  const std::int64_t plane = spec.ih * spec.iw;
  for (std::int64_t i = 0; i < g.x.size(); ++i) g.x.data[i] = xc[static_cast<std::size_t>(i / plane % spec.ic)];
  const std::int64_t icg = spec.ic / spec.g, ocg = spec.oc / spec.g, taps = spec.kh * spec.kw;
  for (std::int64_t oc = 0; oc < spec.oc; ++oc) {
    const auto q = gensum<T>(static_cast<std::size_t>(spec.n_terms()), cond, rng);
    const std::int64_t c0 = oc / ocg * icg;
    for (std::int64_t i = 0; i < spec.n_terms(); ++i)
      g.w.data[static_cast<std::size_t>(oc * spec.n_terms() + i)] =
          q[static_cast<std::size_t>(i)] / xc[static_cast<std::size_t>(c0 + i / taps)];
  }
  return g;
}


// x and w of the given shapes (fan_in: terms per output) for every distribution
// but gendot, in the order of the random stream that seeds have always produced.
template <class T>
Generated<T> draw_inputs(const std::vector<std::int64_t>& xs, const std::vector<std::int64_t>& ws, double fan_in,
                         const std::string& dist, Rng& rng) {
  const std::string name = split_name(dist).first;
  if (name == "normal") return {normal_tensor<T>(xs, rng), normal_tensor<T>(ws, rng)};
  if (name == "uniform") return {uniform_tensor<T>(xs, 1, rng), uniform_tensor<T>(ws, 1, rng)};
  if (name == "kaiming") {
    auto x = normal_tensor<T>(xs, rng);
    return {std::move(x), uniform_tensor<T>(ws, 1 / std::sqrt(fan_in), rng)};
  }
  if (name == "integer") {
    Generated<T> g{Tensor<T>(xs), Tensor<T>(ws)};
    for (auto* t : {&g.x, &g.w})
      for (auto& v : t->data) v = static_cast<T>(static_cast<int>(rng.bits() % 7) - 3);
    return g;
  }
  if (name == "wide") {
    const double decades = dist_param(dist, "decades");
    require(decades >= 0 && decades <= 60, "generator '" + dist + "': decades must be in [0, 60]");
    Generated<T> g{normal_tensor<T>(xs, rng), normal_tensor<T>(ws, rng)};
    for (auto* t : {&g.x, &g.w})
      for (auto& v : t->data) v = static_cast<T>(v * std::pow(10.0, rng.uniform(-decades / 2, decades / 2)));
    return g;
  }
  throw InputError("generator: unknown distribution '" + dist +
                   "' (normal, uniform, kaiming, integer, gendot:cond=C, wide:decades=D)");
}

}  // namespace

template <class T>
Generated<T> generate_inputs(const ConvSpec& spec, const std::string& dist, std::uint64_t seed) {
  Rng rng(seed);
  if (split_name(dist).first == "gendot") return gendot_inputs<T>(spec, dist_param(dist, "cond"), rng);
  return draw_inputs<T>(spec.x_shape(), spec.w_shape(), static_cast<double>(spec.n_terms()), dist, rng);
}

template <class T>
GeneratedOperands<T> generate_operands(const ConvDesc& d, const std::string& dist, std::uint64_t seed) {
  const std::string name = split_name(dist).first;
  require(name != "gendot", "generator '" + dist +
                                "': gendot builds ill-conditioned outputs of a 2-D forward convolution; use "
                                "normal, uniform, kaiming, integer or wide:decades=D here");
  Rng rng(seed);
  Generated<T> g = draw_inputs<T>(d.x_shape(), d.w_shape(), static_cast<double>(d.n_terms()), dist, rng);
  Tensor<T> dy = name == "uniform"   ? uniform_tensor<T>(d.y_shape(), 1, rng)
                 : name == "integer" ? Tensor<T>(d.y_shape())
                                     : normal_tensor<T>(d.y_shape(), rng);
  if (name == "integer")
    for (auto& v : dy.data) v = static_cast<T>(static_cast<int>(rng.bits() % 7) - 3);
  if (name == "wide") {
    const double decades = dist_param(dist, "decades");
    for (auto& v : dy.data) v = static_cast<T>(v * std::pow(10.0, rng.uniform(-decades / 2, decades / 2)));
  }
  return {std::move(g.x), std::move(g.w), std::move(dy)};
}

template GeneratedOperands<float> generate_operands(const ConvDesc&, const std::string&, std::uint64_t);
template GeneratedOperands<double> generate_operands(const ConvDesc&, const std::string&, std::uint64_t);
template Generated<float> generate_inputs(const ConvSpec&, const std::string&, std::uint64_t);
template Generated<double> generate_inputs(const ConvSpec&, const std::string&, std::uint64_t);

SeedWorkload seed_workload(std::uint64_t seed) {
  SeedWorkload s{parse_benchdnn(kSeedDescriptor), {}, {}};
  Rng rng(seed);
  s.x = normal_tensor<float>(s.spec.x_shape(), rng);
  const double fan_in = static_cast<double>(s.spec.n_terms());
  s.w = uniform_tensor<float>(s.spec.w_shape(), 1.0 / std::sqrt(fan_in), rng);
  return s;
}

template Tensor<float> normal_tensor(std::vector<std::int64_t>, Rng&);
template Tensor<double> normal_tensor(std::vector<std::int64_t>, Rng&);
template Tensor<float> uniform_tensor(std::vector<std::int64_t>, double, Rng&);
template Tensor<double> uniform_tensor(std::vector<std::int64_t>, double, Rng&);

}  // namespace certconv
