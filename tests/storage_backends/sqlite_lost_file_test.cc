// A SQLite store whose file is deleted, replaced or made unwritable under the process that has it
// open: the next write notices, fails with kDataLoss naming what happened, writes nothing more, and
// the lost listener hears it once. A damaged file is refused on open (PRAGMA quick_check), and a
// damaged page met by a store opened without that check is kDataLoss too.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "petit/storage/open.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using ::testing::HasSubstr;

RunRecord NewRun() {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("job");
  run.created_us = 1'700'000'000'000'000;
  return run;
}

class SqliteLostFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/petit.db";
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("sqlite://" + path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    store_->SetLostListener([this](const Status& status) { heard_.push_back(status); });
    ASSERT_TRUE(store_->CreateRun(NewRun()).ok());
  }

  // After the file was pulled away: every kind of write fails the same way, once heard.
  void ExpectLost(const std::string& what) {
    const RunRecord run = NewRun();
    const Status created = store_->CreateRun(run);
    EXPECT_EQ(created.code(), StatusCode::kDataLoss) << created.ToString();
    EXPECT_THAT(created.message(), HasSubstr(path_));
    EXPECT_THAT(created.message(), HasSubstr(what));
    EXPECT_EQ(created.message().find('\n'), std::string::npos) << created.message();
    JobRecord job;
    job.id = JobId("job");
    EXPECT_EQ(store_->SaveJob(job).code(), StatusCode::kDataLoss);
    LogChunk chunk;
    chunk.run = run.id;
    chunk.task = TaskId("t");
    chunk.attempt = 1;
    chunk.data = "lost";
    EXPECT_EQ(store_->AppendLog(chunk).code(), StatusCode::kDataLoss);
    ASSERT_EQ(heard_.size(), 1u);
    EXPECT_EQ(heard_[0].code(), StatusCode::kDataLoss);
    EXPECT_THAT(heard_[0].message(), HasSubstr(what));
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<StateStore> store_;
  std::vector<Status> heard_;
};

TEST_F(SqliteLostFileTest, ADeletedFileIsLostAtTheNextWrite) {
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  ExpectLost("was deleted");
}

TEST_F(SqliteLostFileTest, AFileRenamedOverTheDatabaseIsLostAtTheNextWrite) {
  const std::string other = dir_.path() + "/other.db";
  std::ofstream(other) << "";
  ASSERT_EQ(std::rename(other.c_str(), path_.c_str()), 0);
  ExpectLost("was replaced by another file");
  // Nothing was written into the file that took its place.
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(SqliteLostFileTest, TheDatabaseMovedAwayIsLostEvenWhenAnotherStoreTakesItsPath) {
  ASSERT_EQ(std::rename(path_.c_str(), (dir_.path() + "/moved.db").c_str()), 0);
  Result<std::unique_ptr<StateStore>> fresh = storage::OpenStateStore("sqlite://" + path_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  ExpectLost("was replaced by another file");
  EXPECT_TRUE((*fresh)->CreateRun(NewRun()).ok());
}

// Root could still write, but the chmod says the operator wants it not written: root included.
TEST_F(SqliteLostFileTest, AFileMadeUnwritableIsLostAtTheNextWrite) {
  std::filesystem::permissions(path_, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::group_read |
                                          std::filesystem::perms::others_read);
  ExpectLost("was made unwritable");
}

TEST_F(SqliteLostFileTest, AFileItsOwnerMayNoLongerWriteIsLost) {
  std::filesystem::permissions(path_, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::remove);
  std::filesystem::permissions(path_, std::filesystem::perms::group_write,
                               std::filesystem::perm_options::add);
  ExpectLost("was made unwritable");
}

TEST_F(SqliteLostFileTest, ADirectoryOfTheFileMadeUnreachableIsLost) {
  if (geteuid() == 0) GTEST_SKIP() << "permissions do not stop root";
  std::filesystem::permissions(dir_.path(), std::filesystem::perms::none);
  const Status created = store_->CreateRun(NewRun());
  std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all);
  EXPECT_EQ(created.code(), StatusCode::kDataLoss) << created.ToString();
  EXPECT_THAT(created.message(), HasSubstr("Permission denied"));
}

TEST_F(SqliteLostFileTest, AStoreThatWasNotTouchedKeepsWriting) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store_->CreateRun(NewRun()).ok());
  EXPECT_TRUE(heard_.empty());
}

TEST(SqliteOpenTest, ADamagedDatabaseIsRefusedOnOpenWithOneLine) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  {
    soci::session session(soci::sqlite3, path);
    session << "CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)";
    soci::transaction transaction(session);
    for (int i = 0; i < 200; ++i) {
      session << "INSERT INTO filler (text) VALUES (printf('%.500c', 'x'))";
    }
    transaction.commit();
  }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 16u * 4096u);
  {
    // Garbage over the b-tree pages in the middle of the file; the header stays intact, so the
    // file still opens as a database.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(4096 * 3));
    const std::string garbage(4096 * 4, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("sqlite://" + path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr("is damaged"));
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_EQ(store.status().message().find('\n'), std::string::npos) << store.status().message();
}

// SQLite keeps the log and the lock beside the name: a second name (a hard link) would have its
// own, and what was written through one would be lost through the other. Refused by every open,
// a reader's too; a symbolic link is one file under one name, and is fine.
TEST(SqliteOpenTest, AFileWithASecondHardLinkIsRefusedNamingTheLinks) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("sqlite://" + path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  const std::string symlink = dir.path() + "/symlink.db";
  std::filesystem::create_symlink(path, symlink);
  EXPECT_TRUE(storage::OpenStateStore("sqlite://" + symlink).ok());
  std::filesystem::create_hard_link(path, dir.path() + "/second.db");
  for (const bool reader : {false, true}) {
    Result<std::unique_ptr<StateStore>> store =
        storage::OpenStateStore("sqlite://" + path, {.create = !reader, .quick_check = !reader});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(store.status().message(), HasSubstr(path + " has 2 hard links"));
  }
}

TEST(SqliteOpenTest, ADamagedPageMetWithoutTheWholeFileCheckIsDataLossNamingTheFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  const std::string uri = "sqlite://" + path;
  {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 400; ++i) {
      RunRecord run = NewRun();
      run.error = std::string(300, 'e');  // a few runs a page, so the table spans many
      ASSERT_TRUE((*store)->CreateRun(run).ok());
    }
  }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 64u * 4096u);
  {
    // Garbage over the second half of the file, where the later runs are; the schema at its
    // start stays intact, so the file opens.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    const std::string garbage(size / 2 / 4096 * 4096, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri, {.quick_check = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // A write that meets it loses the store for good, as a deleted file does: the listener hears
  // it once, and every later write fails the same way without touching the file.
  std::vector<Status> heard;
  (*store)->SetLostListener([&](const Status& status) { heard.push_back(status); });
  RunRecord late = NewRun();
  late.error = std::string(300, 'e');
  const Status written = (*store)->CreateRun(late);
  EXPECT_EQ(written.code(), StatusCode::kDataLoss) << written.ToString();
  EXPECT_THAT(written.message(), HasSubstr("is damaged"));
  EXPECT_EQ((*store)->CreateRun(NewRun()).code(), StatusCode::kDataLoss);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_THAT(heard[0].message(), HasSubstr("is damaged"));
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId("job"), 1000);
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(runs.status().code(), StatusCode::kDataLoss) << runs.status().ToString();
  EXPECT_THAT(runs.status().message(), HasSubstr("is damaged"));
  EXPECT_THAT(runs.status().message(), HasSubstr(path));
  EXPECT_EQ(runs.status().message().find('\n'), std::string::npos) << runs.status().message();
}

}  // namespace
}  // namespace petit
