// What every end-to-end test of `petit run` puts in its petit.yaml: the API on a free port, so
// that tests running at once (and a petit on this machine) never compete for 8565.
#ifndef PETIT_TESTS_INTEGRATION_API_ANY_PORT_H_
#define PETIT_TESTS_INTEGRATION_API_ANY_PORT_H_

namespace petit::testing {

inline constexpr char kApiAnyPort[] = "api: {port: 0}\n";

}  // namespace petit::testing

#endif  // PETIT_TESTS_INTEGRATION_API_ANY_PORT_H_
