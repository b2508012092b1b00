// Copyright 2026 The coral Authors.
//
// Certificates for TLS tests, made at run time with OpenSSL (P-256 keys, SHA-256 signatures): a
// self-signed authority, and leaf certificates it issues for given names and validity.

#ifndef CORAL_TESTS_TLS_TEST_CERTIFICATES_H_
#define CORAL_TESTS_TLS_TEST_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace coral::testing {

struct PemCertificate {
  std::string certificate;  // PEM.
  std::string private_key;  // PEM, unencrypted.
};

struct LeafOptions {
  // subjectAltName entries: "DNS:localhost", "IP:127.0.0.1".
  std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1"};
  // Validity, relative to now.
  absl::Duration not_before = -absl::Hours(1);
  absl::Duration not_after = absl::Hours(24);
};

class TestAuthority {
 public:
  // A new authority named `common_name`. Aborts if OpenSSL fails (a broken test environment).
  explicit TestAuthority(const std::string& common_name);

  const PemCertificate& pem() const { return self_; }
  // A leaf certificate for a server named by `options`, signed by this authority.
  PemCertificate Issue(const LeafOptions& options) const;

 private:
  PemCertificate self_;
};

}  // namespace coral::testing

#endif  // CORAL_TESTS_TLS_TEST_CERTIFICATES_H_
