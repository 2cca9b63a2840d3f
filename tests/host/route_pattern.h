// Matching a request path against a Route pattern ("/api/v1/runs/{id}") for tests that call route
// handlers without the HTTP server: literal segments must be equal, a {name} segment takes any one
// segment into `params`. The server's own router (api/http_router.h) is what production uses.
#ifndef PETIT_TESTS_HOST_ROUTE_PATTERN_H_
#define PETIT_TESTS_HOST_ROUTE_PATTERN_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace petit::host::testing {

inline bool MatchRoutePattern(std::string_view pattern, std::string_view path,
                              std::map<std::string, std::string, std::less<>>& params) {
  params.clear();
  while (!pattern.empty() && !path.empty()) {
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view p = pattern.substr(0, pattern.find('/'));
    const std::string_view s = path.substr(0, path.find('/'));
    if (p.starts_with('{')) {
      params[std::string(p.substr(1, p.size() - 2))] = std::string(s);
    } else if (p != s) {
      return false;
    }
    pattern.remove_prefix(p.size());
    path.remove_prefix(s.size());
  }
  return pattern.empty() && path.empty();
}

}  // namespace petit::host::testing

#endif  // PETIT_TESTS_HOST_ROUTE_PATTERN_H_
