#include "petit/core/ids.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::HasSubstr;

constexpr int kManyIds = 10000;

static_assert(!std::is_convertible_v<TaskId, JobId>, "task ids and job ids must not mix");
static_assert(!std::is_convertible_v<std::string, TaskId>, "ids are built explicitly");

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ValidateNameTest, AcceptsLettersDigitsUnderscoreDotDash) {
  EXPECT_TRUE(ValidateName("extract", "task id").ok());
  EXPECT_TRUE(ValidateName("_private.step-2", "task id").ok());
  EXPECT_TRUE(ValidateName("0day", "task id").ok());
  EXPECT_TRUE(ValidateName(std::string(128, 'a'), "task id").ok());
}

TEST(ValidateNameTest, RejectsEmpty) {
  const Status status = ValidateName("", "job id");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "job id must not be empty");
}

TEST(ValidateNameTest, RejectsMoreThan128Characters) {
  const Status status = ValidateName(std::string(129, 'a'), "task id");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("129 characters long (at most 128)"));
}

TEST(ValidateNameTest, RejectsALeadingDotOrDash) {
  EXPECT_THAT(ValidateName(".hidden", "task id").message(),
              HasSubstr("must start with a letter, a digit or '_'"));
  EXPECT_FALSE(ValidateName("-x", "task id").ok());
}

TEST(ValidateNameTest, NamesTheOffendingCharacterAndWhatWasChecked) {
  const Status status = ValidateName("my task", "task id");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "task id 'my task' contains ' ' at position 3 (allowed: letters, digits, '_', '.', "
            "'-')");
}

TEST(ValidateNameTest, EscapesControlAndNonAsciiBytes) {
  EXPECT_THAT(ValidateName("a\nb", "task id").message(), HasSubstr("'a\\x0ab' contains '\\x0a'"));
  // A character of another script is shown as itself; a byte of no character, escaped.
  EXPECT_THAT(ValidateName("caf\xc3\xa9", "task id").message(),
              HasSubstr("'caf\xc3\xa9' contains '\xc3\xa9' at position 4"));
  EXPECT_THAT(ValidateName("caf\xff", "task id").message(), HasSubstr("contains '\\xff'"));
  EXPECT_FALSE(ValidateName("a/b", "task id").ok());
  EXPECT_FALSE(ValidateName("a$b", "task id").ok());
}

TEST(RunIdTest, GeneratedIdIsACanonicalUuidV7) {
  const RunId id = RunId::Generate();
  const std::string& text = id.str();
  ASSERT_EQ(text.size(), 36u);
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(text[i], '-') << text;
    } else {
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(text[i])) &&
                  !std::isupper(static_cast<unsigned char>(text[i])))
          << text;
    }
  }
  EXPECT_EQ(text[14], '7') << "version nibble: " << text;
  EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << "variant bits: " << text;
}

TEST(RunIdTest, GeneratedIdCarriesTheCurrentTime) {
  const int64_t before = NowMs();
  const RunId id = RunId::Generate();
  const int64_t after = NowMs();
  EXPECT_GE(id.unix_ms(), before);
  EXPECT_LE(id.unix_ms(), after);
}

TEST(RunIdTest, GenerateAtEncodesTheGivenTime) {
  EXPECT_EQ(RunId::GenerateAt(0).unix_ms(), 0);
  EXPECT_EQ(RunId::GenerateAt(1700000000123).unix_ms(), 1700000000123);
  constexpr int64_t kMaxMs = (int64_t{1} << 48) - 1;
  const RunId last = RunId::GenerateAt(kMaxMs);
  EXPECT_EQ(last.unix_ms(), kMaxMs);
  EXPECT_EQ(last.str().substr(0, 13), "ffffffff-ffff");
}

TEST(RunIdTest, IdsOfOneMillisecondSortInCreationOrder) {
  std::vector<RunId> ids;
  for (int i = 0; i < kManyIds; ++i) ids.push_back(RunId::GenerateAt(1700000000000));
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1].str(), ids[i].str()) << "at " << i;
    ASSERT_EQ(ids[i].unix_ms(), 1700000000000);
  }
}

TEST(RunIdTest, LaterTimestampsSortLater) {
  const RunId first = RunId::GenerateAt(1000);
  const RunId second = RunId::GenerateAt(1001);
  EXPECT_LT(first, second);
  EXPECT_LT(first.str(), second.str());
}

TEST(RunIdTest, TenThousandGeneratedIdsAreUniqueAndStrictlyIncreasing) {
  std::vector<std::string> ids;
  ids.reserve(kManyIds);
  for (int i = 0; i < kManyIds; ++i) ids.push_back(RunId::Generate().str());
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(RunIdTest, IdsGeneratedOnSeveralThreadsAreUniqueAndOrderedPerThread) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = kManyIds / kThreads;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&ids = per_thread[static_cast<size_t>(t)]] {
        ids.reserve(kPerThread);
        for (int i = 0; i < kPerThread; ++i) ids.push_back(RunId::Generate().str());
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  std::unordered_set<std::string> all;
  for (const auto& ids : per_thread) {
    ASSERT_EQ(ids.size(), static_cast<size_t>(kPerThread));
    for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]);
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kManyIds));
}

TEST(RunIdTest, ParseRoundTripsAGeneratedId) {
  const RunId id = RunId::Generate();
  const Result<RunId> parsed = RunId::Parse(id.str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, id);
  EXPECT_EQ(parsed->unix_ms(), id.unix_ms());
}

TEST(RunIdTest, ParseAcceptsUpperCaseAndReturnsLowerCase) {
  const Result<RunId> parsed = RunId::Parse("018F3A4B-5C6D-7E8F-9A0B-1C2D3E4F5A6B");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->str(), "018f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b");
  EXPECT_EQ(parsed->unix_ms(), 0x018f3a4b5c6d);
}

TEST(RunIdTest, ParseRejectsMalformedText) {
  EXPECT_THAT(RunId::Parse("").status().message(), HasSubstr("expected 36 characters, got 0"));
  EXPECT_THAT(RunId::Parse("018f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6").status().message(),
              HasSubstr("got 35"));
  EXPECT_THAT(RunId::Parse("018f3a4b+5c6d-7e8f-9a0b-1c2d3e4f5a6b").status().message(),
              HasSubstr("expected '-' at position 9"));
  EXPECT_THAT(RunId::Parse("018f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6g").status().message(),
              HasSubstr("'g' at position 36 is not a hex digit"));
  EXPECT_EQ(RunId::Parse("018f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6g").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RunIdTest, ParseRejectsOtherUuidVersionsAndVariants) {
  EXPECT_THAT(RunId::Parse("9b2f3a4b-5c6d-4e8f-9a0b-1c2d3e4f5a6b").status().message(),
              HasSubstr("version 4"));
  EXPECT_THAT(RunId::Parse("018f3a4b-5c6d-7e8f-ca0b-1c2d3e4f5a6b").status().message(),
              HasSubstr("variant"));
}

TEST(RunIdTest, EmptyIdHasNoTime) {
  const RunId id;
  EXPECT_TRUE(id.empty());
  EXPECT_EQ(id.unix_ms(), 0);
}

TEST(NameIdTest, ComparesAndHashesByValue) {
  EXPECT_EQ(TaskId("a"), TaskId("a"));
  EXPECT_LT(TaskId("a"), TaskId("b"));
  std::unordered_set<TaskId> set{TaskId("a"), TaskId("a"), TaskId("b")};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace petit
