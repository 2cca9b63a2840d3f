// End to end: what `petit` does with hostile files and stores. A job directory with parts that
// cannot be read, file names and YAML holding bytes that are not UTF-8, an empty --storage, a
// SQLite path in a directory that does not exist.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/daemon_process.h"
#include "integration/petit_process.h"
#include "petit/core/ids.h"
#include "petit/core/utf8.h"
#include "petit/plugin.hpp"

namespace petit {
namespace {

namespace fs = std::filesystem;
using sdk::Json;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::Outcome;
using testing::ShellQuote;

constexpr char kTask[] = "tasks: [{id: t, type: command, command: \"true\"}]\n";
constexpr char kFffd[] = "\xEF\xBF\xBD";

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-files-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Run(const std::string& args) { return testing::RunPetit(PETIT_EXE, args, dir_); }

  void Write(const std::string& name, const std::string& yaml) {
    fs::create_directories((jobs_ / name).parent_path());
    std::ofstream(jobs_ / name) << yaml;
  }

  std::string Jobs() const { return ShellQuote(jobs_.string()); }

  fs::path dir_;
  fs::path jobs_;
};

TEST_F(FilesTest, ValidateReportsEachPartOfTheDirectoryThatCannotBeRead) {
  Write("good.yaml", std::string("id: good\n") + kTask);
  fs::create_symlink(dir_ / "moved_away", jobs_ / "team_jobs");
  fs::create_symlink(jobs_ / "loop_b", jobs_ / "loop_a");
  fs::create_symlink(jobs_ / "loop_a", jobs_ / "loop_b");
  ASSERT_EQ(mkfifo((jobs_ / "pipe.yaml").c_str(), 0600), 0);

  Outcome r = Run("--storage memory: validate " + Jobs());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: " + (jobs_ / "team_jobs").string() +
                               ": a symlink that cannot be followed: No such file or directory"));
  EXPECT_THAT(r.err, HasSubstr("error: " + (jobs_ / "loop_a").string() +
                               ": a symlink that cannot be followed: Too many levels of symbolic "
                               "links"));
  EXPECT_THAT(r.err,
              HasSubstr("error: " + (jobs_ / "pipe.yaml").string() + ": not a regular file"));
  EXPECT_THAT(r.out, HasSubstr("ok  good"));
  EXPECT_THAT(r.out, HasSubstr("4 errors"));

  Outcome json = Run("--storage memory: validate --json " + Jobs());
  EXPECT_EQ(json.exit_code, 2);
  sdk::Result<Json> doc = Json::Parse(json.out);
  ASSERT_TRUE(doc.ok()) << json.out;
  EXPECT_EQ(doc->Find("errors")->size(), 4u);
}

TEST_F(FilesTest, RunRefusesToStartWhenAPartOfTheDirectoryCannotBeRead) {
  Write("good.yaml", std::string("id: good\n") + kTask);
  fs::create_symlink(dir_ / "moved_away", jobs_ / "team_jobs");
  Outcome r = Run("--storage memory: run " + Jobs());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr((jobs_ / "team_jobs").string()));
  EXPECT_THAT(r.err, HasSubstr("not starting"));
}

TEST_F(FilesTest, ASubdirectoryWithoutPermissionFailsValidate) {
  if (geteuid() == 0) GTEST_SKIP() << "permissions do not stop root";
  Write("good.yaml", std::string("id: good\n") + kTask);
  Write("locked/hidden.yaml", std::string("id: hidden\n") + kTask);
  fs::permissions(jobs_ / "locked", fs::perms::none);
  Outcome r = Run("--storage memory: validate " + Jobs());
  fs::permissions(jobs_ / "locked", fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr((jobs_ / "locked").string() +
                               ": cannot read the directory: Permission denied"));
}

// Whatever bytes the files hold, --json is valid UTF-8 that a strict parser accepts; the bytes
// that are not UTF-8 are shown as U+FFFD.
TEST_F(FilesTest, ValidateJsonIsValidUtf8WhateverBytesTheFilesHold) {
  // A file name, a job id, an unknown key, a schedule and a dangling symlink's name with bytes
  // that are not UTF-8: stray, overlong, surrogate, truncated; and NUL-free control characters.
  Write("latin1_caf\xE9.yaml", std::string("id: ok_\xC3\xA9\n") + kTask);
  Write("bad_key.yaml", std::string("id: bad_key\nsh\xC0\xAF"
                                    "edule: x\n") +
                            kTask);
  Write("bad_cron.yaml", std::string("id: bad_cron\nschedule: \"@every \xED\xA0\x80\"\n") + kTask);
  Write("bad_id.yaml", std::string("id: \"a\x01\xFF\"\n") + kTask);
  fs::create_symlink(dir_ / "gone", jobs_ / "link\x80\xC3");

  Outcome r = Run("--storage memory: validate --json " + Jobs());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(IsValidUtf8(r.out)) << r.out;
  sdk::Result<Json> doc = Json::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << doc.status().message() << "\n" << r.out;
  std::string files;
  for (const Json& error : doc->Find("errors")->array_items()) {
    EXPECT_TRUE(IsValidUtf8(error.Find("file")->string_value()));
    EXPECT_TRUE(IsValidUtf8(error.Find("message")->string_value()));
    files += error.Find("file")->string_value() + "\n";
  }
  for (const Json& job : doc->Find("jobs")->array_items()) {
    files += job.Find("file")->string_value() + "\n";
  }
  EXPECT_THAT(files, HasSubstr((jobs_ / "latin1_caf").string() + kFffd + ".yaml"));
  EXPECT_THAT(files, HasSubstr((jobs_ / "link").string() + kFffd + kFffd));
  EXPECT_THAT(r.out, Not(HasSubstr("\xFF")));
}

TEST_F(FilesTest, AnEmptyStorageIsAnErrorNotTheDefaultStore) {
  // Were the empty value taken as "the default", these would read or write the default store.
  for (const std::string& storage : {std::string("--storage ''"), std::string("--storage=")}) {
    for (const std::string& command : {std::string("runs"), "trigger " + Jobs() + " x"}) {
      Outcome r = Run(storage + " " + command);
      EXPECT_EQ(r.exit_code, 2) << storage << " " << command << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr("--storage is empty"));
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  std::ofstream(jobs_ / "petit.yaml") << "storage: \"\"\n";
  Write("good.yaml", std::string("id: good\n") + kTask);
  Outcome r = Run("trigger " + Jobs() + " good");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("petit.yaml:1:"));
  EXPECT_THAT(r.err, HasSubstr("'storage' is empty"));

  Outcome no_file = Run("--storage sqlite:// runs");
  EXPECT_NE(no_file.exit_code, 0);
  EXPECT_THAT(no_file.err, HasSubstr("names no file"));
}

TEST_F(FilesTest, ReadOnlyCommandsDoNotCreateAStoreInAMissingDirectory) {
  const fs::path missing = dir_ / "no" / "such" / "dir";
  const std::string storage =
      "--storage " + ShellQuote("sqlite://" + (missing / "petit.db").string());
  const std::string run = RunId::Generate().str();
  for (const std::string& command : {std::string("runs"), "logs " + run, "cancel " + run}) {
    Outcome r = Run(storage + " " + command);
    EXPECT_EQ(r.exit_code, 3) << command << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(missing.string() + " does not exist")) << command;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "no"));

  // A command that writes creates it, as before.
  Write("good.yaml", std::string("id: good\n") + kTask);
  Outcome trigger = Run(storage + " trigger " + Jobs() + " good");
  EXPECT_EQ(trigger.exit_code, 0) << trigger.out << trigger.err;
  EXPECT_TRUE(fs::exists(missing / "petit.db"));
  Outcome runs = Run(storage + " runs");
  EXPECT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_THAT(runs.out, HasSubstr("succeeded"));
}

// The SQLite file pulled from under a running daemon, each way: the next write notices, the
// daemon says so on one line, starts no run after it and exits 3 (so a supervisor restarts it on
// a store it can write) instead of recording into a file nobody reads.
enum class Pull { kDeleted, kReplaced, kMadeUnwritable };

std::string PullName(const ::testing::TestParamInfo<Pull>& param) {
  switch (param.param) {
    case Pull::kDeleted:
      return "Deleted";
    case Pull::kReplaced:
      return "Replaced";
    case Pull::kMadeUnwritable:
      return "MadeUnwritable";
  }
  return "Unknown";
}

class StorePulledTest : public FilesTest, public ::testing::WithParamInterface<Pull> {};

TEST_P(StorePulledTest, TheDaemonSaysSoStopsStartingRunsAndExitsThree) {
  Write("tick.yaml", std::string("id: tick\nschedule: \"@every 1s\"\n") + kTask);
  const fs::path db = dir_ / "state" / "petit.db";
  Write("petit.yaml", petit::testing::kApiAnyPort);
  testing::DaemonProcess daemon(PETIT_EXE,
                                {"--storage", "sqlite://" + db.string(), "run", jobs_.string()});
  ASSERT_TRUE(daemon.WaitFor(" ended: succeeded")) << daemon.err();
  std::string what;
  switch (GetParam()) {
    case Pull::kDeleted:
      fs::remove(db);
      what = "was deleted";
      break;
    case Pull::kReplaced: {
      const fs::path other = dir_ / "state" / "other.db";
      std::ofstream(other) << "";
      fs::rename(other, db);
      what = "was replaced";
      break;
    }
    case Pull::kMadeUnwritable:
      fs::permissions(db, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      fs::perm_options::remove);
      what = "was made unwritable";
      break;
  }
  ASSERT_TRUE(daemon.WaitFor("state store lost: ")) << daemon.err();
  EXPECT_EQ(daemon.WaitForExit(), 3) << daemon.err();
  const std::string& log = daemon.err();
  const size_t lost = log.find("state store lost: ");
  const std::string lost_line = log.substr(lost, log.find('\n', lost) - lost);
  EXPECT_THAT(lost_line, HasSubstr(db.string()));
  EXPECT_THAT(lost_line, HasSubstr(what));
  EXPECT_EQ(daemon.Count("state store lost: "), 1u) << log;
  // Nothing succeeded after the store was lost, and the daemon said why it stopped.
  EXPECT_EQ(log.find(" ended: succeeded", lost), std::string::npos) << log;
  EXPECT_THAT(log.substr(lost), HasSubstr("stopped: the state store was lost"));
  if (GetParam() == Pull::kReplaced) {
    EXPECT_EQ(fs::file_size(db), 0u);  // nothing was written into the file that took its place
  }
}

INSTANTIATE_TEST_SUITE_P(EachWay, StorePulledTest,
                         ::testing::Values(Pull::kDeleted, Pull::kReplaced, Pull::kMadeUnwritable),
                         PullName);

}  // namespace
}  // namespace petit
