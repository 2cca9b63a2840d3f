// The SQLite host lock's own promises, beyond the conformance suite: one lock per database file
// however it is named, and a sidecar file that names the holder and locks nothing by existing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kOwner[] = "first-host/1111/2222";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<StateStore> Open(const std::string& path) {
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("sqlite://" + path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(SqliteHostLockTest, ADatabaseNamedThroughASymlinkHasTheSameLock) {
  testing::TempDir dir;
  std::unique_ptr<StateStore> direct = Open(dir.path() + "/petit.db");
  ASSERT_NE(direct, nullptr);
  fs::create_symlink(dir.path() + "/petit.db", dir.path() + "/alias.db");
  std::unique_ptr<StateStore> linked = Open(dir.path() + "/alias.db");
  ASSERT_NE(linked, nullptr);

  Result<std::unique_ptr<HostLock>> held = direct->AcquireHostLock(kOwner);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  Result<std::unique_ptr<HostLock>> refused = linked->AcquireHostLock("second-host/3333/4444");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr(kOwner));
  EXPECT_FALSE(fs::exists(dir.path() + "/alias.db.lock"));
}

TEST(SqliteHostLockTest, TheSidecarNamesTheHolderAndLocksNothingOnceReleased) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  std::unique_ptr<StateStore> store = Open(path);
  ASSERT_NE(store, nullptr);
  Result<std::unique_ptr<HostLock>> held = store->AcquireHostLock(kOwner);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(ReadFile(path + ".lock"), std::string(kOwner) + "\n");

  held->reset();
  EXPECT_TRUE(fs::exists(path + ".lock"));
  Result<std::unique_ptr<HostLock>> again = store->AcquireHostLock("second-host/3333/4444");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadFile(path + ".lock"), "second-host/3333/4444\n");
}

}  // namespace
}  // namespace petit
