// The "did you mean ...?" of error messages about a name that is not known.
//
// ClosestMatch: plausible typos only, by edit distance (task ids, pools, time zones, CLI
// options). GuessName: what a person most likely meant by a name written the way they are used
// to, for keys and names of Petit's files: typos, but also another case or separator
// (`dependsOn`, `depends-on`), another or no unit (`timeout` for `timeout_secs`), a plural, an
// abbreviation (`desc`, `env`, `cmd`) or a part of the name (`delay` for `retry_delay_secs`).
// Pure functions; any thread.
#ifndef PETIT_CORE_SUGGEST_H_
#define PETIT_CORE_SUGGEST_H_

#include <cstddef>
#include <cstdint>
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

// Why GuessName offered its guess, surest first: a caller ranking guesses from several lists
// (keys of this mapping against keys of a nested one) compares these.
enum class GuessKind : uint8_t {
  kSpelling,      // the same words: case, `-`/`_`/camelCase, a plural (`dependsOn`, `exit_code`)
  kUnit,          // the same words with another unit suffix or none (`timeout`, `delay_ms`)
  kTypo,          // within ClosestMatch's edit distance, transpositions counting one (`retyr`)
  kAbbreviation,  // each word shortened, or the guess is the shorter (`desc`, `env`, `warning`)
  kWordPart,      // all the words of one are words of the other (`delay`, `max_retries`)
};

struct NameGuess {
  std::string name;
  GuessKind kind = GuessKind::kTypo;
  // Within one kind, smaller is closer (edits, or words that differ).
  size_t distance = 0;
};

// Orders guesses: surer kind first, then smaller distance.
inline bool Closer(const NameGuess& a, const NameGuess& b) {
  return a.kind != b.kind ? a.kind < b.kind : a.distance < b.distance;
}

// The candidate `word` most likely stands for (the first of equally likely ones), or nullopt.
// Words are split at `_`, `-`, `.`, spaces and camelCase humps and compared lowercased. A unit
// suffix is one of sec(s), second(s), s, ms, milli(s), min(s), minute(s), m, hour(s), h, day(s),
// d, mb, kb, gb, byte(s). Abbreviations are of at least 3 letters; a guess by word parts needs a
// shared word other than max/min/num/is/id. Costs O(|word| + |candidate|) per candidate; words
// longer than kMaxSuggestedWordBytes, and candidates longer than that, get no guess.
std::optional<NameGuess> GuessName(std::string_view word,
                                   const std::vector<std::string_view>& candidates);

// GuessName for many words against the same candidates (every unknown dependency of a job
// against its task ids): the candidates are split into words once. Holds copies of them.
class NameGuesser {
 public:
  explicit NameGuesser(const std::vector<std::string_view>& candidates);
  ~NameGuesser();
  NameGuesser(NameGuesser&&) noexcept;
  NameGuesser& operator=(NameGuesser&&) noexcept;

  std::optional<NameGuess> Guess(std::string_view word) const;

  struct Words;  // a name split into words (suggest.cc)

 private:
  std::vector<Words> candidates_;
};

// The unit a name's suffix states ("seconds" for `timeout_secs`, "milliseconds" for
// `cancel_grace_ms`, "megabytes", "bytes"), or empty.
std::string_view UnitOfName(std::string_view name);

}  // namespace petit

#endif  // PETIT_CORE_SUGGEST_H_
