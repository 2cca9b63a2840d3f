// ClosestMatch: which candidate is offered, and that hostile lengths cost nothing.
#include "petit/core/suggest.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace petit {
namespace {

using std::chrono::steady_clock;

TEST(SuggestTest, OffersTheNearestCandidateWithinAThirdOfTheWord) {
  const std::vector<std::string_view> keys = {"timeout_secs", "retry", "depends_on", "priority"};
  EXPECT_EQ(ClosestMatch("timout_secs", keys), "timeout_secs");
  EXPECT_EQ(ClosestMatch("depend_on", keys), "depends_on");
  EXPECT_EQ(ClosestMatch("retyr", keys), std::nullopt);  // a transposition is two edits, of 1
  EXPECT_EQ(ClosestMatch("retry", keys), "retry");
  EXPECT_EQ(ClosestMatch("nothing_alike", keys), std::nullopt);
  EXPECT_EQ(ClosestMatch("", keys), std::nullopt);
  EXPECT_EQ(ClosestMatch("x", {}), std::nullopt);
}

TEST(SuggestTest, AllowsOneEditPerThreeCharactersAndNeverMoreThanThree) {
  EXPECT_EQ(ClosestMatch("ab", {"xb"}), "xb");  // short words still get one edit
  EXPECT_EQ(ClosestMatch("ab", {"xy"}), std::nullopt);
  EXPECT_EQ(ClosestMatch("abcdef", {"abcdXY"}), "abcdXY");
  EXPECT_EQ(ClosestMatch("abcdef", {"abcXYZ"}), std::nullopt);
  const std::string word(30, 'a');
  EXPECT_EQ(ClosestMatch(word, {std::string(27, 'a')}), std::string(27, 'a'));
  EXPECT_EQ(ClosestMatch(word, {std::string(26, 'a')}), std::nullopt);
  EXPECT_EQ(ClosestMatch(word, {std::string(34, 'a')}), std::nullopt);
  EXPECT_EQ(ClosestMatch(word, {"bbb" + std::string(27, 'a')}), "bbb" + std::string(27, 'a'));
  EXPECT_EQ(ClosestMatch(word, {"bbbb" + std::string(26, 'a')}), std::nullopt);
}

TEST(SuggestTest, TheFirstOfEquallyCloseCandidatesWins) {
  EXPECT_EQ(ClosestMatch("cat", {"bat", "cut", "cat_"}), "bat");
  EXPECT_EQ(ClosestMatch("cat", {"bat", "cat"}), "cat");
}

// Against a plain full-matrix distance, on every pair of short words over a small alphabet: the
// banded distance must agree wherever the answer is within the allowed edits.
size_t FullDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
  }
  return d[a.size()][b.size()];
}

TEST(SuggestTest, AgreesWithTheFullDistanceOnEverySmallPair) {
  std::vector<std::string> words = {""};
  for (size_t length = 1; length <= 7; ++length) {
    for (uint32_t code = 0; code < (1u << length); code += 1 + length) {
      std::string word;
      for (size_t i = 0; i < length; ++i) word.push_back((code >> i) & 1 ? 'a' : 'b');
      words.push_back(word);
    }
  }
  for (const std::string& word : words) {
    const size_t allowed = std::clamp<size_t>(word.size() / 3, 1, 3);
    for (const std::string& candidate : words) {
      const bool close = FullDistance(word, candidate) <= allowed;
      EXPECT_EQ(ClosestMatch(word, {candidate}).has_value(), close)
          << "'" << word << "' against '" << candidate << "'";
    }
  }
}

TEST(SuggestTest, HugeWordsAndCandidatesAnswerAtOnce) {
  const std::string huge(1 << 20, 'z');
  std::vector<std::string> zones;
  for (int i = 0; i < 600; ++i) zones.push_back("Region/City_" + std::to_string(i));
  zones.push_back(huge);
  zones.push_back(huge + "z");
  std::vector<std::string_view> names(zones.begin(), zones.end());
  const auto start = steady_clock::now();
  EXPECT_EQ(ClosestMatch(huge, names), std::nullopt);
  EXPECT_EQ(ClosestMatch(huge.substr(0, kMaxSuggestedWordBytes + 1), names), std::nullopt);
  // The longest word that still gets a suggestion, against candidates of every length around it.
  const std::string longest(kMaxSuggestedWordBytes, 'z');
  std::vector<std::string> near = {huge, longest.substr(1) + "y", longest + "zzz"};
  std::vector<std::string_view> near_names(near.begin(), near.end());
  EXPECT_EQ(ClosestMatch(longest, near_names), longest.substr(1) + "y");
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(100));
}

// GuessName: the mistakes people new to Petit make, one row each, against the keys of the
// mapping they were writing in. `expected` empty: no guess must be offered.
struct GuessRow {
  std::string_view word;
  std::vector<std::string_view> candidates;
  std::string_view expected;
  GuessKind kind = GuessKind::kTypo;
};

const std::vector<std::string_view> kTask = {
    "id",      "name",         "type",        "depends_on",  "condition",
    "retry",   "timeout_secs", "priority",    "resources",   "output_cap_bytes",
    "command", "args",         "working_dir", "environment", "params"};
const std::vector<std::string_view> kRetry = {"max_attempts",       "delay_secs",     "condition",
                                              "backoff_multiplier", "max_delay_secs", "jitter",
                                              "exit_codes"};
const std::vector<std::string_view> kJob = {
    "id",      "name",     "description",     "schedule",           "enabled",
    "config",  "tasks",    "max_concurrency", "max_active_runs",    "depends_on",
    "overlap", "catch_up", "catch_up_limit",  "max_parallel_tasks", "api_visible"};
const std::vector<std::string_view> kPlugins = {"isolation", "per_plugin", "per_type",
                                                "memory_limit_mb", "cancel_grace_ms"};
const std::vector<std::string_view> kLevels = {"trace", "debug", "info", "warn", "error"};

TEST(SuggestTest, GuessNameFindsWhatANewUserMeant) {
  using enum GuessKind;
  const std::vector<GuessRow> rows = {
      // case, separators, camelCase and plurals
      {"dependsOn", kTask, "depends_on", kSpelling},
      {"depends-on", kTask, "depends_on", kSpelling},
      {"Depends_On", kTask, "depends_on", kSpelling},
      {"TIMEOUT_SECS", kTask, "timeout_secs", kSpelling},
      {"workingDir", kTask, "working_dir", kSpelling},
      {"exit_code", kRetry, "exit_codes", kSpelling},
      {"task", kJob, "tasks", kSpelling},
      {"catchup", kJob, "catch_up", kSpelling},
      {"maxActiveRuns", kJob, "max_active_runs", kSpelling},
      {"dependson", kTask, "depends_on", kSpelling},
      {"apiVisible", kJob, "api_visible", kSpelling},
      // a unit left out, or another unit
      {"timeout", kTask, "timeout_secs", kUnit},
      {"timeout_ms", kTask, "timeout_secs", kUnit},
      {"timeout_seconds", kTask, "timeout_secs", kUnit},
      {"timeoutSec", kTask, "timeout_secs", kSpelling},  // secs and sec are one unit
      {"delay", kRetry, "delay_secs", kUnit},
      {"delay_ms", kRetry, "delay_secs", kUnit},
      {"max_delay", kRetry, "max_delay_secs", kUnit},
      {"maxDelay", kRetry, "max_delay_secs", kUnit},
      {"output_cap", kTask, "output_cap_bytes", kUnit},
      {"memory_limit", kPlugins, "memory_limit_mb", kUnit},
      {"cancel_grace_secs", kPlugins, "cancel_grace_ms", kUnit},
      {"cancel_grace", kPlugins, "cancel_grace_ms", kUnit},
      // typos, a transposition counting one edit
      {"timout", kTask, "timeout_secs", kTypo},
      {"priorty", kTask, "priority", kTypo},
      {"dealy", kRetry, "delay_secs", kTypo},
      {"shedule", kJob, "schedule", kTypo},
      {"retyr", kTask, "retry", kTypo},
      {"max_atempts", kRetry, "max_attempts", kTypo},
      // abbreviations, and long forms of a short key
      {"desc", kJob, "description", kAbbreviation},
      {"env", kTask, "environment", kAbbreviation},
      {"cmd", kTask, "command", kAbbreviation},
      {"max_conc", kJob, "max_concurrency", kAbbreviation},
      {"working_directory", kTask, "working_dir", kAbbreviation},
      {"arguments", kTask, "args", kAbbreviation},
      {"parameters", kTask, "params", kAbbreviation},
      {"warning", kLevels, "warn", kAbbreviation},
      {"information", kLevels, "info", kAbbreviation},
      {"descr", kJob, "description", kAbbreviation},
      // a part of the name, or the name with more words
      {"grace", kPlugins, "cancel_grace_ms", kWordPart},
      {"backoff", kRetry, "backoff_multiplier", kWordPart},
      {"multiplier", kRetry, "backoff_multiplier", kWordPart},
      {"concurrency", kJob, "max_concurrency", kWordPart},
      {"retry_condition", kRetry, "condition", kWordPart},
      {"task_timeout", kTask, "timeout_secs", kWordPart},
      {"parallel_tasks", kJob, "max_parallel_tasks", kWordPart},
      {"max_retries", kTask, "retry", kWordPart},
      {"job_schedule", kJob, "schedule", kWordPart},
      // nothing a person could have meant: no guess
      {"owner", kJob, "", kTypo},
      {"max_foo", kJob, "", kTypo},  // "max" alone says nothing
      {"task_id", kRetry, "", kTypo},
      {"xyz", kTask, "", kTypo},
      {"m", kRetry, "", kTypo},
      {"zzzzzzzz", kLevels, "", kTypo},
  };
  for (const GuessRow& row : rows) {
    std::optional<NameGuess> guess = GuessName(row.word, row.candidates);
    if (row.expected.empty()) {
      EXPECT_EQ(guess, std::nullopt) << row.word << " guessed " << guess->name;
      continue;
    }
    ASSERT_TRUE(guess.has_value()) << row.word;
    EXPECT_EQ(guess->name, row.expected) << row.word;
    EXPECT_EQ(guess->kind, row.kind) << row.word << " guessed " << guess->name;
  }
}

TEST(SuggestTest, GuessNamePrefersTheSurerKindAndThenTheCloserCandidate) {
  // "delay" is a word of both; its own name with a unit beats a name it is only a part of.
  EXPECT_EQ(GuessName("delay", {"max_delay_secs", "delay_secs"})->name, "delay_secs");
  // A plain typo beats an abbreviation of a longer key.
  EXPECT_EQ(GuessName("conf", {"condition", "config", "conf_"})->name, "conf_");
  // Among abbreviations, the one that leaves out the fewest letters.
  EXPECT_EQ(GuessName("cond", {"condition", "cond_x_y"})->name, "condition");
  EXPECT_EQ(GuessName("con", {"condition", "config"})->name, "config");
  // Equally close: the first candidate.
  EXPECT_EQ(GuessName("delay", {"delay_ms", "delay_secs"})->name, "delay_ms");
  EXPECT_EQ(GuessName("", kTask), std::nullopt);
  EXPECT_EQ(GuessName("x", {}), std::nullopt);
}

TEST(SuggestTest, GuessNameGuessesWhereverClosestMatchDoes) {
  // GuessName adds kinds of guesses; every typo ClosestMatch finds, it finds too.
  for (std::string_view word : {"timout_secs", "depend_on", "retry", "ab", "abcdef"}) {
    for (const auto& candidates : {kTask, kRetry, kJob, std::vector<std::string_view>{"xb"},
                                   std::vector<std::string_view>{"abcdXY"}}) {
      std::optional<std::string> close = ClosestMatch(word, candidates);
      if (!close) continue;
      std::optional<NameGuess> guess = GuessName(word, candidates);
      ASSERT_TRUE(guess.has_value()) << word << " against " << candidates.front();
      EXPECT_LE(guess->kind, GuessKind::kTypo) << word;
    }
  }
}

TEST(SuggestTest, UnitOfNameReadsTheSuffix) {
  EXPECT_EQ(UnitOfName("timeout_secs"), "seconds");
  EXPECT_EQ(UnitOfName("cancel_grace_ms"), "milliseconds");
  EXPECT_EQ(UnitOfName("memory_limit_mb"), "megabytes");
  EXPECT_EQ(UnitOfName("output_cap_bytes"), "bytes");
  EXPECT_EQ(UnitOfName("intervalSec"), "seconds");
  EXPECT_EQ(UnitOfName("timeout"), "");
  EXPECT_EQ(UnitOfName("secs"), "");
  EXPECT_EQ(UnitOfName("priority"), "");
}

TEST(SuggestTest, GuessNameOnHugeWordsAndManyCandidatesAnswersAtOnce) {
  const std::string huge(1 << 20, 'z');
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back("load_table_" + std::to_string(i) + "_daily");
  ids.push_back(huge);
  std::vector<std::string_view> names(ids.begin(), ids.end());
  // A megabyte-long word or candidate costs a glance, not a distance over a megabyte.
  auto start = steady_clock::now();
  EXPECT_EQ(GuessName(huge, names), std::nullopt);
  EXPECT_EQ(GuessName(huge.substr(0, 300), {huge, huge + "_secs"}), std::nullopt);
  EXPECT_EQ(GuessName("zzz", {huge}), std::nullopt);
  EXPECT_LT(steady_clock::now() - start, std::chrono::milliseconds(500));
  // Many candidates are split once; each guess is then linear in them (about 1 us each in a
  // release build; the bound is for a loaded machine running ASan).
  start = steady_clock::now();
  const NameGuesser guesser(names);
  EXPECT_EQ(guesser.Guess("Load-Table-17-Daily")->name, "load_table_17_daily");
  for (int i = 0; i < 5; ++i) guesser.Guess("nothing_like_any_" + std::to_string(i));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace petit
