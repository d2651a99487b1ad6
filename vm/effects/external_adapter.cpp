// External adapters over ZeroMQ: the VM's side of the protocol in docs/adapters.md.
//
// One DEALER socket per adapter, owned by one I/O thread (ZeroMQ sockets are not
// thread-safe). Callers never touch the socket: they put a Call in the outbox and in the
// table of calls by request id, wake the I/O thread through a pipe, and wait on the
// Call's condition variable until a reply, the deadline, or shutdown. The I/O thread sends
// what it can (ZMQ_IMMEDIATE: only over a completed connection, so "never sent" is known
// and reported as "not delivered" rather than as an ambiguous timeout), reads replies,
// finds their request id and hands each to its Call. A reply whose id is not waiting (its
// caller timed out, or the id is made up) is dropped; a reply that cannot be read at all
// is counted and named in the timeout message of calls that were waiting meanwhile.
#include "vm/effects/external_adapter.h"

#include <fcntl.h>
#include <unistd.h>

#include <msgpack.hpp>
#include <zmq.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "vm/effects/msgpack_values.h"

namespace ved::vm {

namespace {

using Clock = std::chrono::steady_clock;

// Messages longer than this from an adapter are cut: they end up in journals and traces.
constexpr size_t kMaxMessageBytes = 4096;
// Failure codes are matched by handlers (`e.code == "quota"`); a long one is a bug.
constexpr size_t kMaxCodeBytes = 256;

struct Call {
  uint64_t id = 0;
  std::string body;    // the request; emptied once sent
  bool sent = false;   // handed to ZeroMQ over a live connection
  bool done = false;   // `reply` holds the reply
  bool closed = false; // the adapter shut down first
  bool cancelled = false;  // the caller gave up; the I/O thread skips it
  std::string reply;
  std::condition_variable cv;
};

enum class CallStatus { Replied, NotDelivered, TimedOut, Closed };

struct CallResult {
  CallStatus status = CallStatus::Closed;
  std::string reply;
  std::string unreadable;  // timeouts: what unreadable replies came meanwhile, if any
};

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  text += "...";
  return text;
}

// ---- reading the simple fields of an envelope (values already checked by split) ----

msgpack::object_handle unpack_checked(std::string_view raw) {
  std::size_t offset = 0;
  const size_t n = raw.size();
  return msgpack::unpack(raw.data(), n, offset, nullptr, nullptr,
                         msgpack::unpack_limit(n, n, n, n, n, kProtocolMaxDepth + 1));
}

bool read_uint(std::string_view raw, uint64_t& out) {
  try {
    auto h = unpack_checked(raw);
    if (h.get().type != msgpack::type::POSITIVE_INTEGER) return false;
    out = h.get().via.u64;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool read_int(std::string_view raw, int64_t& out) {
  try {
    auto h = unpack_checked(raw);
    const auto& o = h.get();
    if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= static_cast<uint64_t>(INT64_MAX)) {
      out = static_cast<int64_t>(o.via.u64);
      return true;
    }
    if (o.type == msgpack::type::NEGATIVE_INTEGER) {
      out = o.via.i64;
      return true;
    }
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

bool read_bool(std::string_view raw, bool& out) {
  try {
    auto h = unpack_checked(raw);
    if (h.get().type != msgpack::type::BOOLEAN) return false;
    out = h.get().via.boolean;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool read_str(std::string_view raw, std::string& out) {
  try {
    auto h = unpack_checked(raw);
    if (h.get().type != msgpack::type::STR) return false;
    out.assign(h.get().via.str.ptr, h.get().via.str.size);
    return is_valid_utf8(out);
  } catch (const std::exception&) {
    return false;
  }
}

bool read_str_list(std::string_view raw, std::vector<std::string>& out) {
  try {
    auto h = unpack_checked(raw);
    const auto& o = h.get();
    if (o.type != msgpack::type::ARRAY) return false;
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      const auto& s = o.via.array.ptr[i];
      if (s.type != msgpack::type::STR) return false;
      out.emplace_back(s.via.str.ptr, s.via.str.size);
      if (out.back().empty() || !is_valid_utf8(out.back())) return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<std::string_view> find(const std::vector<std::pair<std::string, std::string_view>>& entries,
                                     std::string_view key) {
  for (const auto& e : entries)
    if (e.first == key) return e.second;
  return std::nullopt;
}

// What an effect or observe reply says, before its value is decoded.
struct Answer {
  bool ok = false;
  std::optional<std::string_view> value;  // raw msgpack, a view into the reply
  std::string code;
  std::string message;
  bool retryable = false;
};

// False with `problem` if the reply is not a well-formed answer.
bool read_answer(std::string_view reply, std::vector<std::pair<std::string, std::string_view>>& entries,
                 Answer& a, std::string& problem) {
  if (!split_protocol_map(reply, entries, problem)) return false;
  auto ok = find(entries, "ok");
  if (!ok || !read_bool(*ok, a.ok)) {
    problem = "a reply without a bool `ok`";
    return false;
  }
  if (a.ok) {
    a.value = find(entries, "value");
    return true;
  }
  auto code = find(entries, "code");
  if (!code || !read_str(*code, a.code) || a.code.empty() || a.code.size() > kMaxCodeBytes) {
    problem = "a failure reply without a `code` (a non-empty UTF-8 str of at most 256 bytes)";
    return false;
  }
  if (auto message = find(entries, "message")) {
    if (!read_str(*message, a.message)) {
      problem = "a failure reply whose `message` is not a UTF-8 str";
      return false;
    }
    a.message = cut_utf8(std::move(a.message), kMaxMessageBytes);
  }
  if (auto retryable = find(entries, "retryable")) {
    if (!read_bool(*retryable, a.retryable)) {
      problem = "a failure reply whose `retryable` is not a bool";
      return false;
    }
  }
  return true;
}

// The common head of every request.
void pack_head(msgpack::packer<msgpack::sbuffer>& pk, uint32_t entries, uint64_t id, const char* kind) {
  pk.pack_map(entries);
  pk.pack(std::string("version"));
  pk.pack(kExternalProtocolVersion);
  pk.pack(std::string("id"));
  pk.pack(id);
  pk.pack(std::string("kind"));
  pk.pack(std::string(kind));
}

// `args` as a map by parameter name; false with `error` if one cannot be sent.
bool pack_args(const Program& program, msgpack::sbuffer& buffer, msgpack::packer<msgpack::sbuffer>& pk,
               const std::vector<FieldInfo>& params, std::span<const Value> args, std::string& error) {
  pk.pack(std::string("args"));
  pk.pack_map(static_cast<uint32_t>(params.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    std::string bytes;
    if (!encode_protocol_value(program, args[i], params[i].type, bytes, error)) {
      error = "the argument `" + params[i].name + "`: " + error;
      return false;
    }
    pk.pack(params[i].name);
    buffer.write(bytes.data(), bytes.size());
  }
  return true;
}

}  // namespace

struct ExternalAdapter::Impl {
  Impl(const Program& p, std::string e, int timeout) : program(&p), endpoint(std::move(e)), timeout_ms(timeout) {}
  ~Impl() { shutdown(); }

  const Program* program;
  std::string endpoint;
  std::atomic<int> timeout_ms;
  std::vector<std::string> effects;
  std::vector<std::string> observations;
  std::string name;

  zmq::context_t context{1};
  int wake_pipe[2] = {-1, -1};
  std::thread io;

  std::mutex mu;  // guards everything below
  bool stopping = false;
  bool io_exited = false;
  std::deque<std::shared_ptr<Call>> outbox;                     // not yet sent, in order
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls;   // waiting, by request id
  uint64_t unreadable_count = 0;
  std::string last_unreadable;

  std::atomic<uint64_t> next_id{1};

  // Creates and connects the socket here, then gives it to the I/O thread for good
  // (starting a thread is the full memory barrier ZeroMQ asks for when a socket moves).
  bool start(std::string& error) {
    if (endpoint.rfind("tcp://", 0) != 0 && endpoint.rfind("ipc://", 0) != 0) {
      error = "`" + endpoint + "` is not an adapter endpoint (tcp://HOST:PORT or ipc://PATH)";
      return false;
    }
    if (::pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
      error = std::string("cannot create a pipe: ") + std::strerror(errno);
      return false;
    }
    try {
      zmq::socket_t socket(context, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      // Queue nothing for a connection that is not up: a request that cannot be sent
      // stays ours, and is "not delivered" (certainly not executed) if it never is.
      socket.set(zmq::sockopt::immediate, 1);
      socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kProtocolMaxBytes));
      // Notice a dead peer (half-open TCP) in seconds, and a restarted one soon.
      socket.set(zmq::sockopt::heartbeat_ivl, 1000);
      socket.set(zmq::sockopt::heartbeat_timeout, 3000);
      socket.set(zmq::sockopt::reconnect_ivl, 100);
      socket.set(zmq::sockopt::reconnect_ivl_max, 1000);
      socket.connect(endpoint);
      io = std::thread([this, s = std::move(socket)]() mutable { run(s); });
    } catch (const zmq::error_t& e) {
      error = "cannot connect to `" + endpoint + "`: " + e.what();
      return false;
    } catch (const std::exception& e) {
      error = "cannot start the adapter connection: " + std::string(e.what());
      return false;
    }
    return true;
  }

  void wake() {
    const char byte = 1;
    // A full pipe already holds a wake-up; nothing else can go wrong that matters.
    [[maybe_unused]] ssize_t ignored = ::write(wake_pipe[1], &byte, 1);
  }

  void shutdown() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    if (io.joinable()) {
      wake();
      io.join();
    }
    close_all();
    for (int& fd : wake_pipe) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

  // Fails every waiting call with Closed (shutdown, or the I/O thread died).
  void close_all() {
    std::lock_guard lock(mu);
    io_exited = true;
    for (auto& [id, call] : calls) {
      call->closed = true;
      call->cv.notify_one();
    }
    calls.clear();
    outbox.clear();
  }

  void note_unreadable(std::string what) {
    std::lock_guard lock(mu);
    ++unreadable_count;
    last_unreadable = cut_utf8(std::move(what), 300);
  }

  // The I/O thread. Never throws out: anything unexpected ends the connection, and the
  // waiting calls fail with "closed" instead of hanging.
  void run(zmq::socket_t& socket) {
    try {
      loop(socket);
    } catch (const std::exception& e) {
      note_unreadable(std::string("the connection failed: ") + e.what());
    }
    socket.close();
    close_all();
  }

  void loop(zmq::socket_t& socket) {
    for (;;) {
      bool want_out = false;
      {
        std::lock_guard lock(mu);
        if (stopping) return;
        while (!outbox.empty()) {
          Call& c = *outbox.front();
          if (c.cancelled) {
            outbox.pop_front();
            continue;
          }
          // Two frames: an empty delimiter, then the body, so that a REP adapter can
          // answer too. Multipart messages are atomic: once the first frame is taken,
          // the second is.
          if (!socket.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) break;
          socket.send(zmq::message_t(c.body.data(), c.body.size()), zmq::send_flags::dontwait);
          c.sent = true;
          std::string().swap(c.body);
          outbox.pop_front();
        }
        want_out = !outbox.empty();
      }
      zmq::pollitem_t items[] = {
          {socket.handle(), 0, static_cast<short>(ZMQ_POLLIN | (want_out ? ZMQ_POLLOUT : 0)), 0},
          {nullptr, wake_pipe[0], ZMQ_POLLIN, 0},
      };
      try {
        // Bounded, so that a lost wake-up costs a second, never a hang.
        zmq::poll(items, 2, std::chrono::milliseconds(1000));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        char drain[64];
        while (::read(wake_pipe[0], drain, sizeof drain) > 0) {
        }
      }
      if (items[0].revents & ZMQ_POLLIN) receive(socket);
    }
  }

  // Reads every message waiting on the socket.
  void receive(zmq::socket_t& socket) {
    for (;;) {
      std::vector<zmq::message_t> frames;
      size_t total = 0;
      for (;;) {
        zmq::message_t frame;
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) {
          if (frames.empty()) return;  // nothing more waiting
          break;                       // cannot happen: the rest of a message is there
        }
        const bool more = frame.more();
        ++total;
        // Keep at most a few frames; a message of thousands of frames is dropped whole.
        if (frames.size() < 4) frames.push_back(std::move(frame));
        if (!more) break;
      }
      if (total > 4) {
        note_unreadable("a reply of " + std::to_string(total) + " frames");
        continue;
      }
      // [empty delimiter, body] from a ROUTER or REP; a lone body is accepted too.
      bool envelope_ok = true;
      for (size_t i = 0; i + 1 < frames.size(); ++i) envelope_ok = envelope_ok && frames[i].size() == 0;
      if (!envelope_ok) {
        note_unreadable("a reply whose frames before the body are not empty delimiters");
        continue;
      }
      dispatch(frames.back().to_string_view());
    }
  }

  void dispatch(std::string_view body) {
    std::vector<std::pair<std::string, std::string_view>> entries;
    std::string problem;
    if (!split_protocol_map(body, entries, problem)) {
      note_unreadable("an unreadable reply (" + problem + ")");
      return;
    }
    uint64_t id = 0;
    auto raw = find(entries, "id");
    if (!raw || !read_uint(*raw, id)) {
      note_unreadable("a reply without an unsigned int `id`");
      return;
    }
    std::lock_guard lock(mu);
    auto it = calls.find(id);
    // Not waiting: its caller timed out (a late reply), or the id was never ours.
    if (it == calls.end() || !it->second->sent) return;
    Call& c = *it->second;
    c.reply.assign(body.data(), body.size());
    c.done = true;
    c.cv.notify_one();
    calls.erase(it);
  }

  // Sends `body` (request id `id`) and waits for its reply, at most `timeout`.
  CallResult call(uint64_t id, std::string body, int timeout) {
    CallResult result;
    auto c = std::make_shared<Call>();
    c->id = id;
    c->body = std::move(body);
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout < 0 ? 0 : timeout);
    std::unique_lock lock(mu);
    if (stopping || io_exited) return result;  // Closed
    const uint64_t unreadable_before = unreadable_count;
    calls.emplace(id, c);
    outbox.push_back(c);
    lock.unlock();
    wake();
    lock.lock();
    c->cv.wait_until(lock, deadline, [&] { return c->done || c->closed; });
    if (c->done) {
      result.status = CallStatus::Replied;
      result.reply = std::move(c->reply);
      return result;
    }
    c->cancelled = true;
    calls.erase(id);
    if (c->closed) return result;
    result.status = c->sent ? CallStatus::TimedOut : CallStatus::NotDelivered;
    if (unreadable_count != unreadable_before)
      result.unreadable = "; meanwhile it sent " + std::to_string(unreadable_count - unreadable_before) +
                          " unreadable message(s), the last: " + last_unreadable;
    return result;
  }

  std::string where() const { return "the adapter at " + endpoint + (name.empty() ? "" : " (" + name + ")"); }

  // Says why a call that got no reply failed, in words; sets `code` and `retryable`.
  std::string no_reply(const CallResult& r, int timeout, std::string& code, bool& retryable) const {
    retryable = true;
    switch (r.status) {
      case CallStatus::TimedOut:
        code = "timeout";
        return "no reply from " + where() + " within " + std::to_string(timeout) +
               " ms (the request was sent: it may or may not have been carried out)" + r.unreadable;
      case CallStatus::NotDelivered:
        code = "adapter";
        return "not delivered: no connection to " + where() + " within " + std::to_string(timeout) +
               " ms (the request was never sent)" + r.unreadable;
      default:
        code = "adapter";
        return "the connection to " + where() + " is closed";
    }
  }

  bool hello(std::string& error) {
    const uint64_t id = next_id++;
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    pack_head(pk, 4, id, "hello");
    pk.pack(std::string("program"));
    pk.pack(program->name);
    const int timeout = timeout_ms.load();
    CallResult r = call(id, std::string(buffer.data(), buffer.size()), timeout);
    switch (r.status) {
      case CallStatus::NotDelivered:
        error = "cannot reach the adapter at " + endpoint + ": no connection within " + std::to_string(timeout) +
                " ms (is it running and listening there?)";
        return false;
      case CallStatus::TimedOut:
        error = "the adapter at " + endpoint + " accepted a connection but did not answer `hello` within " +
                std::to_string(timeout) + " ms" + r.unreadable;
        return false;
      case CallStatus::Closed:
        error = "the connection to the adapter at " + endpoint + " closed during `hello`";
        return false;
      case CallStatus::Replied: break;
    }
    const std::string bad = "the adapter at " + endpoint + " answered `hello` with ";
    std::vector<std::pair<std::string, std::string_view>> entries;
    Answer a;
    std::string problem;
    if (!read_answer(r.reply, entries, a, problem)) {
      error = bad + problem;
      return false;
    }
    if (!a.ok) {
      error = "the adapter at " + endpoint + " refused `hello`: " + a.code + (a.message.empty() ? "" : ": " + a.message);
      return false;
    }
    int64_t version = 0;
    auto v = find(entries, "version");
    if (!v || !read_int(*v, version)) {
      error = bad + "a reply without an int `version`";
      return false;
    }
    if (version != kExternalProtocolVersion) {
      error = "the adapter at " + endpoint + " speaks protocol version " + std::to_string(version) +
              "; this VM speaks version " + std::to_string(kExternalProtocolVersion);
      return false;
    }
    for (auto [key, list] : {std::pair{"effects", &effects}, std::pair{"observations", &observations}}) {
      auto raw = find(entries, key);
      if (raw && !read_str_list(*raw, *list)) {
        error = bad + "`" + key + "` that is not an array of non-empty UTF-8 strs";
        return false;
      }
      for (size_t i = 0; i < list->size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if ((*list)[i] == (*list)[j]) {
            error = bad + "`" + (*list)[i] + "` twice in `" + key + "`";
            return false;
          }
    }
    if (effects.empty() && observations.empty()) {
      error = "the adapter at " + endpoint + " serves no effects and no observations";
      return false;
    }
    if (auto raw = find(entries, "adapter")) {
      if (!read_str(*raw, name)) {
        error = bad + "an `adapter` name that is not a UTF-8 str";
        return false;
      }
      name = cut_utf8(std::move(name), 100);
    }
    return true;
  }
};

ExternalAdapter::ExternalAdapter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExternalAdapter::~ExternalAdapter() = default;

const std::vector<std::string>& ExternalAdapter::effects() const { return impl_->effects; }
const std::vector<std::string>& ExternalAdapter::observations() const { return impl_->observations; }
bool ExternalAdapter::serves_effect(const std::string& name) const {
  for (const auto& e : impl_->effects)
    if (e == name) return true;
  return false;
}
bool ExternalAdapter::serves_observation(const std::string& name) const {
  for (const auto& o : impl_->observations)
    if (o == name) return true;
  return false;
}
const std::string& ExternalAdapter::endpoint() const { return impl_->endpoint; }
const std::string& ExternalAdapter::adapter_name() const { return impl_->name; }
void ExternalAdapter::set_request_timeout_ms(int timeout_ms) { impl_->timeout_ms = timeout_ms; }
int ExternalAdapter::request_timeout_ms() const { return impl_->timeout_ms; }

EffectOutcome ExternalAdapter::execute(const EffectRequest& request) {
  Impl& m = *impl_;
  const Program& program = *m.program;
  if (request.effect >= program.effects.size() || request.result_type >= program.types.size())
    return EffectOutcome::failure("adapter", "an intent of an effect the program does not have");
  const ExternalInfo& effect = program.effects[request.effect];
  if (!serves_effect(effect.name))
    return EffectOutcome::failure("NoAdapter", m.where() + " does not serve `" + effect.name + "`");
  if (request.args.size() != effect.params.size())
    return EffectOutcome::failure("adapter", "an intent of `" + effect.name + "` with the wrong number of arguments");

  const uint64_t id = m.next_id++;
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pack_head(pk, 9, id, "effect");
  pk.pack(std::string("name"));
  pk.pack(effect.name);
  pk.pack(std::string("intent"));
  pk.pack(request.intent_id);
  pk.pack(std::string("instance"));
  pk.pack(request.instance);
  pk.pack(std::string("key"));
  if (request.idempotency_key)
    pk.pack(*request.idempotency_key);
  else
    pk.pack_nil();
  pk.pack(std::string("attempt"));
  pk.pack(request.attempt);
  std::string error;
  if (!pack_args(program, buffer, pk, effect.params, request.args, error))
    return EffectOutcome::failure("adapter", "cannot send `" + effect.name + "` to " + m.where() + ": " + error);

  const int timeout = m.timeout_ms.load();
  CallResult r = m.call(id, std::string(buffer.data(), buffer.size()), timeout);
  if (r.status != CallStatus::Replied) {
    std::string code;
    bool retryable = false;
    std::string message = m.no_reply(r, timeout, code, retryable);
    return EffectOutcome::failure(std::move(code), std::move(message), retryable);
  }
  std::vector<std::pair<std::string, std::string_view>> entries;
  Answer a;
  std::string problem;
  if (!read_answer(r.reply, entries, a, problem))
    return EffectOutcome::failure("adapter", m.where() + " answered `" + effect.name + "` with " + problem);
  if (!a.ok) return EffectOutcome::failure(std::move(a.code), std::move(a.message), a.retryable);
  Value value;
  if (!a.value) {
    // A unit result needs no value; anything else does.
    if (program.types[request.result_type].kind != TypeKind::Unit)
      return EffectOutcome::failure("adapter", m.where() + " answered `" + effect.name + "` with ok but no `value`");
  } else if (!decode_protocol_value(program, *a.value, request.result_type, value, problem)) {
    return EffectOutcome::failure("adapter", m.where() + " answered `" + effect.name +
                                                 "` with a value that is not of its result type: " + problem);
  }
  return EffectOutcome::success(std::move(value));
}

bool ExternalAdapter::sample(const std::string& name, std::span<const Value> args, uint32_t result_type, Value& out,
                             std::string& error) {
  Impl& m = *impl_;
  const Program& program = *m.program;
  const ExternalInfo* observation = nullptr;
  for (const auto& o : program.observations)
    if (o.name == name) observation = &o;
  if (!observation) {
    error = "the program declares no observation `" + name + "`";
    return false;
  }
  if (!serves_observation(name)) {
    error = m.where() + " does not serve the observation `" + name + "`";
    return false;
  }
  if (args.size() != observation->params.size() || result_type >= program.types.size()) {
    error = "a sample of `" + name + "` with the wrong number of arguments";
    return false;
  }
  const uint64_t id = m.next_id++;
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pack_head(pk, 5, id, "observe");
  pk.pack(std::string("name"));
  pk.pack(name);
  if (!pack_args(program, buffer, pk, observation->params, args, error)) {
    error = "cannot send `" + name + "` to " + m.where() + ": " + error;
    return false;
  }
  const int timeout = m.timeout_ms.load();
  CallResult r = m.call(id, std::string(buffer.data(), buffer.size()), timeout);
  if (r.status != CallStatus::Replied) {
    std::string code;
    bool retryable = false;
    error = m.no_reply(r, timeout, code, retryable);
    error = code + ": " + error;
    return false;
  }
  std::vector<std::pair<std::string, std::string_view>> entries;
  Answer a;
  std::string problem;
  if (!read_answer(r.reply, entries, a, problem)) {
    error = "adapter: " + m.where() + " answered `" + name + "` with " + problem;
    return false;
  }
  if (!a.ok) {
    error = a.code + (a.message.empty() ? "" : ": " + a.message);
    return false;
  }
  Value value;
  if (!a.value) {
    if (program.types[result_type].kind != TypeKind::Unit) {
      error = "adapter: " + m.where() + " answered `" + name + "` with ok but no `value`";
      return false;
    }
  } else if (!decode_protocol_value(program, *a.value, result_type, value, problem)) {
    error = "adapter: " + m.where() + " answered `" + name + "` with a value that is not of its type: " + problem;
    return false;
  }
  out = std::move(value);
  return true;
}

std::shared_ptr<ExternalAdapter> connect_external_adapter(const Program& program, const std::string& endpoint,
                                                          int timeout_ms, std::string& error) {
  auto impl = std::make_unique<ExternalAdapter::Impl>(program, endpoint, timeout_ms);
  if (!impl->start(error)) return nullptr;
  // Built before hello so that a failed hello tears the connection down the usual way.
  std::shared_ptr<ExternalAdapter> adapter(new ExternalAdapter(std::move(impl)));
  if (!adapter->impl_->hello(error)) return nullptr;
  return adapter;
}

}  // namespace ved::vm
