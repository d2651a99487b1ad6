#include "cluster/zmq_util.h"

#include "cluster/wire_message.h"

namespace ved::cluster::zmq_util {

bool receive(void* socket, std::vector<std::string>& frames, std::string* user_id) {
  frames.clear();
  int more = 0;
  do {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, socket, frames.empty() ? ZMQ_DONTWAIT : 0) < 0) {
      zmq_msg_close(&msg);
      return false;  // nothing waiting (or the rest of a message lost: drop it all)
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    if (user_id && !zmq_msg_more(&msg)) {  // the routing-id frame a ROUTER adds carries no metadata
      const char* id = zmq_msg_gets(&msg, "User-Id");
      *user_id = id ? id : "";
    }
    more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
  } while (more);
  return true;
}

bool send(void* socket, const std::vector<std::string>& frames, bool dont_wait) {
  for (size_t i = 0; i < frames.size(); ++i) {
    int flags = (i + 1 < frames.size() ? ZMQ_SNDMORE : 0) | (dont_wait ? ZMQ_DONTWAIT : 0);
    if (zmq_send(socket, frames[i].data(), frames[i].size(), flags) < 0) return false;
  }
  return true;
}

void common_options(void* socket) {
  int zero = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof zero);
  int64_t max = static_cast<int64_t>(kMaxWireBytes);
  zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max, sizeof max);
}

bool curve_server(void* socket, const Security& security, std::string& error) {
  if (security.insecure) return true;
  int one = 1;
  const char* domain = "ved";
  if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, security.own.secret_key.c_str(), 40) != 0 ||
      zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain, 3) != 0) {
    error = std::string("cannot set up CURVE: ") + zmq_strerror(zmq_errno());
    return false;
  }
  return true;
}

bool curve_client(void* socket, const Security& security, const std::string& server_key, std::string& error) {
  if (security.insecure) return true;
  if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_key.c_str(), 40) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, security.own.public_key.c_str(), 40) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, security.own.secret_key.c_str(), 40) != 0) {
    error = std::string("cannot set up CURVE: ") + zmq_strerror(zmq_errno());
    return false;
  }
  return true;
}

void* monitor_handshakes(void* context, void* socket, const std::string& name) {
  const std::string endpoint = "inproc://ved-monitor-" + name;
  const int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  if (zmq_socket_monitor(socket, endpoint.c_str(), events) != 0) return nullptr;
  void* pair = zmq_socket(context, ZMQ_PAIR);
  common_options(pair);
  if (zmq_connect(pair, endpoint.c_str()) != 0) {
    zmq_close(pair);
    return nullptr;
  }
  return pair;
}

bool read_monitor_event(void* monitor, MonitorEvent& out) {
  std::vector<std::string> frames;
  if (!receive(monitor, frames) || frames.size() < 2 || frames[0].size() < 6) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(frames[0].data());
  out.event = static_cast<uint16_t>(p[0] | (p[1] << 8));
  out.value = static_cast<uint32_t>(p[2] | (p[3] << 8) | (p[4] << 16) | (static_cast<uint32_t>(p[5]) << 24));
  out.endpoint = frames[1];
  return true;
}

std::string describe_handshake_failure(const MonitorEvent& e, bool insecure) {
  if (e.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && e.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
    return insecure ? "the other side requires CURVE but this side runs --insecure: a cluster runs --insecure on every "
                      "participant (nodes and clients) or on none"
                    : "the other side runs --insecure (plaintext) but this side requires CURVE: a cluster runs "
                      "--insecure on every participant (nodes and clients) or on none";
  if (e.event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
    return "the key was refused (status " + std::to_string(e.value) + "): it is not in the other side's --trust dir";
  if (e.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
    return "the CURVE handshake failed (protocol error " + std::to_string(e.value) +
           "): wrong server key, or not a Ved node";
  // The connection closed during the handshake without saying why: most often the other
  // side refused this side's security mechanism and hung up before its own greeting was
  // read (seen under load), so say what to check.
  return insecure ? "the handshake failed (the other side may require CURVE: a cluster runs --insecure on every "
                    "participant (nodes and clients) or on none)"
                  : "the handshake failed (the other side may run --insecure, or not be a Ved node: a cluster runs "
                    "--insecure on every participant (nodes and clients) or on none)";
}

}  // namespace ved::cluster::zmq_util
