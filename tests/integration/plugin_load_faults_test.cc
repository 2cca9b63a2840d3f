// End to end: third-party plugins whose load crashes, aborts, calls exit(0) or hangs (in a static
// constructor or in petit_plugin_init), beside a good one, under the real `petit plugins`,
// `petit validate` and `petit trigger`. The host survives each, names it in one line, leaves its
// task types unknown and runs the good plugin's jobs (plugins/plugin_probe.h).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit_process.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kFixtures = PETIT_FIXTURE_PLUGIN_DIR;
// Every fault but the hang, which costs the whole time limit and has a test of its own.
const char* const kEndsItsProcess[][2] = {
    {"ctor_segv.so", "crashed while loading: SIGSEGV"},
    {"init_segv.so", "crashed while loading: SIGSEGV"},
    {"ctor_abort.so", "crashed while loading: SIGABRT"},
    {"init_abort.so", "crashed while loading: SIGABRT"},
    {"ctor_exit0.so", "exited with status 0 while loading"},
    {"init_exit0.so", "exited with status 0 while loading"},
};

class PluginLoadFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A sanitizer build of the probe must die of the signal a release build dies of.
    setenv("ASAN_OPTIONS", "detect_leaks=1:handle_segv=0", 1);
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petit-plugin-load-faults-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "jobs");
    fs::create_directories(dir_ / "plugins");
    Write("petit.yaml", "storage: \"memory:\"\n");
    Write("good.yaml", "id: good\ntasks:\n  - id: echo\n    type: good_c.echo\n");
    fs::copy_file(kFixtures / "good_c.so", dir_ / "plugins" / "good_c.so");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "jobs" / name) << text;
  }
  void AddFault(const std::string& file) {
    fs::copy_file(kFixtures / "load_faults" / file, dir_ / "plugins" / file);
  }
  std::string Plugin(const std::string& file) const { return (dir_ / "plugins" / file).string(); }

  testing::Outcome Petit(const std::string& command) {
    return testing::RunPetit(
        PETIT_EXE, command + " --plugin-dir " + testing::ShellQuote((dir_ / "plugins").string()),
        dir_);
  }
  std::string Jobs() const { return testing::ShellQuote((dir_ / "jobs").string()); }

  fs::path dir_;
};

TEST_F(PluginLoadFaultsTest, PluginsNamesEachFaultInOneLineAndListsTheRest) {
  for (const auto& [file, reason] : kEndsItsProcess) AddFault(file);
  const testing::Outcome outcome = Petit("plugins");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const auto& [file, reason] : kEndsItsProcess) {
    EXPECT_THAT(outcome.err, HasSubstr("petit: warning: plugin not loaded: plugin " + Plugin(file) +
                                       " " + reason + "\n"));
  }
  EXPECT_THAT(outcome.out, HasSubstr("good_c.echo"));
  EXPECT_THAT(outcome.out, Not(HasSubstr("load_faults")));
  // The first-party plugins beside the executable load as ever.
  EXPECT_THAT(outcome.out, HasSubstr("/lib/petit/plugins/builtin.so\n"));
  EXPECT_THAT(outcome.out, HasSubstr("/lib/petit/plugins/command.so\n"));
}

TEST_F(PluginLoadFaultsTest, ValidateReportsTheFaultAndItsTaskTypesAreUnknown) {
  for (const auto& [file, reason] : kEndsItsProcess) AddFault(file);
  Write("bad.yaml", "id: bad\ntasks:\n  - id: run\n    type: load_faults.init_segv.run\n");
  const testing::Outcome outcome = Petit("validate " + Jobs());
  EXPECT_EQ(outcome.exit_code, 2) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.err,
              HasSubstr("plugin " + Plugin("init_segv.so") + " crashed while loading: SIGSEGV"));
  EXPECT_THAT(outcome.out + outcome.err,
              HasSubstr("unknown task type 'load_faults.init_segv.run'"));
  EXPECT_THAT(outcome.out, HasSubstr("ok  good (1 tasks)"));
  EXPECT_THAT(outcome.out, HasSubstr("1 valid jobs, 1 errors"));
}

TEST_F(PluginLoadFaultsTest, TriggerRunsTheGoodPluginsJob) {
  for (const auto& [file, reason] : kEndsItsProcess) AddFault(file);
  const testing::Outcome outcome = Petit("trigger " + Jobs() + " good");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("succeeded"));
  EXPECT_THAT(outcome.err,
              HasSubstr("plugin " + Plugin("ctor_abort.so") + " crashed while loading: SIGABRT"));
}

// The real time limit: a load that never finishes is given up after it, the host goes on.
TEST_F(PluginLoadFaultsTest, AHangingLoadIsGivenUpAfterTheTimeLimit) {
  AddFault("init_hang.so");
  const testing::Outcome outcome = Petit("trigger " + Jobs() + " good");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.err,
              HasSubstr("petit: warning: plugin not loaded: plugin " + Plugin("init_hang.so") +
                        " did not finish loading within 10 s\n"));
  EXPECT_THAT(outcome.out, HasSubstr("succeeded"));
}

}  // namespace
}  // namespace petit
