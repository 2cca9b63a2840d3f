// petit.yaml: defaults, every setting, the original's storage form, and strict keys.
#include "config/global_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::host {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class GlobalConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& text) {
    fs::path path = dir_ / "petit.yaml";
    std::ofstream(path) << text;
    return path.string();
  }
  fs::path dir_;
};

TEST_F(GlobalConfigTest, ReadsEverySetting) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write(R"(
storage: postgresql://petit@db/petit
plugin_dirs: [plugins, /opt/petit/plugins]
max_parallel_tasks: 8
output_cap_bytes: 4096
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage_uri, "postgresql://petit@db/petit");
  ASSERT_EQ(config->plugin_dirs.size(), 2u);
  EXPECT_EQ(config->plugin_dirs[0], (dir_ / "plugins").string()) << "relative to petit.yaml";
  EXPECT_EQ(config->plugin_dirs[1], "/opt/petit/plugins");
  EXPECT_EQ(config->max_parallel_tasks, 8u);
  EXPECT_EQ(config->output_cap_bytes, 4096u);
}

TEST_F(GlobalConfigTest, ReadsResourcePoolsAndSystemResources) {
  Result<GlobalConfig> config =
      LoadGlobalConfig(Write("pools: {gpu: 2, db_conn: 5}\ncpu_slots: 8\nmemory_mb: 16384\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->resources.pools,
            (std::map<std::string, uint32_t>{{"db_conn", 5}, {"gpu", 2}}));
  EXPECT_EQ(config->resources.cpu_slots, 8u);
  EXPECT_EQ(config->resources.memory_mb, 16384u);
  Result<GlobalConfig> bad = LoadGlobalConfig(Write("pools: {gpu: 0}\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("petit.yaml:1:14: 'pools.gpu' must be between 1"));
}

TEST_F(GlobalConfigTest, AcceptsTheOriginalStorageMapping) {
  Result<GlobalConfig> config = LoadGlobalConfig(Write("storage:\n  type: sqlite\n  path: x.db\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage_uri, "sqlite://" + fs::absolute("x.db").string());
  config = LoadGlobalConfig(Write("storage: {type: memory}\n"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->storage_uri, "memory:");
}

TEST_F(GlobalConfigTest, UnknownKeysAndBadValuesAreAllReported) {
  Result<GlobalConfig> config =
      LoadGlobalConfig(Write("max_paralel_tasks: 3\noutput_cap_bytes: lots\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("petit.yaml:1:1: unknown key 'max_paralel_tasks' in petit.yaml "
                        "(did you mean 'max_parallel_tasks'?)"));
  EXPECT_THAT(config.status().message(),
              HasSubstr("petit.yaml:2:19: 'output_cap_bytes' must be an integer"));
}

TEST_F(GlobalConfigTest, ResolveUsesPetitYamlInTheJobsDirectoryOnlyWhenPresent) {
  Result<GlobalConfig> none = ResolveGlobalConfig(std::nullopt, dir_.string());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->source_file.empty());
  Write("max_parallel_tasks: 5\n");
  Result<GlobalConfig> found = ResolveGlobalConfig(std::nullopt, dir_.string());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->max_parallel_tasks, 5u);
}

TEST_F(GlobalConfigTest, DefaultStorageHonoursPetitStateDir) {
  setenv("PETIT_STATE_DIR", dir_.c_str(), 1);
  EXPECT_EQ(DefaultStorageUri(), "sqlite://" + dir_.string() + "/petit.db");
  unsetenv("PETIT_STATE_DIR");
}

}  // namespace
}  // namespace petit::host
