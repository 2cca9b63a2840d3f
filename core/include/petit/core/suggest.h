// ClosestMatch: the "did you mean ...?" of every error message about a misspelt name (YAML keys,
// task ids and types, pools, CLI options). One rule everywhere: the candidate with the smallest
// edit distance, offered only when it is plausibly a typo. Pure function; any thread.
#ifndef PETIT_CORE_SUGGEST_H_
#define PETIT_CORE_SUGGEST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace petit {

// Words longer than this get no suggestion: nobody mistypes a name that long, and a hostile one
// (a megabyte-long time zone) must not cost more than a glance.
inline constexpr size_t kMaxSuggestedWordBytes = 256;

// The candidate closest to `word` by Levenshtein distance (the first one on ties), if it is at
// most a third of the word away (at least 1 and at most 3 edits). Costs O(|word|) per candidate
// (a banded distance that stops past 3 edits), whatever the lengths.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string_view>& candidates);

}  // namespace petit

#endif  // PETIT_CORE_SUGGEST_H_
