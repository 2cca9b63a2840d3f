#include "cron.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <string>
#include <vector>

#include "petit/core/suggest.h"
#include "text.h"

namespace petit::internal {
namespace {

enum class Field : uint8_t { kSecond, kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek };

struct FieldInfo {
  std::string_view name;
  uint32_t min;
  uint32_t max;       // the largest value accepted (7 for day of week: Sunday again)
  uint32_t star_max;  // the end of `*` and of `a/n` (6 for day of week, so Sunday counts once)
  const std::vector<std::string_view>* names;  // names[i] stands for min + i; nullptr if none
};

const std::vector<std::string_view> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const std::vector<std::string_view> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldInfo& Info(Field field) {
  static const std::array<FieldInfo, 6> kInfo = {{
      {"second", 0, 59, 59, nullptr},
      {"minute", 0, 59, 59, nullptr},
      {"hour", 0, 23, 23, nullptr},
      {"day-of-month", 1, 31, 31, nullptr},
      {"month", 1, 12, 12, &kMonthNames},
      {"day-of-week", 0, 7, 6, &kDayNames},
  }};
  return kInfo[static_cast<size_t>(field)];
}

// The most `#` can ask for: no month has a sixth Monday.
constexpr uint32_t kMaxNth = 5;
// Nine digits always fit in uint32_t; anything longer is out of range for every field.
constexpr size_t kMaxDigits = 9;
// `@every` periods stop at one Gregorian cycle, so an interval schedule, like a cron one, fires
// at least once in any 400 years and never overflows microseconds.
constexpr int64_t kMaxEverySeconds = 146097 * kSecondsPerDay;
// Any 400 consecutive Gregorian years hold every (month length, first weekday) combination, so a
// date search over this many years from any start settles whether an expression can ever fire.
constexpr int64_t kGregorianCycleYears = 400;

// One field's text while it is parsed, so every error names the field and the bad part.
class FieldParser {
 public:
  FieldParser(Field field, std::string_view text)
      : field_(field), info_(Info(field)), text_(text) {}

  Status Parse() {
    star_ = !text_.empty() && text_.front() == '*';
    size_t start = 0;
    while (true) {
      const size_t comma = text_.find(',', start);
      const std::string_view item = text_.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      PETIT_RETURN_IF_ERROR(ParseItem(item));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (field_ == Field::kDayOfWeek && (bits_ & (uint64_t{1} << 7)) != 0) {
      bits_ = (bits_ & ~(uint64_t{1} << 7)) | 1;
    }
    return Status::Ok();
  }

  uint64_t bits() const { return bits_; }
  bool star() const { return star_; }
  bool last() const { return last_; }
  // nth()[w] bit n-1: the n-th weekday w of the month (`w#n`).
  const std::array<uint8_t, 7>& nth() const { return nth_; }

 private:
  Status Error(std::string problem) const {
    std::string message(info_.name);
    message.append(" field ").append(Quoted(text_)).append(": ").append(problem);
    return InvalidArgument(std::move(message));
  }

  // "value" when `part` is the whole field, "value '25'" when it is one part of it.
  std::string Mention(std::string_view noun, std::string_view part) const {
    std::string out(noun);
    if (part != text_) out.append(" ").append(Quoted(part));
    return out;
  }

  std::string RangeText() const {
    return std::to_string(info_.min) + "-" + std::to_string(info_.max);
  }

  Status ParseItem(std::string_view item) {
    if (item.empty()) return Error("empty list item");
    if (item == "?") return Error("'?' is not supported; write '*'");
    if (item == "L" || item == "l") {
      if (field_ != Field::kDayOfMonth) {
        return Error("'L' (last day of the month) is only allowed in the day-of-month field");
      }
      last_ = true;
      return Status::Ok();
    }
    if (const size_t hash = item.find('#'); hash != std::string_view::npos) {
      return ParseNth(item, hash);
    }

    const size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    uint32_t low = 0;
    uint32_t high = 0;
    uint32_t step = 1;
    if (slash != std::string_view::npos) {
      Result<uint32_t> parsed = ParseStep(item, item.substr(slash + 1));
      if (!parsed.ok()) return parsed.status();
      step = *parsed;
    }
    if (base == "*") {
      low = info_.min;
      high = info_.star_max;
    } else if (const size_t dash = base.find('-'); dash != std::string_view::npos) {
      Result<uint32_t> first = ParseValue(base.substr(0, dash), item);
      if (!first.ok()) return first.status();
      Result<uint32_t> last = ParseValue(base.substr(dash + 1), item);
      if (!last.ok()) return last.status();
      low = *first;
      high = *last;
      // `FRI-SUN` reads naturally as Friday to Sunday: Sunday closes a range as 7, not 0.
      if (field_ == Field::kDayOfWeek && high == 0 && low > 0) high = 7;
      if (low > high) {
        return Error(Mention("range", item) +
                     " goes backwards (ranges do not wrap around; write two, e.g. '22-23,0-2')");
      }
    } else {
      Result<uint32_t> value = ParseValue(base, item);
      if (!value.ok()) return value.status();
      low = *value;
      // `a/n` is Vixie's shorthand for `a-max/n`.
      high = slash == std::string_view::npos ? low : std::max(low, info_.star_max);
    }
    for (uint32_t v = low; v <= high; v += step) bits_ |= uint64_t{1} << v;
    return Status::Ok();
  }

  Status ParseNth(std::string_view item, size_t hash) {
    if (field_ != Field::kDayOfWeek) {
      return Error("'#' (n-th weekday of the month) is only allowed in the day-of-week field");
    }
    const std::string_view day_text = item.substr(0, hash);
    const std::string_view nth_text = item.substr(hash + 1);
    if (day_text.find_first_of("-/*") != std::string_view::npos) {
      return Error(Mention("item", item) + ": '#' takes a single day, e.g. 'FRI#2'");
    }
    Result<uint32_t> day = ParseValue(day_text, item);
    if (!day.ok()) return day.status();
    const std::optional<uint32_t> nth = ParseNumber(nth_text);
    if (!nth || *nth < 1 || *nth > kMaxNth) {
      return Error(Mention("occurrence", nth_text) + " after '#' must be 1-5");
    }
    nth_[*day % 7] |= static_cast<uint8_t>(1u << (*nth - 1));
    return Status::Ok();
  }

  Result<uint32_t> ParseStep(std::string_view item, std::string_view step_text) {
    const std::optional<uint32_t> step = ParseNumber(step_text);
    if (!step) return Error(Mention("step", item) + " needs a number after '/'");
    if (*step == 0) return Error(Mention("step", item) + " must be at least 1");
    const uint32_t span = info_.star_max - info_.min + 1;
    if (*step > span) {
      return Error(Mention("step", item) + " is larger than the field's range " +
                   std::to_string(info_.min) + "-" + std::to_string(info_.star_max) +
                   " (for a fixed interval write '@every <duration>')");
    }
    return *step;
  }

  static std::optional<uint32_t> ParseNumber(std::string_view text) {
    if (text.empty() || text.size() > kMaxDigits) return std::nullopt;
    uint32_t value = 0;
    for (const char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    return value;
  }

  // `part` is one value of `item`: a bound of a range, the day before `#`, the start of a step.
  Result<uint32_t> ParseValue(std::string_view part, std::string_view item) {
    if (part.empty()) return Error(Mention("item", item) + " is missing a value");
    const bool digits = part.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      const std::optional<uint32_t> value = ParseNumber(part);
      if (!value || *value < info_.min || *value > info_.max) {
        return Error(Mention("value", part) + " out of range " + RangeText());
      }
      return *value;
    }
    const bool letters = std::all_of(part.begin(), part.end(), [](char c) {
      return std::isalpha(static_cast<unsigned char>(c)) != 0;
    });
    if (!letters) return Error(Mention("value", part) + " is not a number" + NameHint());
    if (info_.names == nullptr) return Error(Mention("value", part) + " is not a number");
    std::string upper(part);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::vector<std::string_view>& names = *info_.names;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == upper) return info_.min + static_cast<uint32_t>(i);
    }
    std::string problem = "unknown name";
    if (part != text_) problem.append(" ").append(Quoted(part));
    if (std::optional<std::string> close = ClosestMatch(upper, names)) {
      problem.append(" (did you mean '").append(*close).append("'?)");
    } else {
      problem.append(NameHint());
      // The whole word for its abbreviation ("MONDAY", "January").
      if (std::optional<NameGuess> guess = GuessName(upper, names)) {
        problem.append("; did you mean '").append(guess->name).append("'?");
      }
    }
    return Error(std::move(problem));
  }

  std::string NameHint() const {
    if (info_.names == nullptr) return "";
    return " (expected " + RangeText() + " or " + std::string(info_.names->front()) + ".." +
           std::string(info_.names->back()) + ")";
  }

  Field field_;
  const FieldInfo& info_;
  std::string_view text_;
  uint64_t bits_ = 0;
  bool star_ = false;
  bool last_ = false;
  std::array<uint8_t, 7> nth_{};
};

std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Macro {
  std::string_view name;
  std::string_view fields;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

Result<std::string_view> ExpandMacro(const std::vector<std::string_view>& words) {
  const std::string name = Lower(words.front());
  for (const Macro& macro : kMacros) {
    if (macro.name != name) continue;
    if (words.size() > 1) return InvalidArgument("macro " + Quoted(name) + " takes no arguments");
    return macro.fields;
  }
  std::vector<std::string_view> names = {"@every"};
  for (const Macro& macro : kMacros) names.push_back(macro.name);
  std::string message = "unknown macro " + Quoted(words.front());
  if (std::optional<std::string> close = ClosestMatch(name, names)) {
    message.append(" (did you mean '").append(*close).append("'?)");
  } else {
    message.append(
        " (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
        "@hourly or @every <duration>)");
  }
  return InvalidArgument(std::move(message));
}

void FillDayOfWeek(CronSpec& spec, const FieldParser& dow) {
  for (uint32_t first = 0; first < 7; ++first) {
    uint32_t days = 0;
    for (uint32_t day = 1; day <= 31; ++day) {
      const uint32_t weekday = (first + day - 1) % 7;
      const uint32_t occurrence = (day - 1) / 7;  // 0 for the first such weekday of the month
      const bool by_day = (dow.bits() >> weekday & 1) != 0;
      const bool by_nth = (dow.nth()[weekday] >> occurrence & 1) != 0;
      if (by_day || by_nth) days |= 1u << day;
    }
    spec.dow_days_by_first_weekday[first] = days;
  }
}

Status NeverFires(const std::vector<std::string_view>& fields, const CronSpec& spec) {
  const size_t base = fields.size() - 5;
  std::string message = "the expression can never fire: no date matches ";
  if (!spec.day_of_month_star) {
    message.append("day-of-month field ").append(Quoted(fields[base + 2])).append(", ");
  }
  if (!spec.day_of_week_star) {
    message.append("day-of-week field ").append(Quoted(fields[base + 4])).append(", ");
  }
  message.append("month field ").append(Quoted(fields[base + 3]));
  return InvalidArgument(std::move(message));
}

uint32_t NextBit(uint64_t mask, uint32_t from) {
  if (from >= 64) return 64;
  const uint64_t rest = mask & (~uint64_t{0} << from);
  return rest == 0 ? 64 : static_cast<uint32_t>(std::countr_zero(rest));
}

}  // namespace

Result<CronSpec> ParseCron(std::string_view expression) {
  std::vector<std::string_view> fields = SplitWords(expression);
  if (fields.empty()) return InvalidArgument("empty schedule expression");
  if (fields.front().front() == '@') {
    Result<std::string_view> expanded = ExpandMacro(fields);
    if (!expanded.ok()) return expanded.status();
    fields = SplitWords(*expanded);
  }
  if (fields.size() != 5 && fields.size() != 6) {
    std::string message = "expected 5 or 6 fields, got " + std::to_string(fields.size()) +
                          " (minute hour day-of-month month day-of-week, optionally preceded "
                          "by second)";
    // "every 5 minutes", "every 1h": an interval written in words.
    std::string first(fields.front());
    for (char& c : first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (first == "every") message += "; an interval is written '@every 5m' (units d h m s)";
    return InvalidArgument(std::move(message));
  }
  constexpr std::array<Field, 6> kOrder = {Field::kSecond,     Field::kMinute, Field::kHour,
                                           Field::kDayOfMonth, Field::kMonth,  Field::kDayOfWeek};
  const size_t first = fields.size() == 6 ? 0 : 1;
  std::vector<FieldParser> parsers;
  parsers.reserve(kOrder.size());
  if (first == 1) {
    // Five fields: the seconds field is an implicit "0".
    parsers.emplace_back(Field::kSecond, "0");
    PETIT_RETURN_IF_ERROR(parsers.back().Parse());
  }
  for (size_t i = first; i < kOrder.size(); ++i) {
    parsers.emplace_back(kOrder[i], fields[i - first]);
    PETIT_RETURN_IF_ERROR(parsers.back().Parse());
  }

  CronSpec spec;
  spec.seconds = parsers[0].bits();
  spec.minutes = parsers[1].bits();
  spec.hours = static_cast<uint32_t>(parsers[2].bits());
  spec.days_of_month = static_cast<uint32_t>(parsers[3].bits());
  spec.last_day_of_month = parsers[3].last();
  spec.months = static_cast<uint16_t>(parsers[4].bits());
  FillDayOfWeek(spec, parsers[5]);
  spec.day_of_month_star = parsers[3].star();
  spec.day_of_week_star = parsers[5].star();

  constexpr int64_t kProbeYear = 2000;
  const int64_t probe = DaysFromCivil(kProbeYear, 1, 1) * kSecondsPerDay;
  if (!NextMatch(spec, probe, kProbeYear + kGregorianCycleYears)) {
    return NeverFires(fields, spec);
  }
  return spec;
}

bool IsEveryExpression(std::string_view expression) {
  const std::vector<std::string_view> words = SplitWords(expression);
  return !words.empty() && Lower(words.front()) == "@every";
}

Result<int64_t> ParseEvery(std::string_view expression) {
  const std::vector<std::string_view> words = SplitWords(expression);
  if (words.size() < 2) return InvalidArgument("@every: missing duration, e.g. '@every 90s'");
  if (words.size() > 2) {
    return InvalidArgument(
        "@every: expected one duration without spaces (e.g. '1h30m'), got " +
        Quoted(expression.substr(static_cast<size_t>(words[1].data() - expression.data()))));
  }
  const std::string_view text = words[1];
  const std::string prefix = "@every: duration " + Quoted(text) + " ";
  constexpr std::string_view kUnits = "dhms";
  constexpr std::array<int64_t, 4> kUnitSeconds = {kSecondsPerDay, 3600, 60, 1};
  int64_t total = 0;
  size_t next_unit = 0;  // units must come largest first, each at most once
  size_t i = 0;
  while (i < text.size()) {
    const size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::string_view digits = text.substr(digits_start, i - digits_start);
    if (digits.empty() || (i < text.size() && !std::isalpha(static_cast<unsigned char>(text[i])))) {
      return InvalidArgument(prefix + "is not whole numbers with units d h m s (e.g. '1h30m')");
    }
    if (i == text.size()) {
      return InvalidArgument(prefix + "ends with a number without a unit (d h m s)");
    }
    const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    const size_t unit_index = kUnits.find(unit);
    if (unit_index == std::string_view::npos) {
      return InvalidArgument(prefix + "has an unknown unit " + Quoted(text.substr(i, 1)) +
                             " (use d h m s)");
    }
    if (unit_index < next_unit) {
      return InvalidArgument(prefix + "must give each unit once, largest first (d h m s)");
    }
    next_unit = unit_index + 1;
    ++i;
    if (digits.size() > kMaxDigits) return InvalidArgument(prefix + "is longer than 400 years");
    int64_t value = 0;
    for (const char c : digits) value = value * 10 + (c - '0');
    total += value * kUnitSeconds[unit_index];
    if (total > kMaxEverySeconds) return InvalidArgument(prefix + "is longer than 400 years");
  }
  if (total < 1) return InvalidArgument(prefix + "must be at least 1s");
  return total;
}

uint32_t MatchingDays(const CronSpec& spec, int64_t year, uint32_t month) {
  const uint32_t days_in_month = DaysInMonth(year, month);
  const uint32_t valid = ((1u << days_in_month) - 1) << 1;
  const uint32_t first_weekday = WeekdayFromDays(DaysFromCivil(year, month, 1));
  const uint32_t by_month_day =
      spec.days_of_month | (spec.last_day_of_month ? 1u << days_in_month : 0);
  const uint32_t by_week_day = spec.dow_days_by_first_weekday[first_weekday];
  const bool both = spec.day_of_month_star || spec.day_of_week_star;
  return (both ? by_month_day & by_week_day : by_month_day | by_week_day) & valid;
}

std::optional<int64_t> NextMatch(const CronSpec& spec, int64_t from, int64_t last_year) {
  const int64_t from_day = FloorDiv(from, kSecondsPerDay);
  const auto second_of_day = static_cast<uint32_t>(from - from_day * kSecondsPerDay);
  const CivilDate date = CivilFromDays(from_day);
  int64_t year = date.year;
  uint32_t month = date.month;
  uint32_t day = date.day;
  uint32_t hour = second_of_day / 3600;
  uint32_t minute = second_of_day / 60 % 60;
  uint32_t second = second_of_day % 60;
  // Each step either finds the next value of one field or carries into the field above and
  // restarts the lower ones at their minimum: a carry past December moves to the next year.
  while (year <= last_year) {
    const uint32_t next_month = NextBit(spec.months, month);
    if (next_month > 12) {
      ++year;
      month = 1;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (next_month != month) {
      month = next_month;
      day = 1;
      hour = minute = second = 0;
    }
    const uint32_t next_day = NextBit(MatchingDays(spec, year, month), day);
    if (next_day > 31) {
      ++month;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (next_day != day) {
      day = next_day;
      hour = minute = second = 0;
    }
    const uint32_t next_hour = NextBit(spec.hours, hour);
    if (next_hour > 23) {
      ++day;
      hour = minute = second = 0;
      continue;
    }
    if (next_hour != hour) {
      hour = next_hour;
      minute = second = 0;
    }
    const uint32_t next_minute = NextBit(spec.minutes, minute);
    if (next_minute > 59) {
      ++hour;
      minute = second = 0;
      continue;
    }
    if (next_minute != minute) {
      minute = next_minute;
      second = 0;
    }
    const uint32_t next_second = NextBit(spec.seconds, second);
    if (next_second > 59) {
      ++minute;
      second = 0;
      continue;
    }
    return DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
           next_second;
  }
  return std::nullopt;
}

}  // namespace petit::internal
