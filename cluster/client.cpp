#include "cluster/client.h"

#include <zmq.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cluster/member_address.h"
#include "cluster/zmq_util.h"

namespace ved::cluster {

namespace {

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::atomic<uint64_t> g_monitor_counter{0};

}  // namespace

ClusterClient::ClusterClient(Security security) : security_(std::move(security)), context_(zmq_ctx_new()) {}

ClusterClient::~ClusterClient() { zmq_ctx_term(context_); }

bool ClusterClient::call(const std::string& address, ClientRequest request, int timeout_ms, ClientReply& reply,
                         std::string& error) {
  MemberAddress target;
  if (!parse_member_address(address, target, error)) return false;
  std::vector<std::string> keys;
  if (security_.insecure) keys.push_back("");
  else if (!target.public_key.empty()) keys.push_back(target.public_key);
  else keys.assign(security_.trusted.begin(), security_.trusted.end());

  request.sequence = sequence_++;
  const std::string bytes = encode_wire(WireMessage{"", 0, "", request});
  struct Channel {
    void* socket = nullptr;
    void* monitor = nullptr;
    std::string failure;
  };
  std::vector<Channel> channels;
  for (const auto& key : keys) {
    Channel c;
    c.socket = zmq_socket(context_, ZMQ_DEALER);
    zmq_util::common_options(c.socket);
    if (!zmq_util::curve_client(c.socket, security_, key, error)) {
      zmq_close(c.socket);
      continue;
    }
    c.monitor = zmq_util::monitor_handshakes(context_, c.socket,
                                             "client-" + std::to_string(getpid()) + "-" + std::to_string(g_monitor_counter++));
    if (zmq_connect(c.socket, target.endpoint().c_str()) != 0) {
      error = "cannot connect to " + target.host_port + ": " + zmq_strerror(zmq_errno());
      zmq_close(c.socket);
      if (c.monitor) zmq_close(c.monitor);
      continue;
    }
    zmq_send(c.socket, bytes.data(), bytes.size(), ZMQ_DONTWAIT);  // queued until connected
    channels.push_back(c);
  }
  bool answered = false;
  std::string decisive;  // a failure that settles it: refused key, security mismatch
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
  while (!answered && decisive.empty() && !channels.empty()) {
    const uint64_t now = now_ms();
    if (now >= deadline) break;
    std::vector<zmq_pollitem_t> items;
    for (const auto& c : channels) {
      items.push_back({c.socket, 0, ZMQ_POLLIN, 0});
      items.push_back({c.monitor, 0, static_cast<short>(c.monitor ? ZMQ_POLLIN : 0), 0});
    }
    if (zmq_poll(items.data(), static_cast<int>(items.size()), static_cast<long>(deadline - now)) < 0) break;
    for (size_t i = 0; i < channels.size() && !answered; ++i) {
      if (items[2 * i + 1].revents & ZMQ_POLLIN) {
        zmq_util::MonitorEvent e;
        while (zmq_util::read_monitor_event(channels[i].monitor, e)) {
          if (e.event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) continue;
          channels[i].failure = zmq_util::describe_handshake_failure(e, security_.insecure);
          const bool mismatch = e.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
                                e.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH;
          if (mismatch || e.event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) decisive = channels[i].failure;
        }
      }
      if (items[2 * i].revents & ZMQ_POLLIN) {
        std::vector<std::string> frames;
        while (zmq_util::receive(channels[i].socket, frames)) {
          WireMessage m;
          std::string why;
          if (frames.size() != 1 || !decode_wire(frames[0], m, why)) continue;
          const auto* r = std::get_if<ClientReply>(&m.body);
          if (!r || r->sequence != request.sequence) continue;
          reply = *r;
          answered = true;
          break;
        }
      }
    }
  }
  std::string failures;
  for (auto& c : channels) {
    if (!c.failure.empty() && failures.find(c.failure) == std::string::npos)
      failures += (failures.empty() ? "" : "; ") + c.failure;
    zmq_socket_monitor(c.socket, nullptr, 0);
    zmq_close(c.socket);
    if (c.monitor) zmq_close(c.monitor);
  }
  if (answered) return true;
  if (!decisive.empty()) error = target.host_port + " refused the connection: " + decisive;
  else if (channels.empty()) error = error.empty() ? "no key to reach " + target.host_port + " with" : error;
  else
    error = "no answer from " + target.host_port + " within " + std::to_string(timeout_ms) + " ms" +
            (failures.empty() ? "" : " (" + failures + ")");
  return false;
}

bool ClusterClient::call_leader(const std::string& address, const ClientRequest& request, int timeout_ms,
                                ClientReply& reply, std::string& error) {
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
  std::string target = address;
  bool have_reply = false;
  // A leader named by a follower may be the one that just died (followers name it until
  // their election timeout): such a hint gets a short wait, the member the user named a
  // longer one. A hint that did not answer in time may only be slow (a large request, a
  // loaded machine): each further wait on a hint is twice as long.
  int hint_ms = 500;
  while (true) {
    const uint64_t now = now_ms();
    if (now >= deadline) break;
    const int left = static_cast<int>(deadline - now);
    std::string why;
    const int attempt_ms = std::min(left, target == address ? 2000 : hint_ms);
    if (!call(target, request, attempt_ms, reply, why)) {
      error = why;
      if (why.find("refused") != std::string::npos) return false;  // retrying cannot help
      if (target != address) {
        target = address;  // the leader we were sent to may be gone
        hint_ms *= 2;
      }
      continue;
    }
    have_reply = true;
    if (reply.status == ClientReply::NotLeader && !reply.leader_address.empty()) {
      target = reply.leader_address;
      continue;
    }
    if (reply.status == ClientReply::NotLeader || reply.status == ClientReply::NoQuorum ||
        reply.status == ClientReply::Failed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      target = address;
      continue;
    }
    return true;
  }
  if (have_reply && error.empty()) error = reply.message;
  return false;
}

}  // namespace ved::cluster
