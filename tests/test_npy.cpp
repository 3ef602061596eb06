#define BOOST_TEST_MODULE npy
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"

namespace fs = std::filesystem;
using certconv::AnyTensor;
using certconv::InputError;
using certconv::Tensor;

namespace {

const fs::path& tmp_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("certconv_test_npy_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

struct CleanTmp {
  ~CleanTmp() { fs::remove_all(tmp_dir()); }
};
BOOST_TEST_GLOBAL_FIXTURE(CleanTmp);

std::string tmp(const std::string& name) { return (tmp_dir() / name).string(); }

void put(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string get(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A .npy file around an arbitrary header text, padded as numpy pads.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t hlen = dict.size() + 1;
  const std::size_t pad = 64 - (8 + len_size + hlen) % 64;
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < len_size; ++i) out += static_cast<char>(((hlen + pad) >> (8 * i)) & 0xff);
  return out + dict + std::string(pad, ' ') + "\n" + data;
}

template <class T>
std::string le_bytes(const std::vector<T>& v) {
  std::string s(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return s;
}

template <class T>
std::string be_bytes(const std::vector<T>& v) {
  std::string s = le_bytes(v);
  for (std::size_t i = 0; i < s.size(); i += sizeof(T)) std::reverse(s.begin() + i, s.begin() + i + sizeof(T));
  return s;
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Expects read_npy(path) to throw InputError starting with path and containing phrase.
void expect_error(const std::string& path, const std::string& phrase) {
  try {
    certconv::read_npy(path);
    BOOST_ERROR("no InputError for " << path << " (expected '" << phrase << "')");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.rfind(path + ": ", 0) == 0, "message does not start with the path: " << msg);
    BOOST_TEST(msg.find(phrase) != std::string::npos, "'" << phrase << "' not in: " << msg);
  }
}

void expect_bad_file(const std::string& name, const std::string& bytes, const std::string& phrase) {
  const std::string p = tmp(name);
  put(p, bytes);
  expect_error(p, phrase);
}

template <class T>
Tensor<T> sample(std::vector<std::int64_t> shape) {
  Tensor<T> t(std::move(shape));
  const T special[] = {T(-0.0), std::numeric_limits<T>::infinity(), std::numeric_limits<T>::quiet_NaN(),
                       std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(), T(1) / T(3)};
  for (std::size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = i < std::size(special) ? special[i] : T(0.5) * T(i) - T(7);
  return t;
}

template <class T>
void check_round_trip(const std::vector<std::int64_t>& shape) {
  const Tensor<T> t = sample<T>(shape);
  const std::string p = tmp("rt.npy");
  certconv::write_npy(p, t);
  const AnyTensor a = certconv::read_npy(p);
  BOOST_REQUIRE(std::holds_alternative<Tensor<T>>(a));
  const Tensor<T>& r = std::get<Tensor<T>>(a);
  BOOST_TEST(r.shape == t.shape);
  BOOST_TEST(same_bits(r.data, t.data));
  BOOST_TEST(get(p).size() % 64 == (t.data.size() * sizeof(T)) % 64);
}

std::string header(const std::string& h) {  // as numpy pads a 128-byte header
  return h + std::string(128 - 10 - 1 - h.size(), ' ') + "\n";
}

bool numpy_available() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_float_and_double) {
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {5}, {2, 3}, {2, 3, 4}, {1, 3, 7, 7}, {0}, {2, 0, 3}, {3, 0}};
  for (const auto& s : shapes) {
    check_round_trip<float>(s);
    check_round_trip<double>(s);
  }
}

BOOST_AUTO_TEST_CASE(written_bytes_match_numpy) {
  // What numpy 1.24 np.save writes; the 21-digit growth padding is included.
  const std::string p = tmp("layout.npy");
  Tensor<float> f({2, 3});
  for (int i = 0; i < 6; ++i) f.data[static_cast<std::size_t>(i)] = static_cast<float>(i) + 0.5f;
  certconv::write_npy(p, f);
  const std::string want_f = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                             header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(20, ' ')) +
                             le_bytes(f.data);
  BOOST_TEST(get(p) == want_f);

  Tensor<double> d({}, 2.0);
  certconv::write_npy(p, d);
  BOOST_TEST(get(p) == std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                           header("{'descr': '<f8', 'fortran_order': False, 'shape': (), }") +
                           std::string("\0\0\0\0\0\0\0\x40", 8));

  Tensor<float> v({5});
  certconv::write_npy(p, v);
  const std::string got = get(p);
  BOOST_TEST(got.substr(10, 118) ==
             header("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }" + std::string(20, ' ')));
  BOOST_TEST(got.size() == 128u + 20u);

  // numpy's growth padding pushes this header from 128 to 192 bytes.
  certconv::write_npy(p, Tensor<float>(std::vector<std::int64_t>(15, 1)));
  const std::string ones = get(p);
  BOOST_TEST(ones.size() == 192u + 4u);
  BOOST_TEST(ones.substr(8, 2) == std::string("\xb6\x00", 2));
}

BOOST_AUTO_TEST_CASE(huge_header_falls_back_to_version_2) {
  // 30000 axes of length 1 make a header of about 90 kB, beyond version 1.0's 16 bits.
  const Tensor<double> t(std::vector<std::int64_t>(30000, 1), 3.25);
  const std::string p = tmp("v2.npy");
  certconv::write_npy(p, t);
  const std::string bytes = get(p);
  BOOST_TEST(bytes[6] == '\x02');
  BOOST_TEST((bytes.size() - 8) % 64 == 0u);
  BOOST_TEST(bytes[bytes.size() - 9] == '\n');
  const auto r = certconv::read_npy_as<double>(p, "t");
  BOOST_TEST(r.shape == t.shape);
  BOOST_TEST(r.data == t.data);
}

BOOST_AUTO_TEST_CASE(header_syntax_variants_accepted) {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  const std::vector<std::string> dicts = {
      "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}",
      "{'fortran_order':False,'shape':(2,3,),'descr':'<f4'}",
      "  {\n\t'descr' : '<f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 2 , 3 ) ,\n}  ",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (+2, 3)}",
  };
  for (const auto& d : dicts) {
    for (int major : {1, 2, 3}) {
      const std::string p = tmp("variant.npy");
      put(p, npy_file(d, le_bytes(v), major));
      const auto t = certconv::read_npy_as<float>(p, "x");
      BOOST_TEST(t.shape == (std::vector<std::int64_t>{2, 3}), d);
      BOOST_TEST(t.data == v, d);
    }
  }
  const std::string p = tmp("variant.npy");
  put(p, npy_file(dict("<f8", "(6,)"), le_bytes(std::vector<double>{1, 2, 3, 4, 5, 6})));
  BOOST_TEST(certconv::read_npy_as<double>(p, "x").shape == std::vector<std::int64_t>{6});
  put(p, npy_file(dict("<f8", "()"), le_bytes(std::vector<double>{-2.5})));
  const auto s = certconv::read_npy_as<double>(p, "x");
  BOOST_TEST(s.shape.empty());
  BOOST_TEST(s.data == std::vector<double>{-2.5});
}

BOOST_AUTO_TEST_CASE(big_endian_is_byte_swapped) {
  const std::vector<float> f = {1.5f, -2.25f, 3e-40f, 1e30f};
  const std::vector<double> d = {1.5, -2.25, 5e-320, 1e300};
  const std::string p = tmp("be.npy");
  put(p, npy_file(dict(">f4", "(4,)"), be_bytes(f)));
  BOOST_TEST(same_bits(certconv::read_npy_as<float>(p, "x").data, f));
  put(p, npy_file(dict(">f8", "(2, 2)"), be_bytes(d)));
  const auto t = certconv::read_npy_as<double>(p, "x");
  BOOST_TEST(same_bits(t.data, d));
  BOOST_TEST(t.shape == (std::vector<std::int64_t>{2, 2}));
}

BOOST_AUTO_TEST_CASE(fortran_order_converted_to_c_order) {
  const std::string p = tmp("fortran.npy");
  // 2-D (2, 3): element (i, j) = 10 i + j lies at Fortran offset i + 2 j.
  std::vector<double> f2(6);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) f2[static_cast<std::size_t>(i + 2 * j)] = 10 * i + j;
  put(p, npy_file(dict("<f8", "(2, 3)", "True"), le_bytes(f2)));
  BOOST_TEST(certconv::read_npy_as<double>(p, "x").data == (std::vector<double>{0, 1, 2, 10, 11, 12}));

  // 4-D (2, 3, 4, 5): element (a, b, c, d) = 1000a + 100b + 10c + d at offset a + 2(b + 3(c + 4d)).
  std::vector<float> f4(120);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c)
        for (int d = 0; d < 5; ++d)
          f4[static_cast<std::size_t>(a + 2 * (b + 3 * (c + 4 * d)))] = static_cast<float>(1000 * a + 100 * b + 10 * c + d);
  put(p, npy_file(dict(">f4", "(2, 3, 4, 5)", "True"), be_bytes(f4)));
  const auto t = certconv::read_npy_as<float>(p, "x");
  BOOST_TEST(t.shape == (std::vector<std::int64_t>{2, 3, 4, 5}));
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c)
        for (int d = 0; d < 5; ++d) BOOST_TEST(t(a, b, c, d) == static_cast<float>(1000 * a + 100 * b + 10 * c + d));
}

BOOST_AUTO_TEST_CASE(bad_files_rejected_with_named_field) {
  const std::string data24 = le_bytes(std::vector<float>(6, 1.0f));
  const std::string good = npy_file(dict("<f4", "(2, 3)"), data24);

  expect_error(tmp("does_not_exist.npy"), "cannot read file");
  expect_error(tmp_dir().string(), "cannot read file");
  expect_bad_file("magic.npy", "\x93NUMPX" + good.substr(6), "magic");
  expect_bad_file("text.npy", "hello", "magic");
  expect_bad_file("v4.npy", good.substr(0, 6) + "\x04" + good.substr(7), "version 4.0");
  expect_bad_file("v11.npy", good.substr(0, 7) + "\x01" + good.substr(8), "version 1.1");
  expect_bad_file("empty.npy", "", "truncated preamble");
  expect_bad_file("pre.npy", good.substr(0, 9), "truncated preamble");
  expect_bad_file("pre2.npy", npy_file(dict("<f4", "(2, 3)"), data24, 2).substr(0, 11), "truncated preamble");
  expect_bad_file("hdr.npy", good.substr(0, 100), "truncated header");

  expect_bad_file("notdict.npy", npy_file("[1, 2]", ""), "not a valid dict literal");
  expect_bad_file("unclosed.npy", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", data24),
                  "not a valid dict literal");
  expect_bad_file("quote.npy", npy_file("{'descr': \"<f4}", data24),
                  "unterminated string");
  expect_bad_file("comma.npy", npy_file("{'descr': '<f4',, 'fortran_order': False, 'shape': (2, 3)}", data24),
                  "not a valid dict literal");
  expect_bad_file("after.npy", npy_file(dict("<f4", "(2, 3)") + " x", data24), "after the closing '}'");
  expect_bad_file("name.npy", npy_file(dict("<f4", "(2, 3)", "Maybe"), data24), "unknown name 'Maybe'");
  expect_bad_file("nest.npy", npy_file(dict("<f4", std::string(100, '(') + std::string(100, ')')), data24),
                  "nesting too deep");
  expect_bad_file("missing.npy", npy_file("{'descr': '<f4', 'fortran_order': False}", data24), "missing key 'shape'");
  expect_bad_file("unknown.npy", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'foo': 1}", data24),
                  "unknown key 'foo'");
  expect_bad_file("dup.npy", npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", data24),
                  "duplicate key 'descr'");

  expect_bad_file("object.npy", npy_file(dict("|O", "(2, 3)"), data24), "pickled/object arrays");
  expect_bad_file("struct.npy", npy_file("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3,)}", data24),
                  "field 'descr': structured dtypes are not supported");
  expect_bad_file("descr_int.npy", npy_file("{'descr': 4, 'fortran_order': False, 'shape': (2, 3)}", data24), "field 'descr'");
  for (const std::string dt : {"<i4", "<f2", "<c8", "<f16", "=f4", "|u1"})
    expect_bad_file("dtype.npy", npy_file(dict(dt, "(2, 3)"), data24),
                    "unsupported dtype '" + dt + "' (need float32 '<f4' or float64 '<f8')");
  expect_bad_file("fortran.npy", npy_file(dict("<f4", "(2, 3)", "1"), data24), "field 'fortran_order'");

  expect_bad_file("neg.npy", npy_file(dict("<f4", "(-2, -3)"), data24), "field 'shape' has a negative entry -2");
  expect_bad_file("float.npy", npy_file(dict("<f4", "(2.5, 3)"), data24), "field 'shape' has a non-integer entry 2.5");
  expect_bad_file("strdim.npy", npy_file(dict("<f4", "('2', 3)"), data24), "field 'shape' has a non-integer entry");
  expect_bad_file("scalar.npy", npy_file(dict("<f4", "(6)"), data24), "field 'shape' must be a tuple");
  expect_bad_file("list.npy", npy_file(dict("<f4", "[2, 3]"), data24), "field 'shape' must be a tuple");
  expect_bad_file("bigint.npy", npy_file(dict("<f4", "(99999999999999999999, 1)"), data24),
                  "entry 99999999999999999999 is too large");
  expect_bad_file("overflow.npy", npy_file(dict("<f4", "(4294967296, 4294967296, 4294967296)"), data24),
                  "field 'shape' (4294967296, 4294967296, 4294967296) has more elements than fit in 64 bits");
  expect_bad_file("absurd.npy", npy_file(dict("<f8", "(100000, 100000, 100000)"), data24),
                  "shape (100000, 100000, 100000) of '<f8' needs 8000000000000000 data bytes but the file has 24");
  expect_bad_file("short.npy", npy_file(dict("<f4", "(2, 3)"), data24.substr(0, 20)),
                  "needs 24 data bytes but the file has 20 (data section truncated)");
  expect_bad_file("zero.npy", npy_file(dict("<f4", "(2, 0)"), data24), "24 trailing bytes after the data section");
  expect_bad_file("long.npy", good + "abcd", "4 trailing bytes after the data section");
}

BOOST_AUTO_TEST_CASE(read_as_checks_dtype) {
  const std::string p = tmp("as.npy");
  certconv::write_npy(p, Tensor<double>({2}, 1.0));
  BOOST_TEST(certconv::read_npy_as<double>(p, "w").data == (std::vector<double>{1.0, 1.0}));
  try {
    certconv::read_npy_as<float>(p, "x");
    BOOST_ERROR("dtype mismatch not detected");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()) ==
               p + ": tensor 'x' has dtype float64 ('<f8') but float32 ('<f4') is required");
  }
  certconv::write_npy(p, Tensor<float>({2}, 1.0f));
  BOOST_CHECK_THROW(certconv::read_npy_as<double>(p, "w"), InputError);
}

BOOST_AUTO_TEST_CASE(write_rejects_inconsistent_tensor) {
  const std::string p = tmp("inconsistent.npy");
  Tensor<float> t({2, 3});
  t.data.pop_back();
  BOOST_CHECK_THROW(certconv::write_npy(p, t), InputError);
  Tensor<double> neg;
  neg.shape = {-1, 0};
  BOOST_CHECK_THROW(certconv::write_npy(p, neg), InputError);
  BOOST_TEST(!fs::exists(p));
}

BOOST_AUTO_TEST_CASE(every_truncation_rejected) {
  const std::string p = tmp("trunc.npy");
  const std::vector<std::string> files = {
      npy_file(dict("<f4", "(2, 3)"), le_bytes(std::vector<float>(6, 2.0f))),
      npy_file(dict(">f8", "()"), be_bytes(std::vector<double>{2.0}), 3),
  };
  for (const std::string& full : files) {
    put(p, full);
    BOOST_REQUIRE_NO_THROW(certconv::read_npy(p));
    for (std::size_t n = 0; n < full.size(); ++n) {
      put(p, full.substr(0, n));
      BOOST_CHECK_THROW(certconv::read_npy(p), InputError);
    }
  }
}

BOOST_AUTO_TEST_CASE(random_header_corruption_never_crashes) {
  const std::string p = tmp("fuzz.npy");
  const std::string full = npy_file(dict("<f4", "(2, 3)"), le_bytes(std::vector<float>(6, 2.0f)));
  const std::size_t head = full.size() - 24;
  const std::string alphabet = "{}()[]',:\" 0123456789-+.eTrueFalsNn<>|=fiO48\n\t\\";
  std::mt19937 rng(20240611);
  int accepted = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = full;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % head;
      s[at] = rng() % 4 == 0 ? static_cast<char>(rng() & 0xff) : alphabet[rng() % alphabet.size()];
    }
    put(p, s);
    try {
      const AnyTensor a = certconv::read_npy(p);
      std::visit(
          [&](const auto& t) {
            std::int64_t n = 1;
            for (auto d : t.shape) n *= d;
            BOOST_TEST(t.size() == n);
          },
          a);
      ++accepted;
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()).rfind(p + ": ", 0) == 0u);
      ++rejected;
    }
  }
  BOOST_TEST_MESSAGE("fuzz: " << accepted << " accepted, " << rejected << " rejected");
  BOOST_TEST(accepted > 0);
  BOOST_TEST(rejected > 0);
}

BOOST_AUTO_TEST_CASE(atomic_write_failures_leave_nothing) {
  const auto no_temp_files = [](const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) return false;
    return true;
  };
  const std::string missing = tmp("no/such/dir/out.npy");
  try {
    certconv::write_npy(missing, Tensor<float>({2}, 1.0f));
    BOOST_ERROR("write into a missing directory succeeded");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).rfind(missing + ": cannot write output: ", 0) == 0u, e.what());
  }
  BOOST_TEST(no_temp_files(tmp_dir()));

  // The temp file gets written, then rename over a non-empty directory fails.
  const fs::path dir = tmp_dir() / "occupied";
  fs::create_directories(dir / "inside");
  try {
    certconv::write_file_atomic(dir.string(), "data");
    BOOST_ERROR("rename over a directory succeeded");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).rfind(dir.string() + ": cannot write output: ", 0) == 0u, e.what());
  }
  BOOST_TEST(no_temp_files(tmp_dir()));
  BOOST_TEST(fs::is_directory(dir / "inside"));

  if (::geteuid() != 0) {  // root ignores permissions
    const fs::path ro = tmp_dir() / "readonly";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    BOOST_CHECK_THROW(certconv::write_file_atomic((ro / "x").string(), "data"), InputError);
    fs::permissions(ro, fs::perms::owner_all);
    BOOST_TEST(fs::is_empty(ro));
  }

  const std::string p = tmp("overwrite.bin");
  certconv::write_file_atomic(p, std::string(1000, 'a'));
  certconv::write_file_atomic(p, "short");
  BOOST_TEST(get(p) == "short");
  certconv::write_file_atomic(p, "");
  BOOST_TEST(fs::file_size(p) == 0u);
  BOOST_TEST(no_temp_files(tmp_dir()));
}

BOOST_AUTO_TEST_CASE(numpy_interoperability) {
  if (!numpy_available()) {
    BOOST_TEST_MESSAGE("numpy not importable by /usr/bin/python3; skipping interoperability check");
    return;
  }
  const std::string d = tmp_dir().string();
  // Values are exact in float32, so both sides compute them identically.
  put(tmp("save.py"),
      "import sys, numpy as np\n"
      "d = sys.argv[1]\n"
      "np.save(d + '/np_f4.npy', (np.arange(24) * 0.375 - 4).reshape(2, 3, 4).astype('<f4'))\n"
      "np.save(d + '/np_be8.npy', (np.arange(15) * 0.375 - 4).reshape(3, 5).astype('>f8'))\n"
      "np.save(d + '/np_fortran.npy', np.asfortranarray((np.arange(120) * 0.375 - 4).reshape(2, 3, 4, 5).astype('<f4')))\n");
  BOOST_REQUIRE(std::system(("/usr/bin/python3 " + tmp("save.py") + " " + d).c_str()) == 0);
  const auto value = [](std::int64_t i) { return static_cast<double>(i) * 0.375 - 4; };

  const auto f4 = certconv::read_npy_as<float>(tmp("np_f4.npy"), "a");
  BOOST_TEST(f4.shape == (std::vector<std::int64_t>{2, 3, 4}));
  for (std::int64_t i = 0; i < 24; ++i) BOOST_TEST(f4.data[static_cast<std::size_t>(i)] == value(i));
  const auto be8 = certconv::read_npy_as<double>(tmp("np_be8.npy"), "b");
  BOOST_TEST(be8.shape == (std::vector<std::int64_t>{3, 5}));
  for (std::int64_t i = 0; i < 15; ++i) BOOST_TEST(be8.data[static_cast<std::size_t>(i)] == value(i));
  const auto fo = certconv::read_npy_as<float>(tmp("np_fortran.npy"), "c");
  BOOST_TEST(fo.shape == (std::vector<std::int64_t>{2, 3, 4, 5}));
  for (std::int64_t i = 0; i < 120; ++i) BOOST_TEST(fo.data[static_cast<std::size_t>(i)] == value(i));

  // numpy loads what we write, and writes byte-identical files for the same arrays.
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {7}, {2, 3, 4}, {1, 3, 5, 5}, {2, 0, 3},
                                                         std::vector<std::int64_t>(15, 1)};
  std::string check = "import sys, numpy as np\nd = sys.argv[1]\n";
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    for (const bool dbl : {false, true}) {
      const std::string name = "cc_" + std::to_string(k) + (dbl ? "_f8" : "_f4");
      std::int64_t n = 1;
      std::string shape = "(";
      for (auto s : shapes[k]) {
        n *= s;
        shape += std::to_string(s) + ",";
      }
      shape += ")";
      if (dbl) {
        Tensor<double> t(shapes[k]);
        for (std::int64_t i = 0; i < n; ++i) t.data[static_cast<std::size_t>(i)] = value(i);
        certconv::write_npy(tmp(name + ".npy"), t);
      } else {
        Tensor<float> t(shapes[k]);
        for (std::int64_t i = 0; i < n; ++i) t.data[static_cast<std::size_t>(i)] = static_cast<float>(value(i));
        certconv::write_npy(tmp(name + ".npy"), t);
      }
      const std::string want = "(np.arange(" + std::to_string(n) + ") * 0.375 - 4).reshape(" + shape + ").astype('" +
                               (dbl ? "<f8" : "<f4") + "')";
      check += "a = np.load(d + '/" + name + ".npy')\n"
               "w = " + want + "\n"
               "assert a.dtype == w.dtype and a.shape == w.shape and (a == w).all(), '" + name + "'\n"
               "np.save(d + '/" + name + "_np.npy', w)\n"
               "assert open(d + '/" + name + ".npy', 'rb').read() == open(d + '/" + name + "_np.npy', 'rb').read(), '" +
               name + " bytes'\n";
    }
  }
  put(tmp("check.py"), check);
  BOOST_TEST(std::system(("/usr/bin/python3 " + tmp("check.py") + " " + d).c_str()) == 0);
}

// float16 files where the caller accepts them: every binary16 value (normal,
// subnormal, zeros, infinities) widened exactly, both byte orders.
BOOST_AUTO_TEST_CASE(float16_files_widen_exactly_where_accepted) {
  std::string le, be;
  std::vector<double> want;
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    if (((bits >> 10) & 0x1f) == 0x1f && (bits & 0x3ff)) continue;  // NaNs: not compared
    le += static_cast<char>(bits & 0xff);
    le += static_cast<char>(bits >> 8);
    be += static_cast<char>(bits >> 8);
    be += static_cast<char>(bits & 0xff);
    const int e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
    const double mag = e == 0x1f ? HUGE_VAL : e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
    want.push_back(bits & 0x8000 ? -mag : mag);
  }
  std::string shape = "(";  // appended: GCC 12 warns falsely (-Wrestrict) on "(" + ...
  shape += std::to_string(want.size());
  shape += ",)";
  for (const auto& [descr, data] : {std::pair{"<f2", le}, std::pair{">f2", be}}) {
    const std::string p = tmp("half.npy");
    put(p, npy_file(dict(descr, shape), data));
    bool was_half = false;
    const certconv::AnyTensor t = certconv::read_npy(p, true, &was_half);
    BOOST_TEST(was_half);
    const auto& f = std::get<Tensor<float>>(t);
    BOOST_TEST_REQUIRE(f.data.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) BOOST_TEST_REQUIRE(double(f.data[i]) == want[i], descr << " #" << i);
    BOOST_CHECK_EXCEPTION(certconv::read_npy(p), certconv::InputError, [](const certconv::InputError& e) {
      return std::string(e.what()).find("unsupported dtype '") != std::string::npos;
    });
  }
}
