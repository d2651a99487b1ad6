// Small helpers over libzmq's C API, shared by the node's transport and the client.
#pragma once

#include <zmq.h>

#include <string>
#include <vector>

#include "cluster/curve_keys.h"

namespace ved::cluster::zmq_util {

// Receives every frame of one message (non-blocking: false if none is waiting).
// `user_id` receives the ZAP User-Id of the connection (the peer's Z85 key under CURVE).
bool receive(void* socket, std::vector<std::string>& frames, std::string* user_id = nullptr);
bool send(void* socket, const std::vector<std::string>& frames, bool dont_wait = true);

// Options every socket of ours gets: no linger at close, a cap on message size.
void common_options(void* socket);
// A socket that authenticates the peers connecting to it (ZAP domain "ved").
bool curve_server(void* socket, const Security& security, std::string& error);
// A socket that connects to a server whose public key is `server_key`.
bool curve_client(void* socket, const Security& security, const std::string& server_key, std::string& error);

// A monitor for handshake failures of `socket`; returns the PAIR socket to poll (or null).
void* monitor_handshakes(void* context, void* socket, const std::string& name);
struct MonitorEvent {
  uint16_t event = 0;
  uint32_t value = 0;
  std::string endpoint;
};
bool read_monitor_event(void* monitor, MonitorEvent& out);
// A sentence for a handshake failure, from the point of view of `insecure`.
std::string describe_handshake_failure(const MonitorEvent& e, bool insecure);

}  // namespace ved::cluster::zmq_util
