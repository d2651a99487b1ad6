// Net.HttpGet, Net.HttpPost against a loopback server started by the test (no external
// network): bodies, headers, status codes and connection failures.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "builtin_support.h"

namespace ved::effects_test {
namespace {

// Answers one connection per reply, in order, then stops. Every wait is bounded, so a
// test whose client never comes does not hang.
class LoopbackServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    int delay_ms = 0;  // before answering
  };

  explicit LoopbackServer(std::vector<Reply> replies) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // ephemeral
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, replies = std::move(replies)] { serve(replies); });
  }
  ~LoopbackServer() {
    thread_.join();
    ::close(listener_);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The raw requests received so far (head and body).
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void serve(const std::vector<Reply>& replies) {
    for (const Reply& reply : replies) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      const int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      timeval tv{5, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string request = read_request(conn);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      if (reply.delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
      const std::string answer = "HTTP/1.1 " + std::to_string(reply.status) + " Whatever\r\nContent-Length: " +
                                 std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" + reply.body;
      ::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);  // the client may be gone
      ::close(conn);
    }
  }

  static std::string read_request(int conn) {
    std::string data;
    char buffer[4096];
    size_t need = std::string::npos;  // total length, once the head is in
    while (need == std::string::npos || data.size() < need) {
      const ssize_t n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, static_cast<size_t>(n));
      const size_t head_end = data.find("\r\n\r\n");
      if (need == std::string::npos && head_end != std::string::npos) {
        size_t length = 0;
        const size_t cl = lower(data.substr(0, head_end)).find("content-length:");
        if (cl != std::string::npos) length = std::stoul(data.substr(cl + 15));
        need = head_end + 4 + length;
      }
    }
    return data;
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

Builtins with_http(int timeout_ms = 5000, size_t max_body = size_t{16} << 20) {
  // libcurl honours proxy variables; the loopback server must be reached directly.
  for (const char* var : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
    ::unsetenv(var);
  return Builtins([&](vm::BuiltinAdapterOptions& o) {
    o.http_timeout_ms = timeout_ms;
    o.max_output_bytes = max_body;
  });
}

TEST_CASE("HTTP effects run on the worker pool") {
  Builtins b;
  CHECK_FALSE(b.set.effect("Net.HttpGet")->between_ticks());
  CHECK_FALSE(b.set.effect("Net.HttpPost")->between_ticks());
}

TEST_CASE("GET gives the body of a 2xx answer") {
  Builtins b = with_http();
  LoopbackServer server({{200, "hello body"}, {204, ""}});
  vm::EffectOutcome o = b.run("Net.HttpGet", {str(server.url("/greeting?x=1"))});
  REQUIRE_MESSAGE(o.ok, o.message);
  CHECK(o.value.as_string() == "hello body");
  vm::EffectOutcome empty = b.run("Net.HttpGet", {str(server.url("/nothing"))});
  REQUIRE_MESSAGE(empty.ok, empty.message);
  CHECK(empty.value.as_string() == "");
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].rfind("GET /greeting?x=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(requests[0].find("Idempotency-Key") == std::string::npos);  // none given, none sent
}

TEST_CASE("POST sends the body and the idempotency key") {
  Builtins b = with_http();
  LoopbackServer server({{201, "created"}, {200, "ok"}});
  const std::string json = "{\"name\": \"vm-1\"}";
  vm::EffectOutcome o = b.run("Net.HttpPost", {str(server.url("/vms")), str(json)}, "deploy-v2-east");
  REQUIRE_MESSAGE(o.ok, o.message);
  CHECK(o.value.as_string() == "created");
  vm::EffectOutcome text = b.run("Net.HttpPost", {str(server.url("/notes")), str("plain words")});
  REQUIRE_MESSAGE(text.ok, text.message);
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  const std::string& r = requests[0];
  CHECK(r.rfind("POST /vms HTTP/1.1\r\n", 0) == 0);
  CHECK(r.find("\r\nIdempotency-Key: deploy-v2-east\r\n") != std::string::npos);
  CHECK(r.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(r.find("Expect:") == std::string::npos);
  CHECK(r.substr(r.find("\r\n\r\n") + 4) == json);
  CHECK(requests[1].find("\r\nContent-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(requests[1].substr(requests[1].find("\r\n\r\n") + 4) == "plain words");
}

TEST_CASE("GET passes the idempotency key too") {
  Builtins b = with_http();
  LoopbackServer server({{200, "x"}});
  REQUIRE(b.run("Net.HttpGet", {str(server.url("/"))}, "k-1").ok);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].find("\r\nIdempotency-Key: k-1\r\n") != std::string::npos);
}

TEST_CASE("server errors and 429 are retryable http failures, other statuses are not") {
  Builtins b = with_http();
  LoopbackServer server({{500, "database down"}, {503, ""}, {429, "slow down"}, {404, "no such thing"}, {400, ""}});
  vm::EffectOutcome e500 = b.run("Net.HttpGet", {str(server.url("/a"))});
  CHECK(e500.code == "http");
  CHECK(e500.retryable);
  CHECK(e500.message.find("HTTP 500") != std::string::npos);
  CHECK(e500.message.find("database down") != std::string::npos);
  vm::EffectOutcome e503 = b.run("Net.HttpPost", {str(server.url("/b")), str("x")});
  CHECK(e503.code == "http");
  CHECK(e503.retryable);
  vm::EffectOutcome e429 = b.run("Net.HttpGet", {str(server.url("/c"))});
  CHECK(e429.code == "http");
  CHECK(e429.retryable);
  vm::EffectOutcome e404 = b.run("Net.HttpGet", {str(server.url("/d"))});
  CHECK(e404.code == "http");
  CHECK_FALSE(e404.retryable);
  CHECK(e404.message.find("HTTP 404") != std::string::npos);
  vm::EffectOutcome e400 = b.run("Net.HttpPost", {str(server.url("/e")), str("x")});
  CHECK(e400.code == "http");
  CHECK_FALSE(e400.retryable);
}

TEST_CASE("a refused connection is a retryable failure") {
  Builtins b = with_http();
  // A port that was just free: bind, learn it, close.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  vm::EffectOutcome o = b.run("Net.HttpGet", {str("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/")});
  CHECK_FALSE(o.ok);
  CHECK(o.code == "http");
  CHECK(o.retryable);
}

TEST_CASE("a server slower than the timeout gives a retryable timeout") {
  Builtins b = with_http(300);
  LoopbackServer server({{200, "late", 1500}});
  const auto start = std::chrono::steady_clock::now();
  vm::EffectOutcome o = b.run("Net.HttpGet", {str(server.url("/slow"))});
  CHECK(o.code == "timeout");
  CHECK(o.retryable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1400));
}

TEST_CASE("a body over the limit fails") {
  Builtins b = with_http(5000, 100);
  LoopbackServer server({{200, std::string(1000, 'x')}, {200, std::string(100, 'y')}});
  vm::EffectOutcome big = b.run("Net.HttpGet", {str(server.url("/big"))});
  CHECK(big.code == "http");
  CHECK_FALSE(big.retryable);
  CHECK(big.message.find("100 bytes") != std::string::npos);
  vm::EffectOutcome fits = b.run("Net.HttpGet", {str(server.url("/fits"))});
  REQUIRE(fits.ok);
  CHECK(fits.value.as_string() == std::string(100, 'y'));
}

TEST_CASE("a body that is not UTF-8 is repaired") {
  Builtins b = with_http();
  LoopbackServer server({{200, "a\xFF" "b"}});
  vm::EffectOutcome o = b.run("Net.HttpGet", {str(server.url("/"))});
  REQUIRE(o.ok);
  CHECK(o.value.as_string() == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("only http and https URLs, no header injection through the key") {
  Builtins b = with_http();
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x", "127.0.0.1:80/", ""}) {
    vm::EffectOutcome o = b.run("Net.HttpGet", {str(url)});
    CHECK_MESSAGE(o.code == "invalid", url);
  }
  vm::EffectOutcome injected = b.run("Net.HttpGet", {str("http://127.0.0.1:1/")}, "k\r\nX-Evil: 1");
  CHECK(injected.code == "invalid");
  // The scheme is case-insensitive.
  LoopbackServer server({{200, "upper"}});
  std::string url = server.url("/");
  url.replace(0, 4, "HTTP");
  vm::EffectOutcome upper = b.run("Net.HttpGet", {str(url)});
  REQUIRE_MESSAGE(upper.ok, upper.message);
  CHECK(upper.value.as_string() == "upper");
}

}  // namespace
}  // namespace ved::effects_test
