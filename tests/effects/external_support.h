// Shared by the external-adapter tests: the real example adapter as a child process, a
// scripted adapter inside the test (a ROUTER or REP socket on its own thread) that can
// answer well or badly, and msgpack builders for replies. Loopback only.
#pragma once

#include <sys/types.h>

#include <msgpack.hpp>
#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ved::effects_test {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Milliseconds since `start`.
inline long long elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// A free loopback TCP port (bound and released at once): for "nothing listens here".
int free_port();

// `ved-example-adapter` with `args`, started and waited for: its first stdout line (the
// endpoint it bound) is read within 10 s or the constructor throws.
class AdapterProcess {
 public:
  explicit AdapterProcess(const std::vector<std::string>& args);
  ~AdapterProcess();
  const std::string& endpoint() const { return endpoint_; }
  // SIGTERM, then waits up to `ms`; returns the exit status (-1: did not exit in time,
  // then killed; -2 killed by a signal).
  int terminate(int ms = 5000);
  // SIGKILL and reap.
  void kill();

 private:
  pid_t pid_ = -1;
  std::string endpoint_;
};

// A request as the scripted adapter received it.
struct FakeRequest {
  std::string identity;  // ROUTER: the peer's routing id (empty for REP)
  std::string body;
  uint64_t id = 0;       // 0 if absent
  std::string kind, name, intent;
  std::optional<std::string> key;
  uint64_t attempt = 0;
  std::string first_string_arg;  // the first str-valued argument, if any
};

// A scripted adapter: binds `tcp://127.0.0.1:*` and calls `handler` for each request on
// its own thread. The handler answers through reply() (now or later, in any order, any
// number of times: it may keep requests and answer them on a later call).
class FakeAdapter {
 public:
  using Handler = std::function<void(FakeAdapter&, const FakeRequest&)>;
  explicit FakeAdapter(Handler handler, zmq::socket_type type = zmq::socket_type::router);
  ~FakeAdapter();
  const std::string& endpoint() const { return endpoint_; }
  // Sends `body` to the peer of `to` as [identity, "", body] (REP: just body). For
  // handlers only (it runs on the adapter's thread). `frames` replaces the whole
  // message after the identity when non-empty, for malformed framing.
  void reply(const FakeRequest& to, const std::string& body);
  void reply_frames(const FakeRequest& to, const std::vector<std::string>& frames);
  int requests() const { return requests_; }

 private:
  void run();
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  zmq::socket_type type_;
  Handler handler_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// Reply bodies.
std::string hello_reply(uint64_t id, const std::vector<std::string>& effects,
                        const std::vector<std::string>& observations, int version = 1);
// {"id": id, "ok": true, "value": <what `value` packs>}; no value key if `value` is null.
std::string ok_reply(uint64_t id, const std::function<void(Packer&)>& value);
std::string ok_string(uint64_t id, const std::string& value);
std::string fail_reply(uint64_t id, const std::string& code, const std::string& message, bool retryable);
// A map built by `fill`, which packs `entries` key/value pairs.
std::string map_body(uint32_t entries, const std::function<void(Packer&)>& fill);

// The lines of a text file.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace ved::effects_test
