// Net.HttpGet(url) -> string and Net.HttpPost(url, body) -> string through libcurl. On the
// worker pool: each call has its own easy handle, so concurrent calls share nothing but
// libcurl's one-time loading and global initialisation. libcurl is opened with dlopen by
// the first HTTP call (lazy_library.h), so a process that makes none never loads it.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

#include "vm/effects/adapter_text.h"
#include "vm/effects/builtin_adapters.h"
#include "vm/effects/lazy_library.h"

namespace ved::vm {

namespace {

// How much of an error response's body a failure message quotes.
constexpr size_t kBodyQuote = 500;
constexpr long kMaxRedirects = 5;

// The libcurl functions this adapter calls. (curl.h's type-checking macros for
// curl_easy_setopt and curl_easy_getinfo do not apply to calls through these pointers;
// every option below passes the type libcurl documents for it.)
struct Curl {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

// Loads libcurl and runs curl_global_init, once, on the first HTTP call; null, with
// `error` naming what is missing, when libcurl cannot be loaded. curl_global_init is not
// safe to race with other libcurl calls: every caller waits here until it has returned
// (a function-local static is initialised once, the other threads blocking meanwhile).
const Curl* load_curl(std::string& error) {
  static LazyLibrary library("libcurl.so.4");
  static const Curl* const loaded = []() -> const Curl* {
    static Curl c;
    bool ok = true;
    auto get = [&](auto& slot, const char* name) {
      void* f = library.function(name);
      ok = ok && f != nullptr;
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(f);
    };
    get(c.global_init, "curl_global_init");
    get(c.easy_init, "curl_easy_init");
    get(c.easy_setopt, "curl_easy_setopt");
    get(c.easy_perform, "curl_easy_perform");
    get(c.easy_getinfo, "curl_easy_getinfo");
    get(c.easy_strerror, "curl_easy_strerror");
    get(c.easy_cleanup, "curl_easy_cleanup");
    get(c.slist_append, "curl_slist_append");
    get(c.slist_free_all, "curl_slist_free_all");
    if (!ok) return nullptr;
    c.global_init(CURL_GLOBAL_DEFAULT);
    return &c;
  }();
  if (!loaded) error = library.error() + " (the HTTP effects need libcurl)";
  return loaded;
}

struct EasyDeleter {
  const Curl* curl;
  void operator()(CURL* c) const { curl->easy_cleanup(c); }
};
struct ListDeleter {
  const Curl* curl;
  void operator()(curl_slist* l) const { curl->slist_free_all(l); }
};

struct Body {
  std::string bytes;
  size_t max = 0;
  bool overflow = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t n = size * count;
  if (body->bytes.size() + n > body->max) {
    body->overflow = true;
    return 0;  // anything but n makes libcurl stop with CURLE_WRITE_ERROR
  }
  body->bytes.append(data, n);
  return n;
}

bool starts_with_scheme(const std::string& url, std::string_view scheme) {
  if (url.size() < scheme.size()) return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
  return true;
}

// Whether a failure to talk to the server may go away by itself: connection refused or
// reset, timeouts, name resolution, half-finished transfers. Refusals that will repeat
// (a bad URL, a certificate that does not verify, a body over the limit) are not.
bool transient(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_LOGIN_DENIED:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

// The Content-Type of a POST body. Ved has no way to say it, so it is inferred from the
// body: one that starts like a JSON object or array goes as JSON (what HTTP APIs expect),
// anything else as UTF-8 text.
const char* content_type_of(const std::string& body) {
  const auto first = std::find_if(body.begin(), body.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
  if (first != body.end() && (*first == '{' || *first == '['))
    return "Content-Type: application/json";
  return "Content-Type: text/plain; charset=utf-8";
}

class HttpEffects final : public EffectAdapter {
 public:
  explicit HttpEffects(HttpOptions options) : options_(options) {}

  bool between_ticks() const override { return false; }

  EffectOutcome execute(const EffectRequest& request) override {
    try {
      const auto& a = request.args;
      auto is_string = [&](size_t i) { return i < a.size() && a[i].tag() == Tag::String; };
      if (request.effect_name == "Net.HttpGet" && a.size() == 1 && is_string(0))
        return transfer(a[0].as_string(), nullptr, request.idempotency_key);
      if (request.effect_name == "Net.HttpPost" && a.size() == 2 && is_string(0) && is_string(1))
        return transfer(a[0].as_string(), &a[1].as_string(), request.idempotency_key);
      return EffectOutcome::failure("adapter", "the HTTP adapter cannot serve `" + request.effect_name +
                                                   "` with these arguments");
    } catch (const std::exception& e) {  // execute never throws (adapter.h)
      return EffectOutcome::failure("adapter", std::string("the HTTP adapter broke: ") + e.what());
    }
  }

 private:
  // GET when `post_body` is null, else POST it.
  EffectOutcome transfer(const std::string& url, const std::string* post_body,
                         const std::optional<std::string>& idempotency_key) {
    const std::string method = post_body ? "POST" : "GET";
    const std::string shown = method + " `" + escape_line(url) + "`";
    if (!starts_with_scheme(url, "http://") && !starts_with_scheme(url, "https://"))
      return EffectOutcome::failure("invalid", shown + ": only http:// and https:// URLs are allowed");
    if (url.find_first_of(std::string_view("\0\r\n ", 4)) != std::string::npos)
      return EffectOutcome::failure("invalid", shown + ": the URL contains a space, a line break or NUL");
    // A key with a line break would end the header and start another one of the program's choosing.
    if (idempotency_key && idempotency_key->find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
      return EffectOutcome::failure("invalid", shown + ": the idempotency key contains a line break or NUL");

    std::string load_error;
    const Curl* api = load_curl(load_error);
    if (!api) return EffectOutcome::failure("adapter", shown + ": " + load_error);
    std::unique_ptr<CURL, EasyDeleter> curl(api->easy_init(), EasyDeleter{api});
    if (!curl) return EffectOutcome::failure("adapter", shown + ": cannot start a libcurl transfer");
    CURL* c = curl.get();
    std::unique_ptr<curl_slist, ListDeleter> headers(nullptr, ListDeleter{api});
    auto add_header = [&](const std::string& h) {
      curl_slist* l = api->slist_append(headers.get(), h.c_str());
      if (!l) throw std::bad_alloc();
      headers.release();
      headers.reset(l);
    };
    // libcurl would send `Expect: 100-continue` for larger bodies and wait for a go-ahead
    // many servers never send.
    add_header("Expect:");
    if (idempotency_key) add_header("Idempotency-Key: " + *idempotency_key);
    if (post_body) add_header(content_type_of(*post_body));

    Body body;
    body.max = options_.max_body_bytes;
    char error_text[CURL_ERROR_SIZE] = {0};
    api->easy_setopt(c, CURLOPT_URL, url.c_str());
    api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    api->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: required off the main thread
    api->easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
    api->easy_setopt(c, CURLOPT_USERAGENT, "vedvm");
    api->easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    api->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api->easy_setopt(c, CURLOPT_WRITEDATA, &body);
    api->easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes));
    api->easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
    if (post_body) {
      // A redirected POST would become a GET (or repeat the body somewhere else): the
      // program sees the 3xx instead.
      api->easy_setopt(c, CURLOPT_POST, 1L);
      api->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
      api->easy_setopt(c, CURLOPT_POSTFIELDS, post_body->data());
    } else {
      api->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
      api->easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
    }

    const CURLcode code = api->easy_perform(c);
    if (code != CURLE_OK) {
      if (body.overflow || code == CURLE_FILESIZE_EXCEEDED)
        return EffectOutcome::failure("http", shown + ": the response body exceeds " +
                                                  std::to_string(options_.max_body_bytes) + " bytes");
      const std::string why = escape_line(error_text[0] ? error_text : api->easy_strerror(code));
      if (code == CURLE_OPERATION_TIMEDOUT)
        return EffectOutcome::failure("timeout", shown + ": no complete answer within " +
                                                     std::to_string(options_.timeout_ms) + " ms (" + why + ")",
                                      /*retryable=*/true);
      return EffectOutcome::failure("http", shown + ": " + why, transient(code));
    }
    long status = 0;
    api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return EffectOutcome::success(Value::string(repair_utf8(body.bytes)));
    // Server errors and rate limiting are the server's state, which changes; other
    // statuses say the request itself is wrong and will be again.
    const bool retryable = status >= 500 || status == 429;
    std::string message = "HTTP " + std::to_string(status) + " from " + shown;
    const std::string quote = head_of(escape_line(body.bytes), kBodyQuote);
    if (!quote.empty()) message += ": " + quote;
    return EffectOutcome::failure("http", message, retryable);
  }

  const HttpOptions options_;
};

}  // namespace

std::shared_ptr<EffectAdapter> make_http_effects(HttpOptions options) { return std::make_shared<HttpEffects>(options); }

}  // namespace ved::vm
