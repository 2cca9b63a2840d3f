// End to end: where the real `petit` looks for plugins. One plugin in a directory from each place
// a directory can come from (petit.yaml's plugin_dirs, PETIT_PLUGIN_PATH, --plugin-dir, beside the
// executable); `petit plugins` must list the search path in load order with each one's origin, and
// say in --json which directory each plugin came from.
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/petit_process.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Outcome;
using testing::ShellQuote;

const fs::path kFixtures = PETIT_FIXTURE_PLUGIN_DIR;

class PluginSearchPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-search-path-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* sub : {"jobs", "yaml_dir", "env_dir", "flag_dir"}) {
      fs::create_directories(dir_ / sub);
    }
    std::ofstream(dir_ / "jobs" / "petit.yaml")
        << "storage: \"memory:\"\nplugin_dirs: [../yaml_dir]\n";
    fs::copy_file(kFixtures / "good_c.so", dir_ / "yaml_dir" / "good_c.so");
    fs::copy_file(kFixtures / "throws.so", dir_ / "env_dir" / "throws.so");
    fs::copy_file(kFixtures / "extra" / "abi_1_0.so", dir_ / "flag_dir" / "abi_1_0.so");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `petit plugins` with the jobs directory's petit.yaml, PETIT_PLUGIN_PATH set to `env_path`,
  // and `flags` after it.
  Outcome Plugins(const std::string& env_path, const std::string& flags) {
    const std::string petit = "env PETIT_PLUGIN_PATH=" + ShellQuote(env_path) + " " +
                              ShellQuote(PETIT_EXE) + " plugins --config " +
                              ShellQuote((dir_ / "jobs" / "petit.yaml").string());
    const fs::path out = dir_ / "stdout.txt";
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = petit + " " + flags + " >" + ShellQuote(out.string()) + " 2>" +
                                ShellQuote(err.string()) + " </dev/null";
    const int status = std::system(command.c_str());
    Outcome outcome;
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    outcome.out = testing::ReadFile(out);
    outcome.err = testing::ReadFile(err);
    return outcome;
  }

  std::string Dir(const char* sub) const { return (dir_ / sub).string(); }

  fs::path dir_;
};

TEST_F(PluginSearchPathTest, PluginsListsTheSearchPathInLoadOrderWithTheOriginOfEachDirectory) {
  const Outcome r = Plugins(Dir("env_dir") + "::" + Dir("missing_dir"),
                            "--plugin-dir " + ShellQuote(Dir("flag_dir")) + " --plugin-dir " +
                                ShellQuote(Dir("env_dir")));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string config = (dir_ / "jobs" / "petit.yaml").string();
  const std::string expected =
      "plugin search path, in load order (the first plugin to provide a task type keeps it):\n"
      "  " +
      fs::weakly_canonical(fs::path(PETIT_EXE)).parent_path().parent_path().string() +
      "/lib/petit/plugins  (default: beside the petit executable)\n"
      "  " +
      (dir_ / "jobs" / "../yaml_dir").string() + "  (petit.yaml: " + config +
      ")\n"
      "  " +
      Dir("env_dir") +
      "  (env: PETIT_PLUGIN_PATH)\n"
      "  " +
      Dir("missing_dir") +
      "  (env: PETIT_PLUGIN_PATH; does not exist)\n"
      "  " +
      Dir("flag_dir") +
      "  (flag: --plugin-dir)\n"
      "  " +
      Dir("env_dir") + "  (flag: --plugin-dir; searched above already)\n";
  EXPECT_EQ(r.out.substr(0, expected.size()), expected) << r.out;
  // The missing directory is the only complaint; the repeated one is not loaded twice.
  EXPECT_THAT(r.err, HasSubstr("plugin directory " + Dir("missing_dir") + " does not exist"));
  EXPECT_THAT(r.err, Not(HasSubstr("already")));
  for (const char* type : {"good_c.echo", "throws.", "abi_1_0."}) {
    EXPECT_THAT(r.out, HasSubstr("\n  " + std::string(type))) << r.out;
  }
}

TEST_F(PluginSearchPathTest, PluginsJsonNamesTheDirectoryEachPluginCameFromAndItsOrigin) {
  const Outcome r = Plugins(Dir("env_dir"), "--json --plugin-dir " + ShellQuote(Dir("flag_dir")));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Poco::JSON::Array::Ptr plugins;
  try {
    plugins = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Array::Ptr>();
  } catch (const Poco::Exception& e) {
    FAIL() << "not a JSON array: " << e.displayText() << "\n" << r.out;
  }
  std::map<std::string, std::pair<std::string, std::string>> origin;  // name -> dir, source
  for (unsigned i = 0; i < plugins->size(); ++i) {
    Poco::JSON::Object::Ptr plugin = plugins->getObject(i);
    origin[plugin->getValue<std::string>("name")] = {plugin->getValue<std::string>("dir"),
                                                     plugin->getValue<std::string>("dir_source")};
  }
  using Origin = std::pair<std::string, std::string>;
  EXPECT_EQ(origin["good_c"], Origin((dir_ / "jobs" / "../yaml_dir").string(), "petit.yaml"));
  EXPECT_EQ(origin["throws"], Origin(Dir("env_dir"), "env"));
  EXPECT_EQ(origin["abi_1_0"], Origin(Dir("flag_dir"), "flag"));
  EXPECT_EQ(origin["builtin"].second, "default");
  EXPECT_EQ(origin["command"].second, "default");
}

}  // namespace
}  // namespace petit
