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

}  // namespace
}  // namespace petit
