// FakeApiServer: a Poco HTTPServer on a free loopback port that answers every request with the
// canned answer of its method and path (404 JSON when none), and records what it was sent. For
// the CLI's remote commands without a daemon.
//
// Threads: Poco's threads call the handler; every accessor locks.
#ifndef PETIT_TESTS_HOST_CLI_FAKE_API_SERVER_H_
#define PETIT_TESTS_HOST_CLI_FAKE_API_SERVER_H_

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace petit::testing {

class FakeApiServer {
 public:
  struct Request {
    std::string method;
    std::string uri;  // path and query, as sent
    std::string authorization;
    std::string content_type;
    std::string body;
  };
  struct Answer {
    int status = 200;
    std::string body;
  };

  FakeApiServer()
      : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)),
        server_(new Factory(*this), socket_, MakeParams()) {
    server_.start();
  }
  ~FakeApiServer() { server_.stopAll(true); }

  uint16_t port() const { return socket_.address().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // The answer to `method` on `uri` (path and query exactly as the client sends them).
  void Respond(const std::string& method, const std::string& uri, int status, std::string body) {
    std::lock_guard lock(mu_);
    answers_[method + " " + uri] = {status, std::move(body)};
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  static Poco::Net::HTTPServerParams::Ptr MakeParams() {
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    params->setKeepAlive(true);
    return params;
  }

  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(FakeApiServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      Request seen{request.getMethod(), request.getURI(), request.get("Authorization", ""),
                   request.getContentType(), ""};
      Poco::StreamCopier::copyToString(request.stream(), seen.body);
      FakeApiServer::Answer answer{404, R"({"error":"no canned answer","code":"NOT_FOUND"})"};
      {
        std::lock_guard lock(server_.mu_);
        auto it = server_.answers_.find(seen.method + " " + seen.uri);
        if (it != server_.answers_.end()) answer = it->second;
        server_.requests_.push_back(std::move(seen));
      }
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
      response.setContentType("application/json");
      response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
      response.send() << answer.body;
    }

   private:
    FakeApiServer& server_;
  };

  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FakeApiServer& server) : server_(server) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(server_);
    }

   private:
    FakeApiServer& server_;
  };

  mutable std::mutex mu_;
  std::map<std::string, FakeApiServer::Answer> answers_;  // guarded by mu_
  std::vector<Request> requests_;                         // guarded by mu_
  Poco::Net::ServerSocket socket_;
  Poco::Net::HTTPServer server_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_HOST_CLI_FAKE_API_SERVER_H_
