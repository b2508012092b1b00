// Copyright 2026 The coral Authors.

#include "tests/tls_test_certificates.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_join.h"

namespace coral::testing {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tls_test_certificates: %s failed\n", what);
    std::abort();
  }
}

struct Free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* certificate) const { X509_free(certificate); }
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertificatePtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

KeyPtr NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  Require(key != nullptr, "EVP_EC_gen");
  return key;
}

KeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Require(key != nullptr, "PEM_read_bio_PrivateKey");
  return key;
}

CertificatePtr ParseCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertificatePtr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  Require(certificate != nullptr, "PEM_read_bio_X509");
  return certificate;
}

void AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  Require(extension != nullptr, "X509V3_EXT_conf_nid");
  Require(X509_add_ext(certificate, extension, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(extension);
}

std::string ToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Require(PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Require(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

// A certificate for `key` named `common_name`, valid over [now + not_before, now + not_after];
// `issuer` null for a self-signed one.
CertificatePtr NewCertificate(EVP_PKEY* key, const std::string& common_name,
                              absl::Duration not_before, absl::Duration not_after) {
  CertificatePtr certificate(X509_new());
  Require(certificate != nullptr, "X509_new");
  Require(X509_set_version(certificate.get(), X509_VERSION_3) == 1, "X509_set_version");
  unsigned char serial[16];
  Require(RAND_bytes(serial, sizeof(serial)) == 1, "RAND_bytes");
  serial[0] &= 0x7f;  // Positive.
  BIGNUM* number = BN_bin2bn(serial, sizeof(serial), nullptr);
  Require(number != nullptr &&
              BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate.get())) != nullptr,
          "serial number");
  BN_free(number);
  Require(X509_gmtime_adj(X509_getm_notBefore(certificate.get()),
                          absl::ToInt64Seconds(not_before)) != nullptr,
          "notBefore");
  Require(X509_gmtime_adj(X509_getm_notAfter(certificate.get()), absl::ToInt64Seconds(not_after)) !=
              nullptr,
          "notAfter");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  Require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                     -1, -1, 0) == 1,
          "X509_NAME_add_entry_by_txt");
  Require(X509_set_pubkey(certificate.get(), key) == 1, "X509_set_pubkey");
  return certificate;
}

}  // namespace

TestAuthority::TestAuthority(const std::string& common_name) {
  KeyPtr key = NewKey();
  CertificatePtr certificate =
      NewCertificate(key.get(), common_name, -absl::Hours(1), absl::Hours(24 * 30));
  X509* self = certificate.get();
  Require(X509_set_issuer_name(self, X509_get_subject_name(self)) == 1, "X509_set_issuer_name");
  AddExtension(self, self, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(self, self, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(self, self, NID_subject_key_identifier, "hash");
  Require(X509_sign(self, key.get(), EVP_sha256()) > 0, "X509_sign");
  self_ = {ToPem(self), ToPem(key.get())};
}

PemCertificate TestAuthority::Issue(const LeafOptions& options) const {
  CertificatePtr issuer = ParseCertificate(self_.certificate);
  KeyPtr issuer_key = ParseKey(self_.private_key);
  KeyPtr key = NewKey();
  CertificatePtr certificate =
      NewCertificate(key.get(), "coral test server", options.not_before, options.not_after);
  X509* leaf = certificate.get();
  Require(X509_set_issuer_name(leaf, X509_get_subject_name(issuer.get())) == 1,
          "X509_set_issuer_name");
  AddExtension(leaf, issuer.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(leaf, issuer.get(), NID_key_usage, "critical,digitalSignature");
  AddExtension(leaf, issuer.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(leaf, issuer.get(), NID_authority_key_identifier, "keyid");
  if (!options.names.empty()) {
    AddExtension(leaf, issuer.get(), NID_subject_alt_name, absl::StrJoin(options.names, ","));
  }
  Require(X509_sign(leaf, issuer_key.get(), EVP_sha256()) > 0, "X509_sign");
  return {ToPem(leaf), ToPem(key.get())};
}

}  // namespace coral::testing
