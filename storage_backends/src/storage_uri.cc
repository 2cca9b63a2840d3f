#include "src/storage_uri.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "petit/storage/open.h"

namespace petit::storage::internal {
namespace {

constexpr std::string_view kRedacted = "***";

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool ConsumePrefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool IsUriForm(std::string_view conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

// postgresql://user:secret@host/db?password=secret&x=y ->
// postgresql://user:***@host/db?password=***&x=y
std::string RedactPostgresUri(std::string_view uri) {
  const size_t authority_begin = uri.find("://") + 3;
  const size_t authority_end = std::min(uri.find_first_of("/?", authority_begin), uri.size());
  std::string out(uri.substr(0, authority_begin));
  std::string_view authority = uri.substr(authority_begin, authority_end - authority_begin);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon + 1)).append(kRedacted);
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
  } else {
    out.append(authority);
  }
  std::string_view rest = uri.substr(authority_end);
  const size_t query = rest.find('?');
  out.append(rest.substr(0, query));
  if (query == std::string_view::npos) return out;
  out.push_back('?');
  std::string_view params = rest.substr(query + 1);
  bool first = true;
  while (true) {
    const size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && param.substr(0, eq) == "password") {
      out.append("password=").append(kRedacted);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    params.remove_prefix(amp + 1);
  }
  return out;
}

// host=x password='a b' dbname=y -> host=x password=*** dbname=y. Follows libpq's lexing (values
// may be single-quoted, backslash escapes); anything after a syntax error is cut off, since it
// might hold a secret.
std::string RedactKeyValueConnInfo(std::string_view conninfo) {
  std::string out;
  size_t i = 0;
  const size_t n = conninfo.size();
  while (i < n) {
    while (i < n && IsSpace(conninfo[i])) out.push_back(conninfo[i++]);
    if (i == n) break;
    const size_t key_begin = i;
    while (i < n && conninfo[i] != '=' && !IsSpace(conninfo[i])) ++i;
    std::string_view key = conninfo.substr(key_begin, i - key_begin);
    const size_t before_eq = i;
    while (i < n && IsSpace(conninfo[i])) ++i;
    if (i == n || conninfo[i] != '=') {
      out.append(key).append(" ...");
      return out;
    }
    ++i;
    while (i < n && IsSpace(conninfo[i])) ++i;
    const size_t value_begin = i;
    if (i < n && conninfo[i] == '\'') {
      ++i;
      while (i < n && conninfo[i] != '\'') i += conninfo[i] == '\\' ? 2 : 1;
      if (i >= n) {
        out.append(key).append("=...");
        return out;
      }
      ++i;
    } else {
      while (i < n && !IsSpace(conninfo[i])) i += conninfo[i] == '\\' ? 2 : 1;
      i = std::min(i, n);
    }
    out.append(conninfo.substr(key_begin, before_eq - key_begin));
    out.push_back('=');
    if (key == "password") {
      out.append(kRedacted);
    } else {
      out.append(conninfo.substr(value_begin, i - value_begin));
    }
  }
  return out;
}

Status UnknownScheme(std::string_view uri) {
  // Only the scheme is echoed: an unknown URI might still carry a password.
  const size_t colon = uri.find(':');
  std::string scheme(uri.substr(0, std::min<size_t>(colon, 32)));
  std::string message = colon == std::string_view::npos
                            ? "storage URI '" + scheme + "' has no scheme"
                            : "unknown storage URI scheme '" + scheme + "'";
  return InvalidArgument(message +
                         " (expected memory:, sqlite:PATH, postgresql://... or "
                         "postgresql:KEY=VALUE...)");
}

Result<StorageUri> ParseSqlite(std::string_view original, std::string_view path) {
  ConsumePrefix(path, "//");
  const std::string display(original);
  if (path.empty()) {
    return InvalidArgument("storage URI '" + display +
                           "' names no file (write sqlite:///abs/path/petit.db or "
                           "sqlite:relative/petit.db)");
  }
  if (path == ":memory:") {
    return InvalidArgument("storage URI '" + display +
                           "': use memory: for a store that is not persisted");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("storage URI '" + display +
                           "': SQLite URIs take no parameters ('?' or '#' in the path)");
  }
  if (path.find_first_of("=\"") != std::string_view::npos) {
    return InvalidArgument("storage URI '" + display +
                           "': a SQLite path may not contain '=' or '\"'");
  }
  if (path.back() == '/') {
    return InvalidArgument("storage URI '" + display + "' names a directory, not a file");
  }
  return StorageUri{Backend::kSqlite, std::string(path), display};
}

}  // namespace

std::string RedactPostgresConnInfo(std::string_view conninfo) {
  return IsUriForm(conninfo) ? RedactPostgresUri(conninfo) : RedactKeyValueConnInfo(conninfo);
}

Result<StorageUri> ParseStorageUri(std::string_view uri) {
  uri = Trim(uri);
  if (uri.empty()) {
    return InvalidArgument(
        "storage URI is empty (expected memory:, sqlite:PATH or postgresql://...)");
  }
  std::string_view rest = uri;
  if (rest == "memory:" || rest == "memory://") {
    return StorageUri{Backend::kMemory, "", "memory:"};
  }
  if (rest.starts_with("memory:")) {
    return InvalidArgument("storage URI '" + std::string(uri) + "': memory: takes no path");
  }
  if (ConsumePrefix(rest, "sqlite:")) return ParseSqlite(uri, rest);
  if (IsUriForm(uri)) {
    return StorageUri{Backend::kPostgresql, std::string(uri), RedactPostgresUri(uri)};
  }
  if (ConsumePrefix(rest, "postgresql:") || ConsumePrefix(rest, "postgres:")) {
    rest = Trim(rest);
    if (rest.empty()) {
      return InvalidArgument(
          "storage URI '" + std::string(uri) +
          "' has no connection parameters (write postgresql://user@host:5432/db or "
          "postgresql:host=/run/postgresql dbname=petit)");
    }
    std::string redacted = RedactKeyValueConnInfo(rest);
    return StorageUri{Backend::kPostgresql, std::string(rest),
                      std::string(uri.substr(0, uri.find(':') + 1)) + redacted};
  }
  return UnknownScheme(uri);
}

namespace {

// What libpq would otherwise wait for ever on: a host that does not answer a connect (a SYN
// retried for minutes), and a peer that vanished from the network mid-query (keepalives notice
// an idle one; tcp_user_timeout, in ms, one with unacknowledged data in flight). A failure then
// reaches the outage handling (core/store_outage.h) instead of hanging a run. Unix sockets ignore
// all but connect_timeout.
constexpr std::pair<std::string_view, std::string_view> kPostgresClientTimeouts[] = {
    {"connect_timeout", "10"},
    {"keepalives_idle", "30"},
    {"keepalives_interval", "10"},
    {"keepalives_count", "3"},
    {"tcp_user_timeout", "60000"}};

// Whether `conninfo` sets `key` (as a URI query parameter, or a key=value word).
bool SetsConnInfoKey(std::string_view conninfo, std::string_view key, bool uri) {
  for (size_t at = conninfo.find(key); at != std::string_view::npos;
       at = conninfo.find(key, at + 1)) {
    const char before = at == 0 ? ' ' : conninfo[at - 1];
    const bool starts = uri ? (before == '?' || before == '&')
                            : (std::isspace(static_cast<unsigned char>(before)) != 0);
    if (!starts) continue;
    size_t after = at + key.size();
    while (!uri && after < conninfo.size() &&
           std::isspace(static_cast<unsigned char>(conninfo[after])) != 0) {
      ++after;
    }
    if (after < conninfo.size() && conninfo[after] == '=') return true;
  }
  return false;
}

}  // namespace

std::string WithPostgresClientTimeouts(std::string_view conninfo) {
  const bool uri = IsUriForm(conninfo);
  std::string out(conninfo);
  for (const auto& [key, value] : kPostgresClientTimeouts) {
    if (SetsConnInfoKey(conninfo, key, uri)) continue;
    if (uri) {
      out += out.find('?') == std::string::npos ? '?' : '&';
    } else {
      out += ' ';
    }
    out.append(key).append("=").append(value);
  }
  return out;
}

}  // namespace petit::storage::internal

namespace petit::storage {

// Here rather than in open.cc: what checks a URI needs only the parser, so the config loader
// (and its fuzzer) link no store.
Status CheckStorageUri(std::string_view uri) {
  Result<internal::StorageUri> parsed = internal::ParseStorageUri(uri);
  return parsed.ok() ? Status::Ok() : parsed.status();
}

}  // namespace petit::storage
