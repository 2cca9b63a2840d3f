#include "petit/core/suggest.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <utility>

namespace petit {
namespace {

// The most edits a suggestion may be away from the word (see the header).
constexpr size_t kMaxSuggestionDistance = 3;

size_t AllowedDistance(std::string_view word) {
  return std::clamp<size_t>(word.size() / 3, 1, kMaxSuggestionDistance);
}

// Levenshtein distance of `a` and `b` when it is at most `limit`, otherwise any value above
// `limit`. Only the diagonal band |i - j| <= limit can hold such a distance, so the cost is
// O(|a| * limit) instead of O(|a| * |b|), and it stops as soon as a whole row exceeds `limit`:
// a megabyte-long name answers in microseconds.
size_t BoundedEditDistance(std::string_view a, std::string_view b, size_t limit) {
  const size_t longer = std::max(a.size(), b.size());
  const size_t shorter = std::min(a.size(), b.size());
  if (longer - shorter > limit) return limit + 1;
  const size_t over = limit + 1;
  // Every caller's `b` is short (words are, and `b` is within `limit` of a word), so the row
  // lives on the stack; the heap is for a caller that breaks that rule.
  std::array<size_t, kMaxSuggestedWordBytes + 8> stack_row;
  std::vector<size_t> heap_row;
  size_t* row = stack_row.data();
  if (b.size() + 1 > stack_row.size()) {
    heap_row.resize(b.size() + 1);
    row = heap_row.data();
  }
  std::fill(row, row + b.size() + 1, over);
  for (size_t j = 0; j <= std::min(b.size(), limit); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    const size_t first = i > limit ? i - limit : 1;
    const size_t last = std::min(b.size(), i + limit);
    size_t diagonal = row[first - 1];
    row[first - 1] = first == 1 && i <= limit ? i : over;
    size_t row_min = row[first - 1];
    for (size_t j = first; j <= last; ++j) {
      const size_t above = row[j];
      const size_t cost = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, cost, over});
      diagonal = above;
      row_min = std::min(row_min, row[j]);
    }
    if (row_min > limit) return over;
  }
  return row[b.size()];
}

// True when swapping one pair of adjacent characters of `a` gives `b`: the commonest slip of a
// typist, one edit for a reader but two for Levenshtein.
bool IsOneTransposition(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.size() < 2) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i + 1 >= a.size()) return false;
  if (a[i] != b[i + 1] || a[i + 1] != b[i]) return false;
  return a.substr(i + 2) == b.substr(i + 2);
}

// Edits from `a` to `b` when at most `limit` (a transposition counting one), else limit + 1.
size_t TypoDistance(std::string_view a, std::string_view b, size_t limit) {
  if (IsOneTransposition(a, b)) return 1;
  return BoundedEditDistance(a, b, limit);
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsSeparator(char c) { return c == '_' || c == '-' || c == '.' || c == ' '; }

// "retries" -> "retry", "secs" -> "sec", "tasks" -> "task"; "ms", "process", "status" stay.
std::string Singular(std::string part) {
  const size_t n = part.size();
  if (n > 3 && part.compare(n - 3, 3, "ies") == 0) return part.substr(0, n - 3) + "y";
  if (n > 2 && part.back() == 's' && part[n - 2] != 's' && part[n - 2] != 'u') part.pop_back();
  return part;
}

struct UnitWord {
  std::string_view word;  // singular, lowercase
  std::string_view unit;
};
constexpr std::array<UnitWord, 20> kUnitWords = {{
    {"sec", "seconds"},
    {"second", "seconds"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"milli", "milliseconds"},
    {"msec", "milliseconds"},
    {"millisecond", "milliseconds"},
    {"min", "minutes"},
    {"minute", "minutes"},
    {"m", "minutes"},
    {"hour", "hours"},
    {"h", "hours"},
    {"day", "days"},
    {"d", "days"},
    {"mb", "megabytes"},
    {"mib", "megabytes"},
    {"kb", "kilobytes"},
    {"gb", "gigabytes"},
    {"byte", "bytes"},
    {"b", "bytes"},
}};

std::string_view UnitOfWord(std::string_view word) {
  for (const UnitWord& unit : kUnitWords) {
    if (unit.word == word) return unit.unit;
  }
  return {};
}

// Words that say little about what a name is for: a match on them alone is no guess.
bool IsFillerWord(std::string_view word) {
  return word == "max" || word == "min" || word == "num" || word == "is" || word == "id" ||
         word == "of" || word == "the" || word == "n" || word == "default";
}

std::vector<std::string> SplitWords(std::string_view name) {
  std::vector<std::string> words;
  std::string current;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (IsSeparator(c)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
      continue;
    }
    // A hump of camelCase starts a word: "dependsOn", "maxActiveRuns", "intervalSec".
    if (IsUpper(c) && !current.empty() && IsLowerOrDigit(name[i - 1])) {
      words.push_back(std::move(current));
      current.clear();
    }
    current.push_back(Lower(c));
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

// `a` shortens `b`: the same first letter, and the rest of `a` appears in `b` in order
// ("desc"/"description", "cmd"/"command", "env"/"environment", "conc"/"concurrency").
bool Abbreviates(std::string_view a, std::string_view b) {
  if (a.empty() || a.size() >= b.size() || a.front() != b.front()) return false;
  size_t j = 1;
  for (size_t i = 1; i < a.size(); ++i) {
    while (j < b.size() && b[j] != a[i]) ++j;
    if (j == b.size()) return false;
    ++j;
  }
  return true;
}

std::string Join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out.append(separator);
    out.append(word);
  }
  return out;
}

}  // namespace

struct NameGuesser::Words {
  std::string name;               // as given
  std::string lowered;            // lowercase, separators dropped: "dependson"
  std::string joined;             // singular words, no separators: "dependon"
  std::string snake;              // singular words joined by '_': "depend_on"
  std::vector<std::string> stem;  // singular words but a trailing unit: timeout_secs -> timeout
  std::string stem_joined;
  std::string stem_snake;
  bool has_unit = false;
  size_t letters = 0;  // letters and digits in all

  explicit Words(std::string_view text) : name(text) {
    std::vector<std::string> words = SplitWords(text);
    for (const std::string& word : words) {
      lowered += word;
      letters += word.size();
    }
    for (std::string& word : words) word = Singular(std::move(word));
    joined = Join(words, "");
    snake = Join(words, "_");
    has_unit = words.size() > 1 && !UnitOfWord(words.back()).empty();
    if (has_unit) words.pop_back();
    stem_joined = Join(words, "");
    stem_snake = Join(words, "_");
    stem = std::move(words);
  }
};

namespace {

using Words = NameGuesser::Words;

// Each word of `a` shortens (or is) the word of `b` at the same place, and one at least is
// shorter: "max_conc" for "max_concurrency".
bool AbbreviatesWords(const Words& a, const Words& b, size_t* omitted) {
  if (a.stem.empty() || a.stem.size() != b.stem.size() || a.letters < 3) return false;
  bool shorter = false;
  for (size_t i = 0; i < a.stem.size(); ++i) {
    if (a.stem[i] == b.stem[i]) continue;
    if (a.stem[i].size() < 2 || !Abbreviates(a.stem[i], b.stem[i])) return false;
    shorter = true;
  }
  if (!shorter) return false;
  *omitted = b.stem_joined.size() - a.stem_joined.size();
  return true;
}

// Every word of `a` is a word of `b`, one of them saying what the name is for.
bool WordsWithin(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  bool telling = false;
  for (const std::string& word : a) {
    if (std::find(b.begin(), b.end(), word) == b.end()) return false;
    telling = telling || !IsFillerWord(word);
  }
  return telling;
}

// The words only one of `a` and `b` has, a telling word counting two and a filler one.
size_t WordsApart(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t apart = 0;
  for (const auto& [from, to] : {std::pair(&a, &b), std::pair(&b, &a)}) {
    for (const std::string& word : *from) {
      if (std::find(to->begin(), to->end(), word) == to->end()) apart += IsFillerWord(word) ? 1 : 2;
    }
  }
  return apart;
}

std::optional<NameGuess> Compare(const Words& word, const Words& candidate) {
  if (word.name == candidate.name) return NameGuess{candidate.name, GuessKind::kSpelling, 0};
  if (word.joined.empty() || candidate.joined.empty()) return std::nullopt;
  if (word.lowered == candidate.lowered || word.joined == candidate.joined) {
    return NameGuess{candidate.name, GuessKind::kSpelling, 0};
  }
  if ((word.has_unit || candidate.has_unit) && !word.stem_joined.empty() &&
      word.stem_joined == candidate.stem_joined) {
    return NameGuess{candidate.name, GuessKind::kUnit, 0};
  }
  const size_t allowed = AllowedDistance(word.name);
  // As written too, so that every typo ClosestMatch finds is found ("abcdef" for "abcdXY").
  size_t typo = std::min(TypoDistance(word.snake, candidate.snake, allowed),
                         TypoDistance(word.name, candidate.name, allowed));
  if (typo > allowed && word.has_unit != candidate.has_unit && !word.stem_snake.empty()) {
    const size_t stem_allowed = AllowedDistance(word.stem_snake);
    const size_t stem_typo = TypoDistance(word.stem_snake, candidate.stem_snake, stem_allowed);
    if (stem_typo <= stem_allowed) typo = std::min(typo, stem_typo);
  }
  if (typo <= allowed) return NameGuess{candidate.name, GuessKind::kTypo, typo};
  size_t omitted = 0;
  if (AbbreviatesWords(word, candidate, &omitted) || AbbreviatesWords(candidate, word, &omitted)) {
    return NameGuess{candidate.name, GuessKind::kAbbreviation, omitted};
  }
  if (WordsWithin(word.stem, candidate.stem) || WordsWithin(candidate.stem, word.stem)) {
    return NameGuess{candidate.name, GuessKind::kWordPart, WordsApart(word.stem, candidate.stem)};
  }
  return std::nullopt;
}

}  // namespace

NameGuesser::NameGuesser(const std::vector<std::string_view>& candidates) {
  candidates_.reserve(candidates.size());
  for (std::string_view candidate : candidates) {
    if (candidate.size() <= kMaxSuggestedWordBytes) candidates_.emplace_back(candidate);
  }
}

NameGuesser::~NameGuesser() = default;
NameGuesser::NameGuesser(NameGuesser&&) noexcept = default;
NameGuesser& NameGuesser::operator=(NameGuesser&&) noexcept = default;

std::optional<NameGuess> NameGuesser::Guess(std::string_view word) const {
  if (word.empty() || word.size() > kMaxSuggestedWordBytes) return std::nullopt;
  const Words words(word);
  std::optional<NameGuess> best;
  for (const Words& candidate : candidates_) {
    std::optional<NameGuess> guess = Compare(words, candidate);
    if (guess && (!best || Closer(*guess, *best))) best = std::move(guess);
  }
  return best;
}

std::optional<NameGuess> GuessName(std::string_view word,
                                   const std::vector<std::string_view>& candidates) {
  if (word.empty() || word.size() > kMaxSuggestedWordBytes) return std::nullopt;
  return NameGuesser(candidates).Guess(word);
}

std::string_view UnitOfName(std::string_view name) {
  std::vector<std::string> words = SplitWords(name);
  if (words.size() < 2) return {};
  return UnitOfWord(Singular(words.back()));
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  if (word.size() > kMaxSuggestedWordBytes) return std::nullopt;
  const size_t allowed = AllowedDistance(word);
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    const size_t limit = std::min(allowed, best_distance == 0 ? 0 : best_distance - 1);
    const size_t distance = BoundedEditDistance(word, candidate, limit);
    if (distance <= limit) {
      best_distance = distance;
      best = std::string(candidate);
      if (distance == 0) break;
    }
  }
  return best;
}

}  // namespace petit
