#include "external_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace ved::effects_test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  ::close(fd);  // never listened: connecting there is refused
  return ntohs(addr.sin_port);
}

AdapterProcess::AdapterProcess(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  // argv is built before fork: the child only calls async-signal-safe functions (the
  // test process has ZeroMQ threads).
  std::vector<std::string> owned{VED_EXAMPLE_ADAPTER};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  const auto start = std::chrono::steady_clock::now();
  std::string line;
  while (line.find('\n') == std::string::npos) {
    const long long left = 10000 - elapsed_ms(start);
    pollfd p{out[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);  // the adapter writes nothing else to stdout
  if (line.find('\n') == std::string::npos) {
    kill();
    throw std::runtime_error("ved-example-adapter did not print its endpoint: `" + line + "`");
  }
  endpoint_ = line.substr(0, line.find('\n'));
}

AdapterProcess::~AdapterProcess() { kill(); }

int AdapterProcess::terminate(int ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    }
    if (elapsed_ms(start) > ms) {
      kill();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void AdapterProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {

std::string as_string(const msgpack::object& o) {
  return o.type == msgpack::type::STR ? std::string(o.via.str.ptr, o.via.str.size) : std::string();
}

FakeRequest parse_request(std::string identity, std::string body) {
  FakeRequest r;
  r.identity = std::move(identity);
  r.body = std::move(body);
  try {
    auto h = msgpack::unpack(r.body.data(), r.body.size());
    const auto& o = h.get();
    if (o.type != msgpack::type::MAP) return r;
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const std::string k = as_string(o.via.map.ptr[i].key);
      const auto& v = o.via.map.ptr[i].val;
      if (k == "id" && v.type == msgpack::type::POSITIVE_INTEGER) r.id = v.via.u64;
      if (k == "kind") r.kind = as_string(v);
      if (k == "name") r.name = as_string(v);
      if (k == "intent") r.intent = as_string(v);
      if (k == "key" && v.type == msgpack::type::STR) r.key = as_string(v);
      if (k == "attempt" && v.type == msgpack::type::POSITIVE_INTEGER) r.attempt = v.via.u64;
      if (k == "args" && v.type == msgpack::type::MAP) {
        for (uint32_t j = 0; j < v.via.map.size; ++j) {
          if (v.via.map.ptr[j].val.type == msgpack::type::STR) {
            r.first_string_arg = as_string(v.via.map.ptr[j].val);
            break;
          }
        }
      }
    }
  } catch (const std::exception&) {
  }
  return r;
}

}  // namespace

FakeAdapter::FakeAdapter(Handler handler, zmq::socket_type type)
    : socket_(context_, type), type_(type), handler_(std::move(handler)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("tcp://127.0.0.1:*");
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { run(); });
}

FakeAdapter::~FakeAdapter() {
  stop_ = true;
  thread_.join();
}

void FakeAdapter::run() {
  while (!stop_) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(20));
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<std::string> frames;
    for (;;) {
      zmq::message_t m;
      if (!socket_.recv(m, zmq::recv_flags::none)) break;
      frames.push_back(m.to_string());
      if (!m.more()) break;
    }
    ++requests_;
    if (type_ == zmq::socket_type::rep) {
      handler_(*this, parse_request("", frames.back()));
    } else if (frames.size() == 3 && frames[1].empty()) {
      handler_(*this, parse_request(frames[0], frames[2]));
    }
  }
}

void FakeAdapter::reply(const FakeRequest& to, const std::string& body) { reply_frames(to, {"", body}); }

void FakeAdapter::reply_frames(const FakeRequest& to, const std::vector<std::string>& frames) {
  if (type_ == zmq::socket_type::rep) {
    socket_.send(zmq::buffer(frames.back()), zmq::send_flags::none);
    return;
  }
  socket_.send(zmq::buffer(to.identity), zmq::send_flags::sndmore);
  for (size_t i = 0; i < frames.size(); ++i)
    socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

std::string map_body(uint32_t entries, const std::function<void(Packer&)>& fill) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_map(entries);
  fill(pk);
  return std::string(b.data(), b.size());
}

std::string hello_reply(uint64_t id, const std::vector<std::string>& effects,
                        const std::vector<std::string>& observations, int version) {
  return map_body(5, [&](Packer& pk) {
    pk.pack("id");
    pk.pack(id);
    pk.pack("ok");
    pk.pack(true);
    pk.pack("version");
    pk.pack(version);
    pk.pack("effects");
    pk.pack(effects);
    pk.pack("observations");
    pk.pack(observations);
  });
}

std::string ok_reply(uint64_t id, const std::function<void(Packer&)>& value) {
  return map_body(value ? 3 : 2, [&](Packer& pk) {
    pk.pack("id");
    pk.pack(id);
    pk.pack("ok");
    pk.pack(true);
    if (value) {
      pk.pack("value");
      value(pk);
    }
  });
}

std::string ok_string(uint64_t id, const std::string& value) {
  return ok_reply(id, [&](Packer& pk) { pk.pack(value); });
}

std::string fail_reply(uint64_t id, const std::string& code, const std::string& message, bool retryable) {
  return map_body(5, [&](Packer& pk) {
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
  });
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace ved::effects_test
