// The client side of the protocol: `vedvm --join`, `vedvm status`, `vedvm leave`, and a
// node joining a cluster. One request, one reply, over a DEALER socket.
//
// Under CURVE a client must know the server's public key before it connects. A member
// address from the configuration carries it (member_address.h); a bare HOST:PORT (what a
// user types after --join) does not, so the request is sent once per trusted key, each on
// its own socket: only the socket holding the server's real key completes the handshake,
// and its reply is the answer. Handshake failures are watched, so that a refused key or a
// CURVE/--insecure mismatch is reported as such instead of as a timeout.
#pragma once

#include <string>

#include "cluster/curve_keys.h"
#include "cluster/wire_message.h"

namespace ved::cluster {

class ClusterClient {
 public:
  explicit ClusterClient(Security security);
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  // Sends `request` to the member at `address` and waits up to `timeout_ms` for the
  // reply. False with `error` (what happened: no answer, refused key, security mismatch).
  bool call(const std::string& address, ClientRequest request, int timeout_ms, ClientReply& reply, std::string& error);

  // call(), following NotLeader replies to the leader until the request is answered by
  // it, a NoQuorum reply persists, or `timeout_ms` is spent. The last reply is returned.
  bool call_leader(const std::string& address, const ClientRequest& request, int timeout_ms, ClientReply& reply,
                   std::string& error);

 private:
  Security security_;
  void* context_;
  uint64_t sequence_ = 1;
};

}  // namespace ved::cluster
