// WalCheckpointer (an internal of storage_backends): the writer's commits past the threshold hand
// the checkpoint to the checkpointer's thread, and the writer checkpoints itself when that thread
// cannot run.
#include "sql/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "storage_backends/test_databases.h"

namespace petit::storage::internal {
namespace {

void Open(soci::session& session, const std::string& path) {
  session.open(soci::sqlite3, path);
  session << "PRAGMA journal_mode = WAL";
  session << "PRAGMA synchronous = NORMAL";
}

// Commits one row of 8 KiB at a time (three pages or so in the log) until the log has passed
// the checkpoint threshold `times` times over.
void WritePastThreshold(soci::session& session, int times) {
  const std::string blob(8192, 'x');
  session << "CREATE TABLE IF NOT EXISTS t (v BLOB)";
  for (int i = 0; i < times * WalCheckpointer::kCheckpointPages / 2; ++i) {
    session << "INSERT INTO t (v) VALUES (:v)", soci::use(blob);
  }
}

// The checkpointer's thread runs on its own: wait for what it counts, up to a deadline.
template <typename Condition>
bool Eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WalCheckpointerTest, CheckpointsOnItsOwnThreadNotInTheWritersCommit) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db.sqlite";
  WalCheckpointer checkpointer([&](soci::session& session) { Open(session, path); });
  soci::session writer;
  Open(writer, path);
  checkpointer.Watch(writer);
  WritePastThreshold(writer, 2);
  EXPECT_TRUE(Eventually([&] { return checkpointer.background_checkpoints() > 0; }));
  EXPECT_EQ(checkpointer.inline_checkpoints(), 0u);
  // What was written is all there for a new connection.
  soci::session reader;
  Open(reader, path);
  int rows = 0;
  reader << "SELECT count(*) FROM t", soci::into(rows);
  EXPECT_EQ(rows, 2 * WalCheckpointer::kCheckpointPages / 2);
}

TEST(WalCheckpointerTest, TheWriterCheckpointsItselfWhenTheThreadCannotConnect) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/db.sqlite";
  WalCheckpointer checkpointer(
      [](soci::session&) { throw soci::soci_error("no connection for the checkpointer"); });
  soci::session writer;
  Open(writer, path);
  checkpointer.Watch(writer);
  // The first commit past the threshold starts the thread, which fails to connect; the commits
  // after that checkpoint on the writer.
  const std::string blob(8192, 'x');
  writer << "CREATE TABLE t (v BLOB)";
  EXPECT_TRUE(Eventually([&] {
    writer << "INSERT INTO t (v) VALUES (:v)", soci::use(blob);
    return checkpointer.inline_checkpoints() > 0;
  }));
  EXPECT_EQ(checkpointer.background_checkpoints(), 0u);
}

}  // namespace
}  // namespace petit::storage::internal
