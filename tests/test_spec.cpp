#define BOOST_TEST_MODULE spec
#include <boost/test/unit_test.hpp>

#include "certconv/core/error.hpp"
#include "certconv/core/spec.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <unistd.h>

namespace certconv {
// Failed comparisons print specs as descriptors.
std::ostream& boost_test_print_type(std::ostream& os, const ConvSpec& s) { return os << to_benchdnn(s); }
}  // namespace certconv

using certconv::ConvSpec;
using certconv::InputError;
namespace fs = std::filesystem;

namespace {

// The repository's copy of the shared benchdnn shape files (data/shapes, names
// without the `shapes_` prefix), and the shared set itself where it is present.
fs::path shapes_dir() {
  const char* env = std::getenv("CERTCONV_SOURCE_ROOT");
  return fs::path(env ? env : ".") / "data" / "shapes";
}
fs::path shared_shapes_dir() {
  const char* env = std::getenv("CERTCONV_SHARED_DATA");
  return fs::path(env ? env : "/work/shared/data") / "benchdnn-shapes";
}

// The InputError message of f(), or "" when it does not throw.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ConvSpec conv1() {
  ConvSpec s;
  s.g = 1, s.mb = 50, s.ic = 3, s.ih = 224, s.iw = 224, s.oc = 64, s.oh = 112, s.ow = 112;
  s.kh = 7, s.kw = 7, s.sh = 2, s.sw = 2, s.ph = 3, s.pw = 3, s.dh = 0, s.dw = 0;
  s.name = "resnet_50:conv1";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(readme_examples) {
  const ConvSpec a = certconv::parse_benchdnn("g1mb50ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3n\"resnet_50:conv1\"");
  BOOST_TEST(a == conv1());
  BOOST_TEST(a.pad_bottom() == 2);

  const ConvSpec b = certconv::parse_benchdnn("mb50ic64ih56oc64oh56kh3ph1n\"resnet_50:res2a_branch2b*3\"");
  BOOST_TEST(b.name == "resnet_50:res2a_branch2b*3");
  BOOST_TEST(b.g == 1);
  BOOST_TEST(b.mb == 50);
  BOOST_TEST(b.ic == 64);
  BOOST_TEST(b.oc == 64);
  BOOST_TEST((b.ih == 56 && b.iw == 56 && b.oh == 56 && b.ow == 56));
  BOOST_TEST((b.kh == 3 && b.kw == 3 && b.sh == 1 && b.sw == 1 && b.ph == 1 && b.pw == 1 && b.dh == 0 && b.dw == 0));
}

BOOST_AUTO_TEST_CASE(seed_layer_defaults_and_override) {
  ConvSpec want = conv1();
  want.mb = 1;
  want.name.clear();
  BOOST_TEST(certconv::parse_benchdnn("mb1ic3ih224oc64oh112kh7sh2ph3") == want);

  want.mb = 2;  // benchdnn's default minibatch
  BOOST_TEST(certconv::parse_benchdnn("ic3ih224oc64oh112kh7sh2ph3") == want);
  want.mb = 7;
  BOOST_TEST(certconv::parse_benchdnn("mb1ic3ih224oc64oh112kh7sh2ph3", 7) == want);
  BOOST_TEST(certconv::parse_benchdnn("ic3ih224oc64oh112kh7sh2ph3", 7) == want);
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("mb1ic3ih224oc64kh7", 0); }), "mb=0"));

  // Underscores are ignored; an unquoted name runs to the end.
  const ConvSpec u = certconv::parse_benchdnn("mb1_ic3_ih224_oc64_oh112_kh7_sh2_ph3_nseed layer*2");
  BOOST_TEST(u.name == "seed layer*2");
  BOOST_TEST(u.oh == 112);
}

BOOST_AUTO_TEST_CASE(benchdnn_deductions) {
  // oh absent: floor((ih + 2ph - ((kh-1)(dh+1)+1))/sh) + 1.
  const ConvSpec a = certconv::parse_benchdnn("mb1ic16oc16_ih10kh5_ph7sh1");
  BOOST_TEST(a.oh == 20);
  BOOST_TEST(a.ow == 20);
  const ConvSpec d = certconv::parse_benchdnn("ic4ih8oc6kh3sh2ph1dh1");
  BOOST_TEST(d.oh == 3);
  // ph absent, oh given: benchdnn's ((oh-1)sh - ih + ext)/2, truncated.
  const ConvSpec b = certconv::parse_benchdnn("mb1ic3ih224oc64oh112kh7sh2");
  BOOST_TEST(b.ph == 2);
  BOOST_TEST(b.pad_bottom() == 3);
  BOOST_TEST(certconv::parse_benchdnn("ic256oc512_ih56oh28kh1sh2").ph == 0);
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("ic1oc1ih56oh20kh1sh2"); }), "ph deduced from oh=20"));
  // Once w is described it stands alone: sw and dw default, not copied from h.
  const ConvSpec c = certconv::parse_benchdnn("ic1oc1ih10iw12kh3kw1sh2dh1");
  BOOST_TEST((c.sh == 2 && c.sw == 1 && c.dh == 1 && c.dw == 0 && c.oh == 3 && c.ow == 12));
  const std::string e = error_of([] { certconv::parse_benchdnn("ic1oc1ih10iw12kh3"); });
  BOOST_TEST(contains(e, "kw is missing"));
  BOOST_TEST(contains(e, "\"ic1oc1ih10iw12kh3\""));
}

BOOST_AUTO_TEST_CASE(to_benchdnn_canonical_form) {
  ConvSpec s = conv1();
  s.mb = 1;
  s.name = "name";
  BOOST_TEST(certconv::to_benchdnn(s) == "g1mb1ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3dh0dw0n\"name\"");
  s.name.clear();
  BOOST_TEST(certconv::to_benchdnn(s) == "g1mb1ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3dh0dw0");
  s.name = "odd \"name\" # with_n*3";
  BOOST_TEST(certconv::parse_benchdnn(certconv::to_benchdnn(s)) == s);
}

BOOST_AUTO_TEST_CASE(every_shapes_file_parses_validates_and_round_trips) {
  // 2-D lines per file, counted by hand (oneDNN v2.6.3 inputs).
  std::map<std::string, std::size_t> expected = {
      {"1x1", 22},          {"alexnet", 5},        {"basic", 18},
      {"dilated", 27},      {"googlenet_v1", 51},  {"large_padding", 3},
      {"mobilenet", 11},    {"mobilenet_dw", 9},   {"regression_padding", 19},
      {"resnet_50", 20},    {"tails", 50},         {"unet", 13},
      {"vgg_11", 10},       {"vgg_19", 9},         {"yolov2", 14}};
  for (const auto& entry : fs::directory_iterator(shapes_dir())) {
    const std::string file = entry.path().filename().string();
    if (file == "README.md") continue;
    const auto specs = certconv::read_shapes_file(entry.path().string(), {}, true);
    BOOST_TEST_MESSAGE(file << ": " << specs.size() << " 2-D problems");
    BOOST_TEST(!specs.empty(), file);
    BOOST_TEST(specs.size() == expected[file], file);
    expected.erase(file);
    for (const ConvSpec& s : specs) {
      BOOST_TEST(certconv::parse_benchdnn(certconv::to_benchdnn(s)) == s, certconv::to_benchdnn(s));
      ConvSpec again = s;
      BOOST_CHECK_NO_THROW(certconv::validate(again));
      BOOST_TEST((again == s));
    }
  }
  BOOST_TEST(expected.empty(), "shapes files missing from " << shapes_dir());

  // The copies are byte for byte the shared set's (where this machine has it).
  if (fs::is_directory(shared_shapes_dir())) {
    auto slurp = [](const fs::path& f) {
      std::ifstream in(f, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    for (const auto& entry : fs::directory_iterator(shared_shapes_dir())) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("shapes_", 0) != 0) continue;
      BOOST_TEST(slurp(entry.path()) == slurp(shapes_dir() / file.substr(7)), file);
    }
  } else {
    BOOST_TEST_MESSAGE("no shared set at " << shared_shapes_dir() << ": copies not compared");
  }

  // 6 lines: iw-only (1-D), three 2-D, iw-only, id (3-D).
  const std::string large = (shapes_dir() / "large_padding").string();
  const auto specs = certconv::read_shapes_file(large, 3, true);
  BOOST_TEST(specs.size() == 3u);
  BOOST_TEST(specs[0].mb == 3);
  BOOST_TEST(specs[2].pad_bottom() == 36);  // ic2oc64ih30oh37kh14ph10sh1dh2
  const std::string e = error_of([&] { certconv::read_shapes_file(large); });
  BOOST_TEST(contains(e, large + ":1: 1-D convolution descriptors are not supported"));
}

BOOST_AUTO_TEST_CASE(non_2d_descriptors_are_rejected) {
  const std::string one = error_of([] { certconv::parse_benchdnn("g1ic3oc16_iw5ow5kw3pw1_n\"1d_conv:1st\""); });
  BOOST_TEST(contains(one, "1-D convolution descriptors are not supported"));
  BOOST_TEST(contains(one, "iw5ow5kw3pw1"));
  const std::string three = error_of([] { certconv::parse_benchdnn("ic3oc64id28od36kd3pd5sd1dd0"); });
  BOOST_TEST(contains(three, "3-D convolution descriptors are not supported"));
  BOOST_TEST(contains(three, "id describes a depth dimension"));
  // Depth described only by a stride or a padding, as benchdnn decides it.
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("ic3oc6ih8kh3sd2"); }), "3-D"));
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("ic3oc6ih8kh3pd1"); }), "3-D"));
  BOOST_TEST(certconv::parse_benchdnn("ic3oc6ih8kh3sd1pd0dd0id0").oh == 6);
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("ic3oc6"); }), "no spatial sizes"));
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_field_and_quote_the_descriptor) {
  const auto check = [](const std::string& desc, const std::string& part) {
    const std::string e = error_of([&] { certconv::parse_benchdnn(desc); });
    BOOST_TEST(contains(e, part), desc << " -> " << e);
    BOOST_TEST(contains(e, "\"" + desc + "\""), desc << " -> " << e);
  };
  check("mb1ic3ih224oc64xy3kh7", "unknown field 'xy'");
  check("mb1ic3ih224 oc64kh7", "unexpected character ' '");
  check("mb1icih224oc64kh7", "ic has no number");
  check("mb1ic3ih224oc64kh", "kh has no number");
  check("mb1ic-3ih224oc64kh7", "ic is negative");
  check("mb1ic3ih224oc64kh7ic4", "ic is given twice");
  check("mb1ic3ih99999999999999999999oc64kh7", "ih does not fit in 64 bits");
  check("mb1ic3ih224oc64kh7n\"conv1", "missing closing quote");
  check("mb1ic3ih224oc64kh7n", "not followed by a name");
  check("mb1ic3ih224oc64kh7oh0", "oh=0 must be >= 1");
  check("mb1ic3oc64kh7", "ih is missing");
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn(""); }), "empty"));
}

BOOST_AUTO_TEST_CASE(validation_errors_name_the_field) {
  const auto check = [](void (*edit)(ConvSpec&), const std::string& part) {
    ConvSpec s = conv1();
    edit(s);
    const std::string e = error_of([&] { certconv::validate(s); });
    BOOST_TEST(contains(e, part), part << " -> " << e);
  };
  check([](ConvSpec& s) { s.g = 0; }, "g=0 must be >= 1");
  check([](ConvSpec& s) { s.mb = 0; }, "mb=0 must be >= 1");
  check([](ConvSpec& s) { s.ic = 0; }, "ic=0 must be >= 1");
  check([](ConvSpec& s) { s.ih = 0; }, "ih=0 must be >= 1");
  check([](ConvSpec& s) { s.iw = -1; }, "iw=-1 must be >= 1");
  check([](ConvSpec& s) { s.oc = 0; }, "oc=0 must be >= 1");
  check([](ConvSpec& s) { s.kh = 0; }, "kh=0 must be >= 1");
  check([](ConvSpec& s) { s.kw = 0; }, "kw=0 must be >= 1");
  check([](ConvSpec& s) { s.sh = 0; }, "sh=0 must be >= 1");
  check([](ConvSpec& s) { s.sw = 0; }, "sw=0 must be >= 1");
  check([](ConvSpec& s) { s.ph = -1; }, "ph=-1 must be >= 0");
  check([](ConvSpec& s) { s.pw = -1; }, "pw=-1 must be >= 0");
  check([](ConvSpec& s) { s.dh = -1; }, "dh=-1 must be >= 0");
  check([](ConvSpec& s) { s.dw = -1; }, "dw=-1 must be >= 0");
  check([](ConvSpec& s) { s.oh = -1; }, "oh=-1 must be >= 0");
  check([](ConvSpec& s) { s.ic = 10, s.g = 3; }, "ic=10 is not divisible by g=3");
  check([](ConvSpec& s) { s.ic = 6, s.g = 3, s.oc = 10; }, "oc=10 is not divisible by g=3");
  // (7-1)*(2+1)+1 = 19 > 8 + 2*3.
  check([](ConvSpec& s) { s.ih = 8, s.dh = 2, s.oh = 0; }, "kh-1)*(dh+1)+1 = 19 is larger than the padded input height ih+2*ph = 14");
  check([](ConvSpec& s) { s.iw = 8, s.dw = 2, s.ow = 0; }, "kw-1)*(dw+1)+1 = 19 is larger than the padded input width iw+2*pw = 14");
  check([](ConvSpec& s) { s.oh = 115; }, "oh=115 is too large");
  check([](ConvSpec& s) { s.ow = 115; }, "ow=115 is too large");
  check([](ConvSpec& s) { s.oh = 110; }, "oh=110 is too small");
  check([](ConvSpec& s) { s.ow = 110; }, "ow=110 is too small");

  // The edges of the oh rule, -sh < pad_bottom <= max(ph, effective kernel - 1).
  for (const std::int64_t oh : {111, 112, 113, 114}) {
    ConvSpec s = conv1();
    s.oh = oh;
    BOOST_CHECK_NO_THROW(certconv::validate(s));
  }
  // Stride 1 (shapes_tails, ih13kh3ph0): end padding 2 = kh-1 is the last accepted.
  BOOST_TEST(certconv::parse_benchdnn("ic1oc1ih13oh13kh3ph0").pad_bottom() == 2);
  BOOST_TEST(contains(error_of([] { certconv::parse_benchdnn("ic1oc1ih13oh14kh3ph0"); }), "oh=14 is too large"));

  ConvSpec filled = conv1();
  filled.oh = filled.ow = 0;
  certconv::validate(filled);
  BOOST_TEST(filled == conv1());
}

BOOST_AUTO_TEST_CASE(from_pytorch_matches_benchdnn) {
  BOOST_TEST(certconv::from_pytorch(50, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1) ==
             certconv::parse_benchdnn("g1mb50ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3"));
  // PyTorch dilation 2 is benchdnn dh1 (shapes_dilated, dilated_conv:1).
  const ConvSpec d = certconv::from_pytorch(20, 4, 8, 8, 6, 3, 3, 2, 2, 1, 1, 2, 2, 1);
  BOOST_TEST(d == certconv::parse_benchdnn("mb20ic4ih8oc6oh3kh3sh2ph1dh1"));
  BOOST_TEST(d.dh == 1);
  BOOST_TEST(d.oh == 3);
  BOOST_TEST(contains(error_of([] { certconv::from_pytorch(1, 3, 8, 8, 4, 3, 3, 1, 1, 0, 0, 0, 1, 1); }),
                      "dilation_h=0"));
}

BOOST_AUTO_TEST_CASE(overflowing_sizes_are_rejected) {
  const auto check = [](const std::string& desc, const std::string& part) {
    const std::string e = error_of([&] { certconv::parse_benchdnn(desc); });
    BOOST_TEST(contains(e, "sizes overflow 64 bits: " + part), desc << " -> " << e);
  };
  check("mb1048576ic1048576ih4096oc1kh1", "x_size");
  check("mb1ic1048576ih1oc17592186044416kh1", "w_size");
  check("mb1ic4294967296ih1iw1oc1kh4294967296kw1ph2147483648", "n_terms");
  check("mb1048576ic1ih1048576oc1048576kh1", "y_size");
  // Every size fits, the work mb*oc*oh*ow*n_terms does not.
  check("mb1ic16777216ih1024oc1048576kh1", "mb*oc*oh*ow*n_terms");
  check("mb1ic1ih9223372036854775807oc1kh2ph9223372036854775807", "height geometry");
}

BOOST_AUTO_TEST_CASE(shapes_file_comments_and_line_numbers) {
  const fs::path path = fs::temp_directory_path() / ("certconv_test_spec_" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "# header\n\n  mb1ic3ih224oc64oh112kh7sh2ph3 # seed\n"
        << "ic4ih8oc6kh3n\"a#b\"\t\r\n"
        << "ic4ih8oc6kh3ic5\n";
  }
  const std::string e = error_of([&] { certconv::read_shapes_file(path.string()); });
  BOOST_TEST(contains(e, path.string() + ":5: ic is given twice"));
  {
    std::ofstream out(path);
    out << "# header\n\n  mb1ic3ih224oc64oh112kh7sh2ph3 # seed\n"
        << "ic4ih8oc6kh3n\"a#b\"\t\r\n";
  }
  const auto specs = certconv::read_shapes_file(path.string(), 5);
  fs::remove(path);
  BOOST_TEST(specs.size() == 2u);
  BOOST_TEST(specs[0].oh == 112);
  BOOST_TEST(specs[0].mb == 5);
  BOOST_TEST(specs[1].name == "a#b");
  BOOST_TEST(contains(error_of([] { certconv::read_shapes_file("/nonexistent/shapes_x"); }),
                      "cannot open shapes file '/nonexistent/shapes_x'"));
}
