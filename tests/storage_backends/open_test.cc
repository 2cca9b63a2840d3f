// OpenStateStore: URI grammar, one-line errors, no secrets in messages.
#include "petit/storage/open.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "src/storage_uri.h"
#include "storage_backends/test_databases.h"

namespace petit {
namespace {

using storage::OpenStateStore;
using storage::internal::Backend;
using storage::internal::ParseStorageUri;
using storage::internal::RedactPostgresConnInfo;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

void ExpectOneLine(const Status& status) {
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  EXPECT_THAT(status.message(), Not(HasSubstr("\t")));
  EXPECT_FALSE(status.message().empty());
}

TEST(StorageUriTest, SqlitePathsFollowTheDocumentedForms) {
  struct Case {
    const char* uri;
    const char* path;
  };
  for (const Case& c :
       {Case{"sqlite:///var/lib/petit/petit.db", "/var/lib/petit/petit.db"},
        Case{"sqlite://petit.db", "petit.db"}, Case{"sqlite://state/petit.db", "state/petit.db"},
        Case{"sqlite:petit.db", "petit.db"}, Case{"sqlite:/abs/petit.db", "/abs/petit.db"},
        Case{"  sqlite:///with spaces/p.db  ", "/with spaces/p.db"}}) {
    Result<storage::internal::StorageUri> parsed = ParseStorageUri(c.uri);
    ASSERT_TRUE(parsed.ok()) << c.uri << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->backend, Backend::kSqlite) << c.uri;
    EXPECT_EQ(parsed->target, c.path) << c.uri;
  }
}

TEST(StorageUriTest, PostgresqlFormsReachLibpqUnchanged) {
  Result<storage::internal::StorageUri> uri =
      ParseStorageUri("postgresql://petit@db.internal:5433/petit?sslmode=require");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->backend, Backend::kPostgresql);
  EXPECT_EQ(uri->target, "postgresql://petit@db.internal:5433/petit?sslmode=require");

  Result<storage::internal::StorageUri> key_value =
      ParseStorageUri("postgresql:host=/tmp port=5432 dbname=x");
  ASSERT_TRUE(key_value.ok());
  EXPECT_EQ(key_value->target, "host=/tmp port=5432 dbname=x");
  EXPECT_EQ(key_value->display, "postgresql:host=/tmp port=5432 dbname=x");

  Result<storage::internal::StorageUri> short_scheme = ParseStorageUri("postgres://h/db");
  ASSERT_TRUE(short_scheme.ok());
  EXPECT_EQ(short_scheme->backend, Backend::kPostgresql);
}

// A server that vanished from the network fails a write within bounded time instead of hanging it;
// what the user set wins.
TEST(ParseStorageUriTest, PostgresConnectionsGetClientTimeoutsUnlessTheUserSetThem) {
  using storage::internal::WithPostgresClientTimeouts;
  EXPECT_EQ(WithPostgresClientTimeouts("postgresql://h/db"),
            "postgresql://h/db?connect_timeout=10&keepalives_idle=30&keepalives_interval=10&"
            "keepalives_count=3&tcp_user_timeout=60000");
  EXPECT_EQ(WithPostgresClientTimeouts("postgresql://h/db?sslmode=require&connect_timeout=2"),
            "postgresql://h/db?sslmode=require&connect_timeout=2&keepalives_idle=30&"
            "keepalives_interval=10&keepalives_count=3&tcp_user_timeout=60000");
  EXPECT_EQ(WithPostgresClientTimeouts("host=/tmp connect_timeout = 3 tcp_user_timeout=5"),
            "host=/tmp connect_timeout = 3 tcp_user_timeout=5 keepalives_idle=30 "
            "keepalives_interval=10 keepalives_count=3");
  // A key's name inside another's value or name is not that key.
  EXPECT_EQ(WithPostgresClientTimeouts("dbname=connect_timeout xconnect_timeout=1"),
            "dbname=connect_timeout xconnect_timeout=1 connect_timeout=10 keepalives_idle=30 "
            "keepalives_interval=10 keepalives_count=3 tcp_user_timeout=60000");
}

TEST(StorageUriTest, PasswordsAreRedactedInEveryForm) {
  EXPECT_EQ(RedactPostgresConnInfo("postgresql://petit:hunter2@db:5432/petit"),
            "postgresql://petit:***@db:5432/petit");
  EXPECT_EQ(RedactPostgresConnInfo("postgresql://petit:p%40ss@db/petit?password=x&sslmode=on"),
            "postgresql://petit:***@db/petit?password=***&sslmode=on");
  EXPECT_EQ(RedactPostgresConnInfo("postgresql://petit@db/petit"), "postgresql://petit@db/petit");
  EXPECT_EQ(RedactPostgresConnInfo("host=db password=hunter2 dbname=petit"),
            "host=db password=*** dbname=petit");
  EXPECT_EQ(RedactPostgresConnInfo("host=db password = 'hunter 2\\' x' dbname=petit"),
            "host=db password=*** dbname=petit");
  EXPECT_EQ(RedactPostgresConnInfo("host=db password='unterminated hunter2"),
            "host=db password=...");
  Result<storage::internal::StorageUri> uri = ParseStorageUri("postgresql:password=hunter2 host=h");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->display, "postgresql:password=*** host=h");
}

TEST(OpenStateStoreTest, MalformedUrisAreOneLineInvalidArguments) {
  struct Case {
    const char* uri;
    const char* says;
  };
  for (const Case& c : {Case{"", "storage URI is empty"},
                        Case{"mysql://root@db/petit", "unknown storage URI scheme 'mysql'"},
                        Case{"petit.db", "has no scheme"},
                        Case{"memory:x", "memory: takes no path"}, Case{"sqlite:", "names no file"},
                        Case{"sqlite://", "names no file"}, Case{"sqlite::memory:", "use memory:"},
                        Case{"sqlite:///tmp/petit.db?mode=ro", "take no parameters"},
                        Case{"sqlite:///tmp/a=b.db", "may not contain"},
                        Case{"sqlite:///tmp/", "names a directory"},
                        Case{"postgresql:", "has no connection parameters"},
                        Case{"postgresql:   ", "has no connection parameters"}}) {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore(c.uri);
    ASSERT_FALSE(store.ok()) << c.uri;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << c.uri;
    EXPECT_THAT(store.status().message(), HasSubstr(c.says)) << c.uri;
    ExpectOneLine(store.status());
  }
}

TEST(OpenStateStoreTest, UnknownSchemeDoesNotEchoTheRestOfTheUri) {
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("mysql://root:hunter2@db/petit");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), Not(HasSubstr("hunter2")));
}

TEST(OpenStateStoreTest, MemoryUriOpensAnEmptyStore) {
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 10);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
}

TEST(OutlivesProcessTest, OnlyTheMemoryStoreDiesWithTheProcess) {
  EXPECT_FALSE(storage::OutlivesProcess("memory:"));
  EXPECT_FALSE(storage::OutlivesProcess(" memory:// "));
  EXPECT_TRUE(storage::OutlivesProcess("sqlite:///var/lib/petit/petit.db"));
  EXPECT_TRUE(storage::OutlivesProcess("sqlite:petit.db"));
  EXPECT_TRUE(storage::OutlivesProcess("postgresql://petit@db:5432/petit"));
  EXPECT_TRUE(storage::OutlivesProcess("postgres:host=/run/postgresql dbname=petit"));
  // Nothing would be opened from these.
  EXPECT_FALSE(storage::OutlivesProcess(""));
  EXPECT_FALSE(storage::OutlivesProcess("redis://x"));
}

TEST(OpenStateStoreTest, UnreachablePostgresqlIsOneLineUnavailableWithoutThePassword) {
  // A socket directory with no server in it: libpq fails at once, no network involved.
  testing::TempDir no_server;
  const std::string key_value =
      "postgresql:host=" + no_server.path() + " port=5432 user=petit dbname=petit password=hunter2";
  const std::string uri_form =
      "postgresql://petit:hunter2@/petit?host=" + no_server.path() + "&port=5432";
  for (const std::string& uri : {key_value, uri_form}) {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore(uri);
    ASSERT_FALSE(store.ok()) << uri;
    EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
    EXPECT_THAT(store.status().message(),
                StartsWith("cannot connect to PostgreSQL at postgresql:"));
    EXPECT_THAT(store.status().message(), HasSubstr(no_server.path()));
    EXPECT_THAT(store.status().message(), HasSubstr("***"));
    EXPECT_THAT(store.status().message(), Not(HasSubstr("hunter2")));
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Cannot establish connection")));
    ExpectOneLine(store.status());
  }
}

TEST(OpenStateStoreTest, SqliteCreatesMissingParentDirectories) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/a/b/c/petit.db";
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(OpenStateStoreTest, SqliteForReadingRefusesAMissingDirectoryAndCreatesNothing) {
  testing::TempDir dir;
  for (const std::string& missing : {dir.path() + "/a/petit.db", dir.path() + "/a/b/c/petit.db"}) {
    Result<std::unique_ptr<StateStore>> store =
        OpenStateStore("sqlite://" + missing, {.create = false});
    ASSERT_FALSE(store.ok()) << missing;
    EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
    EXPECT_THAT(store.status().message(), HasSubstr("sqlite://" + missing));
    EXPECT_THAT(store.status().message(), HasSubstr("does not exist"));
    ExpectOneLine(store.status());
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/a"));
  // A file never written, in a directory that exists: an empty history, and no file made for it.
  {
    Result<std::unique_ptr<StateStore>> empty =
        OpenStateStore("sqlite://" + dir.path() + "/never.db", {.create = false});
    ASSERT_TRUE(empty.ok()) << empty.status().ToString();
    Result<std::vector<RunRecord>> runs = (*empty)->ListRuns(JobId(""), 10);
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    EXPECT_TRUE(runs->empty());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "no database, log or index was left";
  // An existing store opens for reading as usual.
  const std::string path = dir.path() + "/petit.db";
  ASSERT_TRUE(OpenStateStore("sqlite://" + path).ok());
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path, {.create = false});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
}

TEST(OpenStateStoreTest, SqliteWithoutAFileNameIsRefused) {
  for (const char* uri : {"sqlite://", "sqlite:", "sqlite:///"}) {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore(uri);
    ASSERT_FALSE(store.ok()) << uri;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << uri;
    ExpectOneLine(store.status());
  }
}

TEST(OpenStateStoreTest, SqliteRelativePathIsUnderTheWorkingDirectory) {
  testing::TempDir dir;
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite:state/relative.db");
  std::filesystem::current_path(previous);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() + "/state/relative.db"));
}

TEST(OpenStateStoreTest, SqliteFileThatIsNotADatabaseIsRefusedOnOneLine) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/notes.txt";
  std::ofstream(path) << "these are notes, not a database\n" << std::string(4096, 'x');
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_THAT(store.status().message(), StartsWith("cannot open SQLite database sqlite://" + path));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
  ExpectOneLine(store.status());
}

TEST(OpenStateStoreTest, SqliteInAnUnwritablePlaceIsOneLineUnavailable) {
  // /proc refuses new directories even to root.
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite:///proc/petit/state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_THAT(store.status().message(), HasSubstr("/proc/petit"));
  ExpectOneLine(store.status());
}

TEST(OpenStateStoreTest, SqliteStoreRunsInWalModeWithForeignKeys) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  soci::session raw(soci::sqlite3, path);
  std::string mode;
  raw << "PRAGMA journal_mode", soci::into(mode);
  EXPECT_EQ(mode, "wal");
  // Foreign keys are what turns an attempt of an unknown run into kNotFound.
  AttemptRecord orphan;
  orphan.run = RunId::Generate();
  orphan.task = TaskId("t");
  EXPECT_EQ((*store)->SaveAttempts(std::array{orphan}).code(), StatusCode::kNotFound);
}

// Bytes in the store's write-ahead log beside `path`; 0 when there is none.
off_t LogBytes(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path + "-wal", error);
  return error ? 0 : static_cast<off_t>(size);
}

RunRecord QueuedRun(std::string trigger) {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("job");
  run.trigger = std::move(trigger);
  run.created_us = 1'700'000'000'000'000;
  return run;
}

// A short `petit trigger` must not pay a checkpoint when it closes the store and a new log when it
// next opens it (four fsyncs, most of its time): a small log stays for the next process, whose
// reads and writes go on from it.
TEST(OpenStateStoreTest, SqliteStoreLeavesASmallLogForTheNextProcess) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  const RunRecord first = QueuedRun("manual");
  {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CreateRun(first).ok());
  }
  const off_t kept = LogBytes(path);
  EXPECT_GT(kept, 0) << "the store checkpointed its log when it closed";
  const RunRecord second = QueuedRun("api");
  {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Result<std::optional<RunRecord>> read = (*store)->GetRun(first.id);
    ASSERT_TRUE(read.ok() && read->has_value()) << read.status().ToString();
    EXPECT_EQ((*read)->trigger, "manual");
    ASSERT_TRUE((*store)->CreateRun(second).ok());
  }
  EXPECT_GT(LogBytes(path), kept) << "the second process did not append to the log it found";
  // What the log holds is the database's for any reader, SQLite's own included.
  soci::session raw(soci::sqlite3, path);
  int runs = 0;
  raw << "SELECT COUNT(*) FROM runs", soci::into(runs);
  EXPECT_EQ(runs, 2);
}

// ... but a large log would cost the next process more to scan than a checkpoint costs now.
TEST(OpenStateStoreTest, SqliteStoreCheckpointsALargeLogWhenItCloses) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  std::vector<RunId> ids;
  {
    Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // Each run in its own commit, each with an error of 4 KiB: a page or two of log apiece.
    while (LogBytes(path) <= (off_t{2} << 20)) {
      RunRecord run = QueuedRun("manual");
      run.error = std::string(4096, 'e');
      ASSERT_TRUE((*store)->CreateRun(run).ok());
      ids.push_back(run.id);
    }
  }
  EXPECT_EQ(LogBytes(path), 0) << "a log of over 2 MiB was left for the next process to scan";
  Result<std::unique_ptr<StateStore>> store = OpenStateStore("sqlite://" + path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const RunId& id : {ids.front(), ids.back()}) {
    Result<std::optional<RunRecord>> read = (*store)->GetRun(id);
    ASSERT_TRUE(read.ok() && read->has_value()) << read.status().ToString();
  }
}

}  // namespace
}  // namespace petit
