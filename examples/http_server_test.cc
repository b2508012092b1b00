// Copyright 2026 The coral Authors.
//
// Tests of http_server as its clients see it, on loopback: Debian's curl for ordinary requests
// (the routes, 404, the header limits, keep-alive reuse, HTTP/1.0), raw sockets for what curl
// cannot send (pipelined requests, malformed requests), the idle timeout and the graceful
// shutdown on SIGTERM; and HTTPS (--tls) with a certificate the test makes with Debian's openssl.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "examples/example_test_util.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

constexpr char kCurl[] = "/usr/bin/curl";
constexpr char kOpenssl[] = "/usr/bin/openssl";

// A running http_server; its port is read from its first line of output.
class Server {
 public:
  explicit Server(std::vector<std::string> flags = {}) {
    flags.push_back("0");
    absl::StatusOr<Subprocess> server = Subprocess::Start("examples/http_server", flags, {});
    EXPECT_TRUE(server.ok()) << server.status();
    process_.emplace(*std::move(server));
    const std::string first = process_->ReadLine().value_or("");
    const size_t colon = first.rfind(':');
    EXPECT_TRUE(absl::StartsWith(first, "listening on 127.0.0.1:")) << first;
    EXPECT_TRUE(absl::SimpleAtoi(first.substr(colon + 1), &port_)) << first;
  }

  int port() const { return port_; }
  Subprocess& process() { return *process_; }
  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

 private:
  std::optional<Subprocess> process_;
  int port_ = 0;
};

// Runs curl with `args` (plus -sS and a time limit); returns what it printed on stdout, but for
// a line break at the very end (Subprocess reads lines: it cannot tell whether there was one).
std::string Curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"-sS", "--max-time", "20"});
  absl::StatusOr<Subprocess> curl = Subprocess::Start(kCurl, args, {});
  EXPECT_TRUE(curl.ok()) << curl.status();
  if (!curl.ok()) return "";
  std::string output = curl->ReadToEnd();
  absl::StatusOr<Subprocess::Exit> exit = curl->Wait();
  EXPECT_TRUE(exit.ok() && exit->exited_ok()) << "curl: " << output;
  if (absl::EndsWith(output, "\n")) output.pop_back();
  return output;
}

void Send(int fd, const std::string& data) {
  ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

// Reads until `data` ends with `suffix` (true), or the connection ends or fails (false).
bool ReadUntil(int fd, const std::string& suffix, std::string* data) {
  char buffer[4096];
  while (!absl::EndsWith(*data, suffix)) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) return false;
    data->append(buffer, n);
  }
  return true;
}

// Everything until the server closes the connection; "ERROR" if a read fails (or times out).
std::string ReadToEnd(int fd) {
  std::string all;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) all.append(buffer, n);
  ::close(fd);
  return n == 0 ? all : "ERROR";
}

// The status lines of a run of responses, in order (a body need not end with a line break).
std::vector<std::string> StatusLines(const std::string& responses) {
  std::vector<std::string> lines;
  for (size_t at = 0; (at = responses.find("HTTP/1.1 ", at)) != std::string::npos;) {
    const size_t end = responses.find("\r\n", at);
    lines.push_back(responses.substr(at, end - at));
    at = end;
  }
  return lines;
}

std::string Request(const std::string& path, const std::string& extra_headers = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", extra_headers, "\r\n");
}

TEST(HttpServer, PlaintextJsonAndNotFound) {
  Server server;
  const std::string plaintext = Curl({"-i", server.Url("/plaintext")});
  EXPECT_TRUE(absl::StartsWith(plaintext, "HTTP/1.1 200 OK\r\n")) << plaintext;
  EXPECT_TRUE(absl::StrContains(plaintext, "\r\nContent-Type: text/plain\r\n")) << plaintext;
  EXPECT_TRUE(absl::StrContains(plaintext, "\r\nContent-Length: 13\r\n")) << plaintext;
  EXPECT_TRUE(absl::StrContains(plaintext, "\r\nServer: coral\r\n")) << plaintext;
  EXPECT_TRUE(absl::StrContains(plaintext, " GMT\r\n")) << plaintext;  // The Date line.
  EXPECT_TRUE(absl::EndsWith(plaintext, "\r\n\r\nHello, World!")) << plaintext;

  EXPECT_EQ(Curl({server.Url("/json")}), R"({"message":"Hello, World!"})");
  EXPECT_EQ(Curl({"-w", "%{content_type}", "-o", "/dev/null", server.Url("/json")}),
            "application/json");
  // The query string is not part of the path.
  EXPECT_EQ(Curl({server.Url("/plaintext?x=1")}), "Hello, World!");

  EXPECT_EQ(Curl({"-w", "%{http_code}", "-o", "/dev/null", server.Url("/no-such-path")}), "404");
  EXPECT_EQ(Curl({"-w", "%{http_code}", "-o", "/dev/null", server.Url("/")}), "404");
  EXPECT_EQ(Curl({"-w", "%{http_code}", "-o", "/dev/null", "-X", "POST", "-d", "x=1",
                  server.Url("/plaintext")}),
            "404");
  // HEAD: the headers of GET, no body (the next response follows the blank line at once).
  const std::string head = Curl({"-I", server.Url("/json")});
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, "\r\nContent-Length: 27\r\n")) << head;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, "HEAD /json HTTP/1.1\r\n\r\n" + Request("/plaintext", "Connection: close\r\n"));
  const std::string responses = ReadToEnd(fd);
  EXPECT_TRUE(absl::StrContains(responses, " GMT\r\n\r\nHTTP/1.1 200 OK\r\n")) << responses;
  EXPECT_FALSE(absl::StrContains(responses, "message")) << responses;
}

TEST(HttpServer, KeepAliveReusesTheConnection) {
  Server server;
  // One curl, three transfers: one connection made, then reused twice.
  EXPECT_EQ(Curl({"-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w",
                  "%{http_code} %{num_connects}\n", server.Url("/plaintext"), server.Url("/json"),
                  server.Url("/missing")}),
            "200 1\n200 0\n404 0");
}

TEST(HttpServer, ConnectionCloseAndHttp10) {
  Server server;
  const std::string close = Curl({"-i", "-H", "Connection: close", server.Url("/plaintext")});
  EXPECT_TRUE(absl::StrContains(close, "\r\nConnection: close\r\n")) << close;
  // HTTP/1.0 closes by default; with keep-alive asked for, the response says it stays open.
  const std::string http10 = Curl({"-i", "--http1.0", server.Url("/json")});
  EXPECT_TRUE(absl::StrContains(http10, "\r\nConnection: close\r\n")) << http10;
  const std::string kept =
      Curl({"-i", "--http1.0", "-H", "Connection: keep-alive", server.Url("/json")});
  EXPECT_TRUE(absl::StrContains(kept, "\r\nConnection: keep-alive\r\n")) << kept;
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  // wrk's pipelined workload: 16 requests in one write, here twice over, then three different
  // ones, the last of which closes the connection.
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += Request("/plaintext");
  Send(fd, sixteen);
  Send(fd, sixteen);
  Send(fd, Request("/json") + Request("/no-such-path") +
               Request("/plaintext", "Connection: close\r\n"));
  const std::string responses = ReadToEnd(fd);
  const std::vector<std::string> statuses = StatusLines(responses);
  ASSERT_EQ(statuses.size(), 35u) << responses;
  for (int i = 0; i < 32; ++i) EXPECT_EQ(statuses[i], "HTTP/1.1 200 OK");
  EXPECT_EQ(statuses[32], "HTTP/1.1 200 OK");
  EXPECT_EQ(statuses[33], "HTTP/1.1 404 Not Found");
  EXPECT_EQ(statuses[34], "HTTP/1.1 200 OK");
  EXPECT_LT(responses.find(R"({"message":"Hello, World!"})"), responses.find("HTTP/1.1 404"));
  EXPECT_TRUE(absl::EndsWith(responses, "\r\n\r\nHello, World!")) << responses;
}

// Bodies (Content-Length and chunked) inside a pipelined batch are read past, not taken for
// requests.
TEST(HttpServer, PipelinedRequestsWithBodies) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, "POST /plaintext HTTP/1.1\r\nContent-Length: 26\r\n\r\nGET /json HTTP/1.1\r\n\r\nxxxx" +
               Request("/json") +
               "POST /json HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nGET /\r\n0\r\n\r\n" +
               Request("/plaintext", "Connection: close\r\n"));
  EXPECT_EQ(StatusLines(ReadToEnd(fd)),
            (std::vector<std::string>{"HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK",
                                      "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"}));
}

// "Expect: 100-continue" with a body: "100 Continue" as soon as the headers are in (the client
// sends the body only then), then the response; without a body, no 100.
TEST(HttpServer, ExpectContinueGets100BeforeTheBody) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, "POST /json HTTP/1.1\r\nContent-Length: 5\r\nEXPECT: 100-Continue\r\n\r\n");
  std::string interim;
  ASSERT_TRUE(ReadUntil(fd, "\r\n\r\n", &interim)) << interim;
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  Send(fd, "hello" + Request("/plaintext", "Expect: 100-continue\r\nConnection: close\r\n"));
  EXPECT_EQ(StatusLines(ReadToEnd(fd)),
            (std::vector<std::string>{"HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"}));
}

// A client that half-closes after its requests still gets every response.
TEST(HttpServer, HalfClosedClientGetsItsResponses) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, Request("/plaintext") + Request("/json") + Request("/plaintext"));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(StatusLines(ReadToEnd(fd)),
            (std::vector<std::string>{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"}));
}

// The header limit counts the URL, the names and the values: exactly at it passes, one more byte
// does not, also when the request arrives in pieces.
TEST(HttpServer, HeadersExactlyAtTheLimit) {
  Server server({"--max_header_bytes=100"});
  const auto status_of = [&](size_t value_bytes) {
    const int fd = ConnectLoopback(server.port());
    EXPECT_GE(fd, 0) << std::strerror(errno);
    // "/plaintext" (10) + "X" (1) + the value.
    const std::string request =
        absl::StrCat("GET /plaintext HTTP/1.1\r\nX: ", std::string(value_bytes, 'v'), "\r\n\r\n");
    for (size_t at = 0; at < request.size(); at += 3) Send(fd, request.substr(at, 3));
    ::shutdown(fd, SHUT_WR);
    const std::vector<std::string> statuses = StatusLines(ReadToEnd(fd));
    return statuses.empty() ? std::string("none") : statuses[0];
  };
  EXPECT_EQ(status_of(89), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_of(90), "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST(HttpServer, RequestSplitAcrossWritesIsAnswered) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const std::string request = Request("/json", "Connection: close\r\n");
  for (size_t at = 0; at < request.size(); at += 7) Send(fd, request.substr(at, 7));
  const std::string response = ReadToEnd(fd);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::EndsWith(response, R"({"message":"Hello, World!"})")) << response;
}

TEST(HttpServer, MalformedRequestGets400AndTheConnectionCloses) {
  Server server;
  for (const std::string& bad :
       {std::string("GET /plaintext HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"),
        std::string("HELLO\r\n\r\n"), std::string("GET /plaintext HTTP/9.Z\r\n\r\n"),
        std::string("GET /plaintext HTTP/1.1\r\nContent-Length: x\r\n\r\n")}) {
    const int fd = ConnectLoopback(server.port());
    ASSERT_GE(fd, 0) << std::strerror(errno);
    Send(fd, bad);
    const std::string response = ReadToEnd(fd);
    EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 400 Bad Request\r\n")) << bad << response;
    EXPECT_TRUE(absl::StrContains(response, "\r\nConnection: close\r\n")) << response;
  }
  // After good requests of the same write, which are answered first.
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, Request("/plaintext") + Request("/json") + "GARBAGE\r\n\r\n" + Request("/plaintext"));
  EXPECT_EQ(
      StatusLines(ReadToEnd(fd)),
      (std::vector<std::string>{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"}));
}

TEST(HttpServer, OversizedHeadersGet431) {
  Server server({"--max_header_bytes=4096", "--max_headers=32"});
  const auto status = [&](const std::vector<std::string>& headers) {
    std::vector<std::string> args = {"-w", "%{http_code}", "-o", "/dev/null"};
    for (const std::string& header : headers) args.insert(args.end(), {"-H", header});
    args.push_back(server.Url("/plaintext"));
    return Curl(args);
  };
  EXPECT_EQ(status({"X-Big: " + std::string(4000, 'a')}), "200");
  EXPECT_EQ(status({"X-Big: " + std::string(5000, 'a')}), "431");
  std::vector<std::string> many;
  for (int i = 0; i < 28; ++i) many.push_back(absl::StrCat("X-H", i, ": v"));
  EXPECT_EQ(status(many), "200");  // curl adds Host, User-Agent and Accept.
  for (int i = 28; i < 40; ++i) many.push_back(absl::StrCat("X-H", i, ": v"));
  EXPECT_EQ(status(many), "431");
  // A long URL counts too, and the connection closes.
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, Request("/" + std::string(5000, 'u')));
  const std::string response = ReadToEnd(fd);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
      << response;
}

TEST(HttpServer, IdleConnectionsAreClosed) {
  Server server({"--idle_timeout=200ms"});
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string response;
  Send(fd, Request("/plaintext"));
  ASSERT_TRUE(ReadUntil(fd, "Hello, World!", &response)) << response;
  // Then nothing more: the server closes the connection (a read would fail after 20 s).
  EXPECT_EQ(ReadToEnd(fd), "");
  // A connection that never sends anything is closed too.
  EXPECT_EQ(ReadToEnd(ConnectLoopback(server.port())), "");
}

// Slowloris: a request that never completes, one byte at a time, each well within the idle
// timeout. The timeout bounds the whole request, not each read, so the connection is closed.
TEST(HttpServer, RequestsTrickledByteByByteAreClosedAtTheIdleTimeout) {
  Server server({"--idle_timeout=300ms"});
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, "GET /plaintext HTTP/1.1\r\n");
  bool closed = false;
  // 8 s of trickling (up to 80 bytes of a header that never ends), if the server allowed it.
  for (int i = 0; i < 80 && !closed; ++i) {
    if (::send(fd, "X", 1, MSG_NOSIGNAL) != 1) break;
    pollfd poll_fd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&poll_fd, 1, /*timeout_ms=*/100) == 1) {
      char byte;
      closed = ::read(fd, &byte, 1) <= 0;
    }
  }
  EXPECT_TRUE(closed) << "a request trickled in for 8 s with a 300 ms idle timeout";
  ::close(fd);
}

TEST(HttpServer, ClientsThatReadNoResponsesAreClosed) {
  Server server({"--idle_timeout=200ms"});
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};  // A send that blocks this long fails.
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  // Requests, never reading a response: the responses fill the socket buffers, the server's write
  // stalls, it stops reading, then this client's writes block until the server gives up on it.
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += Request("/plaintext");
  int error = 0;
  for (size_t sent = 0; sent < (size_t{1} << 30) && error == 0;) {
    const ssize_t n = ::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL);
    if (n < 0)
      error = errno;
    else
      sent += n;
  }
  EXPECT_TRUE(error == ECONNRESET || error == EPIPE) << std::strerror(error);
  ::close(fd);
}

TEST(HttpServer, SigtermClosesOpenConnectionsAndExitsZero) {
  // A drain deadline past the test's own: the idle connections are closed by the drain itself.
  Server server({"--drain_timeout=10m"});
  // Two connections, each idle after a request.
  std::vector<int> clients;
  for (int i = 0; i < 2; ++i) {
    clients.push_back(ConnectLoopback(server.port()));
    ASSERT_GE(clients.back(), 0) << std::strerror(errno);
    std::string response;
    Send(clients.back(), Request("/plaintext"));
    ASSERT_TRUE(ReadUntil(clients.back(), "Hello, World!", &response)) << response;
  }

  ASSERT_EQ(::kill(server.process().pid(), SIGTERM), 0);
  // Both are closed without another byte, and the server exits.
  EXPECT_EQ(ReadToEnd(clients[0]), "");
  EXPECT_EQ(ReadToEnd(clients[1]), "");
  const std::string log = server.process().ReadToEnd();
  absl::StatusOr<Subprocess::Exit> exit = server.process().Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited_ok()) << exit->Describe() << "\n" << log;
  EXPECT_TRUE(absl::StrContains(log, "received SIGTERM: draining 2 connections")) << log;
  EXPECT_TRUE(absl::StrContains(log, "shutdown: 2 connections served, 2 requests answered")) << log;
  EXPECT_EQ(ConnectLoopback(server.port()), -1);  // Nothing listens any more.
}

// A self-signed certificate for 127.0.0.1 and its key, made for this test: {cert, key} paths.
std::pair<std::string, std::string> MakeCertificate() {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string base =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/http_server_test_", ::getpid());
  std::pair<std::string, std::string> files = {base + "_cert.pem", base + "_key.pem"};
  absl::StatusOr<Subprocess> openssl = Subprocess::Start(
      kOpenssl,
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", files.second, "-out", files.first, "-days", "1", "-subj", "/CN=127.0.0.1",
       "-addext", "subjectAltName=IP:127.0.0.1"},
      {});
  EXPECT_TRUE(openssl.ok()) << openssl.status();
  if (openssl.ok()) {
    const std::string output = openssl->ReadToEnd();
    absl::StatusOr<Subprocess::Exit> exit = openssl->Wait();
    EXPECT_TRUE(exit.ok() && exit->exited_ok()) << output;
  }
  return files;
}

TEST(HttpServer, HttpsWithTheServersCertificate) {
  const auto [cert, key] = MakeCertificate();
  Server server({"--tls", cert, key});
  const std::string url = absl::StrCat("https://127.0.0.1:", server.port());
  // curl verifies the certificate against the one it is given as its authority.
  EXPECT_EQ(Curl({"--cacert", cert, url + "/json"}), R"({"message":"Hello, World!"})");
  const std::string plaintext = Curl({"--cacert", cert, "-i", url + "/plaintext"});
  EXPECT_TRUE(absl::StartsWith(plaintext, "HTTP/1.1 200 OK\r\n")) << plaintext;
  EXPECT_TRUE(absl::EndsWith(plaintext, "\r\n\r\nHello, World!")) << plaintext;
  // Keep-alive over one TLS session.
  EXPECT_EQ(
      Curl({"--cacert", cert, "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w",
            "%{http_code} %{num_connects}\n", url + "/plaintext", url + "/json", url + "/missing"}),
      "200 1\n200 0\n404 0");
  // A client that does not speak TLS gets no HTTP, and the server goes on serving.
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Send(fd, Request("/plaintext"));
  EXPECT_FALSE(absl::StrContains(ReadToEnd(fd), "HTTP/1.1")) << "plain HTTP answered on --tls";
  EXPECT_EQ(Curl({"--cacert", cert, "-H", "Connection: close", url + "/plaintext"}),
            "Hello, World!");
  ::unlink(cert.c_str());
  ::unlink(key.c_str());
}

}  // namespace
}  // namespace coral::examples
