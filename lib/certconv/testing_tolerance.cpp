// The tolerances of testing.hpp: builders, their text form and its parser.
#include <charconv>
#include <cmath>

#include "certconv/core/error.hpp"
#include "certconv/core/key_values.hpp"
#include "certconv/core/text.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/testing.hpp"

namespace certconv {

Tolerance rigorous(std::string order) {
  Tolerance t;
  t.kind = Tolerance::Kind::order;
  t.order = std::move(order);
  return t;
}

Tolerance rigorous_any_order(std::optional<Dtype> dtype, InputFormat input) {
  Tolerance t;
  t.kind = Tolerance::Kind::any_order;
  t.dtype = dtype;
  t.input = input;
  return t;
}

Tolerance probabilistic(double lambda) {
  Tolerance t;
  t.kind = Tolerance::Kind::probabilistic;
  t.lambda = lambda;
  return t;
}

std::string Tolerance::str() const {
  std::string params;
  const auto add = [&](const std::string& kv) { params += (params.empty() ? ":" : ",") + kv; };
  if (dtype) add(std::string("dtype=") + dtype_name(*dtype));
  switch (kind) {
    case Kind::order:
      return order + (dtype ? std::string(" in ") + dtype_name(*dtype) : "");
    case Kind::any_order:
      if (input != InputFormat::f32) add(std::string("input=") + input_format_name(input));
      if (output != InputFormat::f32) add(std::string("output=") + input_format_name(output));
      if (ftz) add("ftz=1");
      return "any-order" + params;
    case Kind::probabilistic:
      add("lambda=" + number_text(lambda, 17));
      if (output != InputFormat::f32) add(std::string("output=") + input_format_name(output));
      return "probabilistic" + params;
  }
  return order;
}

Tolerance parse_tolerance(std::string_view text) {
  const auto [head, list] = split_name(text);
  if (head != "any-order" && head != "probabilistic") {
    try {
      parse_order(text);
    } catch (const InputError& e) {
      throw InputError("tolerance '" + std::string(text) + "' is not any-order, probabilistic or an order: " +
                       e.what());
    }
    return rigorous(std::string(text));
  }
  Tolerance t = head == "any-order" ? rigorous_any_order() : probabilistic();
  require(!list || !list->empty(), "tolerance '" + head + "': empty parameter list after ':'");
  for (const KeyValue& kv : split_key_values(list.value_or(""))) {
    const std::string &key = kv.key, &value = kv.value;
    const std::string where = "tolerance '" + head + "': parameter '" + kv.item + "'";
    if (key == "dtype") {
      require(value == "f32" || value == "f64", where + ": dtype must be f32 or f64");
      t.dtype = value == "f32" ? Dtype::f32 : Dtype::f64;
    } else if (key == "input" && t.kind == Tolerance::Kind::any_order) {
      t.input = parse_input_format(value);
    } else if (key == "output") {
      require(value == "bf16" || value == "fp16" || value == "f32", where + ": output must be bf16, fp16 or f32");
      t.output = parse_input_format(value);
    } else if (key == "ftz" && t.kind == Tolerance::Kind::any_order) {
      require(value == "0" || value == "1", where + ": ftz must be 0 or 1");
      t.ftz = value == "1";
    } else if (key == "lambda" && t.kind == Tolerance::Kind::probabilistic) {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t.lambda);
      require(!value.empty() && ec == std::errc() && end == value.data() + value.size() && t.lambda > 0 &&
                  std::isfinite(t.lambda),
              where + ": lambda must be a positive number");
    } else {
      throw InputError(where + " is unknown (known: dtype, " +
                       (t.kind == Tolerance::Kind::any_order ? "input, output, ftz" : "lambda, output") + ")");
    }
  }
  require(t.output == InputFormat::f32 || t.dtype.value_or(Dtype::f32) == Dtype::f32,
          "tolerance '" + std::string(text) + "': output=" + input_format_name(t.output) +
              " rounds a float32 accumulation; dtype must be f32");
  return t;
}

}  // namespace certconv
