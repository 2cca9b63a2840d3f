// The OpenAPI document against the routes served: every route is documented (method and path) and
// every documented operation is served; the document is OpenAPI 3.0 whose references resolve.
#include "api/openapi.h"

#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_test_support.h"
#include "api/compat_routes.h"
#include "api/v1_routes.h"

namespace petit::host {
namespace {

using ::petit::host::testing::Object;

// The routes other parts of the API serve (event stream, logs, metrics), as their files declare
// them. AT MERGE: replace this list and the route files below with AllRoutes(services).
const std::vector<std::pair<std::string, std::string>> kOtherHelpersRoutes = {
    {"GET", "/api/v1/events"},
    {"GET", "/api/v1/runs/{id}/tasks/{task}/attempts/{n}/logs"},
    {"GET", "/metrics"},
};

// "GET /api/v1/runs/{}": path parameters compared by position, not by name.
std::string OperationKey(const std::string& method, const std::string& path) {
  static const std::regex kParameter(R"(\{[^}]*\})");
  return method + " " + std::regex_replace(path, kParameter, "{}");
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(
        testing::MemoryHost(), testing::Jobs({"id: j\ntasks: [{id: a, type: noop}]\n"}), log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(daemon).value();
    for (auto& list : {CompatRoutes(*daemon_), V1Routes(*daemon_, nullptr), OpenApiRoutes()}) {
      for (const Route& route : list) served_.insert(OperationKey(route.method, route.pattern));
    }
    for (const auto& [method, pattern] : kOtherHelpersRoutes) {
      served_.insert(OperationKey(method, pattern));
    }
    document_ = Object(OpenApiRoutes().front().handler(ApiRequest{}));
  }

  DaemonLog log_;
  std::unique_ptr<Daemon> daemon_;
  std::set<std::string> served_;
  Poco::JSON::Object::Ptr document_;
};

TEST_F(OpenApiTest, DocumentsEveryRouteServedAndNothingElse) {
  ASSERT_FALSE(document_.isNull());
  EXPECT_EQ(document_->getValue<std::string>("openapi").substr(0, 4), "3.0.");
  std::set<std::string> documented;
  auto paths = document_->getObject("paths");
  ASSERT_FALSE(paths.isNull());
  for (const std::string& path : paths->getNames()) {
    auto item = paths->getObject(path);
    for (const std::string& method : item->getNames()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(OperationKey(upper, path));
      auto operation = item->getObject(method);
      EXPECT_FALSE(operation->optValue<std::string>("summary", "").empty()) << path;
      EXPECT_FALSE(operation->getObject("responses").isNull()) << path;
    }
  }
  for (const std::string& route : served_) {
    EXPECT_TRUE(documented.contains(route)) << "served but not documented: " << route;
  }
  for (const std::string& operation : documented) {
    EXPECT_TRUE(served_.contains(operation)) << "documented but not served: " << operation;
  }
  EXPECT_GE(served_.size(), 30u);
}

TEST_F(OpenApiTest, EveryReferenceResolvesAndEveryPathParameterIsDeclared) {
  const std::string json(OpenApiDocument());
  static const std::regex kRef(R"re("\$ref"\s*:\s*"#/components/([a-zA-Z]+)/([A-Za-z]+)")re");
  auto components = document_->getObject("components");
  size_t refs = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), kRef); it != std::sregex_iterator();
       ++it) {
    ++refs;
    auto section = components->getObject((*it)[1]);
    ASSERT_FALSE(section.isNull()) << (*it)[0];
    EXPECT_TRUE(section->has((*it)[2])) << "unresolved " << (*it)[0];
  }
  EXPECT_GT(refs, 30u);

  auto paths = document_->getObject("paths");
  static const std::regex kParameter(R"(\{([^}]*)\})");
  for (const std::string& path : paths->getNames()) {
    std::set<std::string> in_path;
    for (auto it = std::sregex_iterator(path.begin(), path.end(), kParameter);
         it != std::sregex_iterator(); ++it) {
      in_path.insert((*it)[1]);
    }
    auto item = paths->getObject(path);
    for (const std::string& method : item->getNames()) {
      std::set<std::string> declared;
      auto parameters = item->getObject(method)->getArray("parameters");
      for (unsigned i = 0; !parameters.isNull() && i < parameters->size(); ++i) {
        auto parameter = parameters->getObject(i);
        if (parameter->has("$ref")) {
          const std::string ref = parameter->getValue<std::string>("$ref");
          parameter =
              components->getObject("parameters")->getObject(ref.substr(ref.rfind('/') + 1));
        }
        if (parameter->getValue<std::string>("in") == "path") {
          declared.insert(parameter->getValue<std::string>("name"));
        }
      }
      EXPECT_EQ(declared, in_path) << method << " " << path;
    }
  }
}

TEST_F(OpenApiTest, IsPublic) {
  const std::vector<Route> routes = OpenApiRoutes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/api/openapi.json");
  EXPECT_EQ(routes[0].access, Access::kPublic);
}

}  // namespace
}  // namespace petit::host
