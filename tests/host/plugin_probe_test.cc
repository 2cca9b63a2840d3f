// The plugin probe (plugins/plugin_probe.h) through PluginLoader: a library whose load crashes,
// exits or hangs, in a static constructor or in petit_plugin_init, is refused with one line naming
// what happened, and the good libraries beside it still load. The probe runs the real petit binary;
// this test binary never starts copies of itself.
#include "plugins/plugin_probe.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugins/plugin_loader.h"

namespace petit::host {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kPetit = std::string(PETIT_BINARY_DIR) + "/bin/petit";
const fs::path kFixtures = PETIT_FIXTURE_PLUGIN_DIR;
const fs::path kLoadFaults = kFixtures / "load_faults";
// Short, so the hanging fixtures cost little; only they ever reach it.
constexpr std::chrono::milliseconds kShortLimit{300};

PluginProbeOptions Probe(std::string executable,
                         std::chrono::milliseconds time_limit = kPluginProbeTimeLimit,
                         fs::path trusted_dir = {}) {
  PluginProbeOptions options;
  options.executable = std::move(executable);
  options.time_limit = time_limit;
  options.trusted_dir = std::move(trusted_dir);
  return options;
}

std::vector<std::string> PluginNames(const PluginLoadResult& result) {
  std::vector<std::string> names;
  for (const auto& plugin : result.plugins) names.push_back(plugin->name());
  return names;
}

// file -> the one error naming it.
std::map<std::string, std::string> ErrorsByFile(const PluginLoadResult& result) {
  std::map<std::string, std::string> errors;
  for (const Status& error : result.errors) {
    const std::string& text = error.message();
    const size_t start = text.find('/');
    const size_t end = text.find(".so", start);
    if (start == std::string::npos || end == std::string::npos) {
      ADD_FAILURE() << "an error that names no library: " << text;
      continue;
    }
    errors[fs::path(text.substr(start, end + 3 - start)).filename().string()] = text;
  }
  return errors;
}

class PluginProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A sanitizer build of the probe must die of the signal a release build dies of.
    setenv("ASAN_OPTIONS", "detect_leaks=1:handle_segv=0", 1);
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petit-plugin-probe-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Copies fixture libraries into this test's directory, so one directory holds good and bad.
  void Add(const fs::path& library) { fs::copy_file(library, dir_ / library.filename()); }

  fs::path dir_;
};

TEST_F(PluginProbeTest, ALoadThatEndsItsProcessIsRefusedWithWhatHappenedAndTheRestLoad) {
  for (const char* place : {"ctor", "init"}) {
    for (const char* fault : {"segv", "exit0", "abort"}) {
      Add(kLoadFaults / (std::string(place) + "_" + fault + ".so"));
    }
  }
  Add(kFixtures / "good_c.so");
  Add(kFixtures / "init_refuses.so");
  Add(kFixtures / "wrong_major.so");

  PluginLoader loader("9.9.9");
  loader.SetProbe(Probe(kPetit));
  loader.LoadDirectory(dir_, PluginLoader::MissingDirectory::kError);

  EXPECT_THAT(PluginNames(loader.result()), ElementsAre("good_c"));
  const std::map<std::string, std::string> errors = ErrorsByFile(loader.result());
  auto path = [&](const std::string& name) { return (dir_ / name).string(); };
  const std::map<std::string, std::string> reasons = {
      {"ctor_segv.so", "crashed while loading: SIGSEGV"},
      {"init_segv.so", "crashed while loading: SIGSEGV"},
      {"ctor_abort.so", "crashed while loading: SIGABRT"},
      {"init_abort.so", "crashed while loading: SIGABRT"},
      {"ctor_exit0.so", "exited with status 0 while loading"},
      {"init_exit0.so", "exited with status 0 while loading"},
  };
  for (const auto& [file, reason] : reasons) {
    ASSERT_EQ(errors.count(file), 1u) << file;
    EXPECT_EQ(errors.at(file), "plugin " + path(file) + " " + reason);
  }
  // A normal refusal reads as it does without a probe, with the same code.
  for (const char* file : {"init_refuses.so", "wrong_major.so"}) {
    PluginLoader direct("9.9.9");
    direct.LoadFile(path(file));
    ASSERT_EQ(direct.result().errors.size(), 1u);
    ASSERT_EQ(errors.count(file), 1u) << file;
    EXPECT_EQ(errors.at(file), direct.result().errors.front().message());
  }
  EXPECT_EQ(loader.result().errors.size(), reasons.size() + 2);
  for (const Status& error : loader.result().errors) {
    EXPECT_EQ(error.message().find('\n'), std::string::npos) << error.message();
  }

  // The refusals keep their codes, as the loader would have given them.
  for (const Status& error : loader.result().errors) {
    if (error.message().find("init_refuses") != std::string::npos) {
      EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition);
    }
  }
}

TEST_F(PluginProbeTest, ALoadThatNeverEndsIsKilledAtTheTimeLimitAndTheRestLoad) {
  Add(kLoadFaults / "ctor_hang.so");
  Add(kLoadFaults / "init_hang.so");
  Add(kFixtures / "good_c.so");

  // The good library gets the default limit, so a slow start of a sanitizer build cannot fail it.
  PluginLoader loader("9.9.9");
  loader.SetProbe(Probe(kPetit, kShortLimit));
  loader.LoadFile(dir_ / "ctor_hang.so");
  loader.LoadFile(dir_ / "init_hang.so");
  loader.SetProbe(Probe(kPetit));
  loader.LoadFile(dir_ / "good_c.so");

  EXPECT_THAT(PluginNames(loader.result()), ElementsAre("good_c"));
  std::vector<std::string> messages;
  for (const Status& error : loader.result().errors) messages.push_back(error.message());
  EXPECT_THAT(messages, ElementsAre("plugin " + (dir_ / "ctor_hang.so").string() +
                                        " did not finish loading within 300 ms",
                                    "plugin " + (dir_ / "init_hang.so").string() +
                                        " did not finish loading within 300 ms"));
}

// Libraries in the trusted (bundled) directory load without a child: with an executable that
// cannot start, they still load, and a library elsewhere is refused because its probe failed.
TEST_F(PluginProbeTest, OnlyLibrariesOutsideTheTrustedDirectoryAreProbed) {
  Add(kFixtures / "good_c.so");
  PluginLoader loader("9.9.9");
  loader.SetProbe(Probe((dir_ / "no-such-petit").string(), kPluginProbeTimeLimit, kFixtures));
  loader.LoadFile(kFixtures / "good_c.so");
  EXPECT_THAT(PluginNames(loader.result()), ElementsAre("good_c"));
  EXPECT_TRUE(loader.result().errors.empty());

  PluginLoader elsewhere("9.9.9");
  elsewhere.SetProbe(Probe((dir_ / "no-such-petit").string(), kPluginProbeTimeLimit, kFixtures));
  elsewhere.LoadFile(dir_ / "good_c.so");
  EXPECT_TRUE(elsewhere.result().plugins.empty());
  ASSERT_EQ(elsewhere.result().errors.size(), 1u);
  EXPECT_THAT(elsewhere.result().errors.front().message(),
              HasSubstr("cannot start a probe process"));
}

// A library the probe loaded cleanly is then loaded by the host itself, once more: the probe's
// success is the marker, and it does not stand in for the host's own checks.
TEST_F(PluginProbeTest, ASuccessfulProbeStillLeavesTheHostsOwnChecks) {
  Add(kFixtures / "good_c.so");
  fs::create_directories(dir_ / "again");
  fs::copy_file(kFixtures / "good_c.so", dir_ / "again" / "good_c.so");
  PluginLoader loader("9.9.9");
  loader.SetProbe(Probe(kPetit));
  loader.LoadFile(dir_ / "good_c.so");
  loader.LoadFile(dir_ / "again" / "good_c.so");
  EXPECT_THAT(PluginNames(loader.result()), ElementsAre("good_c"));
  ASSERT_EQ(loader.result().errors.size(), 1u);
  EXPECT_THAT(loader.result().errors.front().message(), HasSubstr("is already loaded from"));
}

}  // namespace
}  // namespace petit::host
