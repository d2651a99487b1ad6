// The libzmq functions that cppzmq (zmq.hpp, used by external_adapter.cpp) and the cluster
// layer (cluster/: sockets, CURVE keys, monitors) call, defined here so that libzmq itself
// is opened with dlopen by the first of them (lazy_library.h): a process that connects no
// external adapter and runs no node never loads libzmq.
//
// Each forwards to the same function of libzmq.so.5. If libzmq cannot be loaded, each
// fails as libzmq reports failures (null or -1, errno ELIBACC), cppzmq throws its
// zmq::error_t, and that error's text, from zmq_strerror below, names the missing library.
// A zmq_* function that cppzmq starts to call and that is not listed here is an
// undefined reference when vedvm links, so the list cannot silently fall behind.
#include <zmq.h>

#include <cerrno>
#include <string>

#include "vm/effects/lazy_library.h"

namespace {

ved::vm::LazyLibrary& libzmq() {
  static ved::vm::LazyLibrary library("libzmq.so.5");
  return library;
}

template <class F>
F resolve(const char* name) {
  return reinterpret_cast<F>(libzmq().function(name));
}

}  // namespace

// RETURN: the return type; FAILED: what the function returns when libzmq is missing.
#define VED_ZMQ_FORWARD(RETURN, NAME, PARAMS, ARGS, FAILED)                   \
  extern "C" RETURN NAME PARAMS {                                              \
    static const auto real = resolve<decltype(&NAME)>(#NAME);                  \
    if (!real) {                                                               \
      errno = ELIBACC;                                                         \
      return FAILED;                                                           \
    }                                                                          \
    return real ARGS;                                                          \
  }

VED_ZMQ_FORWARD(void*, zmq_ctx_new, (void), (), nullptr)
VED_ZMQ_FORWARD(int, zmq_ctx_term, (void* context), (context), -1)
VED_ZMQ_FORWARD(int, zmq_ctx_set, (void* context, int option, int value), (context, option, value), -1)
VED_ZMQ_FORWARD(void*, zmq_socket, (void* context, int type), (context, type), nullptr)
VED_ZMQ_FORWARD(int, zmq_close, (void* socket), (socket), -1)
VED_ZMQ_FORWARD(int, zmq_setsockopt, (void* socket, int option, const void* value, size_t size),
                (socket, option, value, size), -1)
VED_ZMQ_FORWARD(int, zmq_connect, (void* socket, const char* address), (socket, address), -1)
VED_ZMQ_FORWARD(int, zmq_poll, (zmq_pollitem_t * items, int count, long timeout), (items, count, timeout), -1)
VED_ZMQ_FORWARD(int, zmq_msg_init, (zmq_msg_t * message), (message), -1)
VED_ZMQ_FORWARD(int, zmq_msg_init_size, (zmq_msg_t * message, size_t size), (message, size), -1)
VED_ZMQ_FORWARD(int, zmq_msg_send, (zmq_msg_t * message, void* socket, int flags), (message, socket, flags), -1)
VED_ZMQ_FORWARD(int, zmq_msg_recv, (zmq_msg_t * message, void* socket, int flags), (message, socket, flags), -1)
VED_ZMQ_FORWARD(int, zmq_msg_close, (zmq_msg_t * message), (message), -1)
VED_ZMQ_FORWARD(void*, zmq_msg_data, (zmq_msg_t * message), (message), nullptr)
VED_ZMQ_FORWARD(size_t, zmq_msg_size, (const zmq_msg_t* message), (message), 0)
VED_ZMQ_FORWARD(int, zmq_msg_more, (const zmq_msg_t* message), (message), 0)
// The cluster's.
VED_ZMQ_FORWARD(int, zmq_bind, (void* socket, const char* address), (socket, address), -1)
VED_ZMQ_FORWARD(int, zmq_send, (void* socket, const void* buffer, size_t size, int flags),
                (socket, buffer, size, flags), -1)
VED_ZMQ_FORWARD(int, zmq_socket_monitor, (void* socket, const char* address, int events), (socket, address, events),
                -1)
VED_ZMQ_FORWARD(const char*, zmq_msg_gets, (const zmq_msg_t* message, const char* property), (message, property),
                nullptr)
VED_ZMQ_FORWARD(int, zmq_curve_keypair, (char* public_key, char* secret_key), (public_key, secret_key), -1)
VED_ZMQ_FORWARD(int, zmq_curve_public, (char* public_key, const char* secret_key), (public_key, secret_key), -1)
VED_ZMQ_FORWARD(char*, zmq_z85_encode, (char* dest, const uint8_t* data, size_t size), (dest, data, size), nullptr)
VED_ZMQ_FORWARD(uint8_t*, zmq_z85_decode, (uint8_t * dest, const char* string), (dest, string), nullptr)

#undef VED_ZMQ_FORWARD

// Without libzmq, the errno of the failed call (ELIBACC, set above).
extern "C" int zmq_errno(void) {
  static const auto real = resolve<decltype(&zmq_errno)>("zmq_errno");
  return real ? real() : errno;
}

// Without libzmq, why it could not be loaded, whatever the number.
extern "C" const char* zmq_strerror(int number) {
  static const auto real = resolve<decltype(&zmq_strerror)>("zmq_strerror");
  if (real) return real(number);
  static const std::string why = libzmq().error() + " (external adapters and cluster nodes need libzmq)";
  return why.c_str();
}
