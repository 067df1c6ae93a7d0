// A local fake HTTP endpoint (cpp-httplib) on 127.0.0.1, for the faults a
// real server does not produce: the remote read and remote write tests.
#ifndef PROMEVAL_TESTS_FAKE_ENDPOINT_H_
#define PROMEVAL_TESTS_FAKE_ENDPOINT_H_

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace promeval::testing {

// An httplib server answering POSTs to `path` on a free loopback port, on
// its own thread; stopped when destroyed.
class FakeEndpoint {
 public:
  FakeEndpoint(std::string path, httplib::Server::Handler handler)
      : path_(std::move(path)) {
    server_.Post(path_, std::move(handler));
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return absl::StrCat("http://127.0.0.1:", port_, path_);
  }

 private:
  const std::string path_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 nothing listens on now.
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_FAKE_ENDPOINT_H_
