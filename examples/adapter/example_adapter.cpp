// ved-example-adapter: an external adapter for the Ved VM (docs/adapters.md).
//
// It serves one effect and one observation of examples/adapter/provision.ved:
//
//   effect  Infra.Provision(size: string) -> string   answers "vm-<n>", n = 1, 2, ...
//   observe Infra.capacity() -> int                    machines still available
//
// It shows what every adapter has to do, in any language: bind a ROUTER (or REP) socket,
// read msgpack request maps, answer `hello` with what it serves, and answer each request
// with a reply map that carries the request's `id`. It deduplicates by idempotency key:
// the VM re-sends an intent whose outcome it lost in a crash, with the same key, and a
// provisioning must not happen twice. It links nothing of the VM: only cppzmq and msgpack.
//
//   ved-example-adapter --bind tcp://127.0.0.1:5555 [--log FILE] [--requests FILE] [--delay MS] [--capacity N]
//
// `--bind tcp://127.0.0.1:0` picks a free port. Either way the first line on stdout is the
// endpoint it listens on. `--log FILE` appends `intent_id key effect` for each execution
// (not for a deduplicated answer) and is read back at start, so that the deduplication
// and the numbering survive a restart of the adapter. `--requests FILE` appends
// `intent_id key` for every Infra.Provision request, deduplicated or not: how often the
// VM sent one again. `--delay MS` makes each provisioning take that long (one at a time).
// SIGTERM or SIGINT: clean exit 0.
#include <msgpack.hpp>
#include <zmq.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
int g_delay_ms = 0;  // --delay: how long a provisioning takes
void on_signal(int) { g_stop = 1; }

constexpr int kProtocolVersion = 1;
constexpr size_t kMaxMessage = size_t{16} << 20;

// ---- the log -------------------------------------------------------------------------
// Fields are separated by spaces, so keys and intent ids are written with %XX escapes
// for spaces, control bytes and '%'; a missing key is "-" (and a key "-" is "%2D").

std::string escape(const std::string& s) {
  if (s == "-") return "%2D";
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---- the "infrastructure" ---------------------------------------------------------------

class Infra {
 public:
  Infra(int capacity, std::string log_path, const std::string& requests_path)
      : capacity_(capacity), log_path_(std::move(log_path)) {
    if (!requests_path.empty()) requests_.open(requests_path, std::ios::app);
    if (log_path_.empty()) return;
    // Replay the log: the n-th provisioning answered "vm-n", under its key.
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string intent, key, effect;
      if (!(fields >> intent >> key >> effect) || effect != "Infra.Provision") continue;
      ++provisioned_;
      if (key != "-") by_key_[unescape(key)] = "vm-" + std::to_string(provisioned_);
    }
    log_.open(log_path_, std::ios::app);
  }

  // Infra.Provision: the answer, or a failure (code, message, retryable).
  struct Result {
    bool ok = true;
    std::string value;
    std::string code, message;
    bool retryable = false;
  };
  Result provision(const std::string& intent, const std::optional<std::string>& key, const std::string& size) {
    if (requests_.is_open()) {
      requests_ << escape(intent) << ' ' << (key ? escape(*key) : "-") << '\n';
      requests_.flush();
    }
    if (key) {
      // Same key, same answer, and nothing happens a second time.
      auto it = by_key_.find(*key);
      if (it != by_key_.end()) return {true, it->second, "", "", false};
    }
    if (size != "small" && size != "medium" && size != "large")
      return {false, "", "invalid_size", "size must be small, medium or large, not `" + size + "`", false};
    if (provisioned_ >= capacity_) return {false, "", "quota", "no capacity left", false};
    ++provisioned_;
    const std::string id = "vm-" + std::to_string(provisioned_);
    if (key) by_key_[*key] = id;
    if (log_.is_open()) {
      log_ << escape(intent) << ' ' << (key ? escape(*key) : "-") << " Infra.Provision\n";
      log_.flush();  // one line per execution, visible at once
    }
    return {true, id, "", "", false};
  }

  int64_t capacity() const { return capacity_ > provisioned_ ? capacity_ - provisioned_ : 0; }

 private:
  int capacity_;
  int provisioned_ = 0;
  std::string log_path_;
  std::ofstream log_;
  std::ofstream requests_;  // --requests: every request, answered from memory or not
  std::map<std::string, std::string> by_key_;
};

// ---- the protocol ----------------------------------------------------------------------

using Packer = msgpack::packer<msgpack::sbuffer>;

std::string str_field(const std::map<std::string, msgpack::object>& req, const std::string& name) {
  auto it = req.find(name);
  if (it == req.end() || it->second.type != msgpack::type::STR) return "";
  return std::string(it->second.via.str.ptr, it->second.via.str.size);
}

void fail(Packer& pk, uint64_t id, const std::string& code, const std::string& message, bool retryable) {
  pk.pack_map(5);
  pk.pack("id");
  pk.pack(id);
  pk.pack("ok");
  pk.pack(false);
  pk.pack("code");
  pk.pack(code);
  pk.pack("message");
  pk.pack(message);
  pk.pack("retryable");
  pk.pack(retryable);
}

// The reply to one request body, or nothing if the request cannot be answered at all
// (no id to answer to).
std::optional<std::string> handle(Infra& infra, const std::string& body) {
  msgpack::object_handle handle;
  try {
    std::size_t offset = 0;
    // Limits: a message cannot make us allocate more than a multiple of its size.
    const size_t n = body.size();
    handle = msgpack::unpack(body.data(), n, offset, nullptr, nullptr, msgpack::unpack_limit(n, n, n, n, n, 32));
  } catch (const std::exception& e) {
    std::cerr << "ved-example-adapter: unreadable request: " << e.what() << "\n";
    return std::nullopt;
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) return std::nullopt;
  std::map<std::string, msgpack::object> req;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR) req[std::string(kv.key.via.str.ptr, kv.key.via.str.size)] = kv.val;
  }
  auto id_it = req.find("id");
  if (id_it == req.end() || id_it->second.type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
  const uint64_t id = id_it->second.via.u64;

  msgpack::sbuffer out;
  Packer pk(out);
  auto version = req.find("version");
  if (version == req.end() || version->second.type != msgpack::type::POSITIVE_INTEGER ||
      version->second.via.u64 != kProtocolVersion) {
    fail(pk, id, "version", "this adapter speaks protocol version 1", false);
    return std::string(out.data(), out.size());
  }
  const std::string kind = str_field(req, "kind");
  const std::string name = str_field(req, "name");

  if (kind == "hello") {
    pk.pack_map(6);
    pk.pack("id");
    pk.pack(id);
    pk.pack("ok");
    pk.pack(true);
    pk.pack("version");
    pk.pack(kProtocolVersion);
    pk.pack("adapter");
    pk.pack("ved-example-adapter");
    pk.pack("effects");
    pk.pack(std::vector<std::string>{"Infra.Provision"});
    pk.pack("observations");
    pk.pack(std::vector<std::string>{"Infra.capacity"});
  } else if (kind == "effect" && name == "Infra.Provision") {
    // args: {"size": str}; key: str or nil; intent: str.
    std::string size;
    auto args = req.find("args");
    if (args != req.end() && args->second.type == msgpack::type::MAP) {
      const auto& m = args->second.via.map;
      for (uint32_t i = 0; i < m.size; ++i)
        if (m.ptr[i].key.type == msgpack::type::STR && m.ptr[i].val.type == msgpack::type::STR &&
            std::string(m.ptr[i].key.via.str.ptr, m.ptr[i].key.via.str.size) == "size")
          size.assign(m.ptr[i].val.via.str.ptr, m.ptr[i].val.via.str.size);
    }
    std::optional<std::string> key;
    auto k = req.find("key");
    if (k != req.end() && k->second.type == msgpack::type::STR) key.emplace(k->second.via.str.ptr, k->second.via.str.size);
    if (g_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_delay_ms));
    const Infra::Result r = infra.provision(str_field(req, "intent"), key, size);
    if (r.ok) {
      pk.pack_map(3);
      pk.pack("id");
      pk.pack(id);
      pk.pack("ok");
      pk.pack(true);
      pk.pack("value");
      pk.pack(r.value);
    } else {
      fail(pk, id, r.code, r.message, r.retryable);
    }
  } else if (kind == "observe" && name == "Infra.capacity") {
    pk.pack_map(3);
    pk.pack("id");
    pk.pack(id);
    pk.pack("ok");
    pk.pack(true);
    pk.pack("value");
    pk.pack(infra.capacity());
  } else {
    fail(pk, id, "unsupported", "this adapter does not serve " + kind + " `" + name + "`", false);
  }
  return std::string(out.data(), out.size());
}

int usage() {
  std::cerr << "usage: ved-example-adapter --bind tcp://HOST:PORT [--log FILE] [--requests FILE] [--delay MS] [--capacity N]\n"
               "  PORT 0 picks a free port; the first line on stdout is the endpoint bound\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bind, log, requests;
  int capacity = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "--bind") {
      bind = argv[++i];
    } else if (a == "--log") {
      log = argv[++i];
    } else if (a == "--delay") {
      g_delay_ms = std::atoi(argv[++i]);
    } else if (a == "--requests") {
      requests = argv[++i];
    } else if (a == "--capacity") {
      capacity = std::atoi(argv[++i]);
    } else {
      return usage();
    }
  }
  if (bind.empty()) return usage();

  // No SA_RESTART: a signal interrupts the poll below, which then sees g_stop.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  Infra infra(capacity, log, requests);
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessage));
  try {
    socket.bind(bind);
  } catch (const zmq::error_t& e) {
    std::cerr << "ved-example-adapter: cannot bind " << bind << ": " << e.what() << "\n";
    return 1;
  }
  std::cout << socket.get(zmq::sockopt::last_endpoint) << std::endl;

  while (!g_stop) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(500));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: the loop condition decides
      throw;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    // A ROUTER delivers [peer identity, empty delimiter, body]. Everything up to and
    // including the delimiter is the envelope, sent back unchanged before the reply.
    std::vector<zmq::message_t> frames;
    for (;;) {
      zmq::message_t frame;
      if (!socket.recv(frame, zmq::recv_flags::none)) break;
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) break;
    }
    size_t body = 1;
    while (body < frames.size() && frames[body - 1].size() != 0) ++body;
    if (frames.size() < 2 || body >= frames.size()) continue;  // no body: nothing to answer
    std::optional<std::string> reply = handle(infra, frames[body].to_string());
    if (!reply) continue;
    for (size_t i = 0; i < body; ++i) socket.send(zmq::buffer(frames[i].data(), frames[i].size()), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(*reply), zmq::send_flags::none);
  }
  return 0;
}
