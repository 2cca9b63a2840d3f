// A module that the loader must refuse (internal_module_test.cc): with PETIT_FIXTURE_BUILD its
// entry names another build of petit, without it the entry returns null.
#include <cstddef>

namespace {

struct FixtureModule {
  const char* build;
};

#ifdef PETIT_FIXTURE_BUILD
const FixtureModule kModule = {PETIT_FIXTURE_BUILD};
#endif

}  // namespace

extern "C" __attribute__((visibility("default"))) const void* petit_fixture_module_v1() {
#ifdef PETIT_FIXTURE_BUILD
  return &kModule;
#else
  return nullptr;
#endif
}
