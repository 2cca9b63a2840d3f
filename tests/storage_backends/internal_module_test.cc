// LoadInternalModule against every kind of bad module, and the real SQL store modules: found
// beside this binary as beside petit, and each loaded only when a store of its kind is opened.
#include "petit/storage/internal_module.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "petit/storage/open.h"
#include "src/sql_module.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using storage::InternalModuleBuild;
using storage::InternalModuleDir;
using storage::LoadInternalModule;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFixtureEntry[] = "petit_fixture_module_v1";
const std::string kFixtureDir = PETIT_FIXTURE_MODULE_DIR;
const std::string kPostgresqlModule =
    std::string(PETIT_MODULE_OUTPUT_DIR) + "/" + storage::internal::kPostgresqlModuleFile;
const std::string kSqliteModule =
    std::string(PETIT_MODULE_OUTPUT_DIR) + "/" + storage::internal::kSqliteModuleFile;

bool IsLoaded(const std::string& path) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  ::dlclose(handle);
  return true;
}

void ExpectRefusedOnOneLine(const Result<const void*>& loaded, const std::string& path) {
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("the test module " + path));
  EXPECT_THAT(loaded.status().message(), Not(HasSubstr("\n")));
}

TEST(InternalModuleTest, TheModuleDirectoryIsBesideThisExecutableAsBesidePetit) {
  // Test binaries are built into bin/ as petit is, so both find the same lib/petit/modules.
  EXPECT_EQ(std::filesystem::weakly_canonical(InternalModuleDir()),
            std::filesystem::weakly_canonical(PETIT_MODULE_OUTPUT_DIR));
}

TEST(InternalModuleTest, AMissingModuleIsNamedWithWhatToDo) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit_postgresql.so";
  const Result<const void*> loaded = LoadInternalModule(path, kFixtureEntry, "the test module");
  ExpectRefusedOnOneLine(loaded, path);
  EXPECT_THAT(loaded.status().message(), HasSubstr("is missing"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("reinstall petit"));
}

TEST(InternalModuleTest, AFileThatIsNotALibraryIsRefused) {
  testing::TempDir dir;
  for (const char* content : {"", "not an ELF file\n",
                              "\x7f"
                              "ELF garbage"}) {
    const std::string path = dir.path() + "/petit_postgresql.so";
    std::ofstream(path, std::ios::trunc) << content;
    const Result<const void*> loaded = LoadInternalModule(path, kFixtureEntry, "the test module");
    ExpectRefusedOnOneLine(loaded, path);
    EXPECT_THAT(loaded.status().message(), HasSubstr("cannot load"));
  }
  // A directory where the module should be.
  const std::string directory = dir.path() + "/a_directory.so";
  std::filesystem::create_directory(directory);
  ExpectRefusedOnOneLine(LoadInternalModule(directory, kFixtureEntry, "the test module"),
                         directory);
}

TEST(InternalModuleTest, ALibraryWithoutTheEntryIsNotAModule) {
  // The real PostgreSQL module, asked for another entry, and a fixture without the right one.
  for (const std::string& path :
       {kPostgresqlModule, kFixtureDir + "/petit_test_module_other_build.so"}) {
    const Result<const void*> loaded =
        LoadInternalModule(path, "petit_no_such_entry_v1", "the test module");
    ExpectRefusedOnOneLine(loaded, path);
    EXPECT_THAT(loaded.status().message(), HasSubstr("has no petit_no_such_entry_v1"));
  }
}

TEST(InternalModuleTest, AModuleOfAnotherBuildOrWithoutBuildIsRefused) {
  const std::string other = kFixtureDir + "/petit_test_module_other_build.so";
  const Result<const void*> loaded = LoadInternalModule(other, kFixtureEntry, "the test module");
  ExpectRefusedOnOneLine(loaded, other);
  EXPECT_THAT(loaded.status().message(), HasSubstr("another build of petit"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("petit 0.0.1, another compiler"));
  EXPECT_THAT(loaded.status().message(), HasSubstr(std::string(InternalModuleBuild())));

  const std::string null_entry = kFixtureDir + "/petit_test_module_null_entry.so";
  const Result<const void*> empty =
      LoadInternalModule(null_entry, kFixtureEntry, "the test module");
  ExpectRefusedOnOneLine(empty, null_entry);
  EXPECT_THAT(empty.status().message(), HasSubstr("an unknown build"));
}

TEST(InternalModuleTest, ThePostgresqlModuleIsOfThisBuildAndLoadedByOpeningAPostgresqlStore) {
  // Opening a store on a server that is not there still loads the module: the failure to connect
  // comes from libpq inside it.
  Result<std::unique_ptr<StateStore>> store =
      storage::OpenStateStore("postgresql://petit@127.0.0.1:1/petit?connect_timeout=1");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("cannot connect to PostgreSQL"));
  ASSERT_TRUE(IsLoaded(kPostgresqlModule))
      << "opening a postgresql: store did not load " << kPostgresqlModule;

  const Result<const void*> loaded = LoadInternalModule(
      kPostgresqlModule, storage::internal::kPostgresqlModuleEntry, "the PostgreSQL module");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const auto* module = static_cast<const storage::internal::SqlModule*>(*loaded);
  EXPECT_EQ(std::string(module->build), std::string(InternalModuleBuild()));
  EXPECT_NE(module->open, nullptr);
}

TEST(InternalModuleTest, TheSqliteModuleIsOfThisBuild) {
  const Result<const void*> loaded =
      LoadInternalModule(kSqliteModule, storage::internal::kSqliteModuleEntry, "the SQLite module");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const auto* module = static_cast<const storage::internal::SqlModule*>(*loaded);
  EXPECT_EQ(std::string(module->build), std::string(InternalModuleBuild()));
  EXPECT_NE(module->open, nullptr);
}

TEST(InternalModuleTest, EachStoreLoadsItsOwnModuleAndNoOther) {
  // In fresh processes (the threadsafe style runs the test binary again for each), since a test
  // before this one may have loaded a module.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const bool opened = storage::OpenStateStore("memory:").ok();
        std::exit(opened && !IsLoaded(kSqliteModule) && !IsLoaded(kPostgresqlModule) ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        testing::TempDir dir;
        const bool opened = storage::OpenStateStore("sqlite:" + dir.path() + "/petit.db").ok();
        std::exit(opened && IsLoaded(kSqliteModule) && !IsLoaded(kPostgresqlModule) ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        const bool failed =
            !storage::OpenStateStore("postgresql://petit@127.0.0.1:1/petit?connect_timeout=1").ok();
        std::exit(failed && IsLoaded(kPostgresqlModule) && !IsLoaded(kSqliteModule) ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace petit
