#pragma once

// Throwaway certificates made at test time with OpenSSL: a certificate
// authority and the certificates it signs, as PEM text.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace coronet::testing {

/// A key and its certificate, as PEM text.
struct pem_identity {
    std::string key;
    std::string certificate;
};

namespace detail {

struct key_deleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct cert_deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct bio_deleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using cert_ptr = std::unique_ptr<X509, cert_deleter>;

inline void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("making a test certificate: ") + what);
}

template <class Write>
std::string to_pem(Write write) {
    std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
    check(write(bio.get()) == 1, "PEM");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

}  // namespace detail

/// A certificate authority that signs certificates for tests.
class test_authority {
public:
    explicit test_authority(const std::string& name) : key_(EVP_EC_gen("P-256")) {
        detail::check(key_ != nullptr, "key");
        cert_ = make(name, key_.get(), nullptr, "critical,CA:TRUE", nullptr);
        detail::add_extension(cert_.get(), cert_.get(), NID_key_usage,
                              "critical,keyCertSign,cRLSign");
        sign(cert_.get());
    }

    /// This authority's certificate, to trust.
    std::string certificate() const {
        return detail::to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert_.get()); });
    }

    /// A certificate for `name`, valid for the names in `alt_names`
    /// ("DNS:localhost,IP:127.0.0.1"), signed by this authority.
    pem_identity issue(const std::string& name, const std::string& alt_names) {
        detail::key_ptr key(EVP_EC_gen("P-256"));
        detail::check(key != nullptr, "key");
        detail::cert_ptr cert = make(name, key.get(), cert_.get(), "CA:FALSE", alt_names.c_str());
        sign(cert.get());
        return {detail::to_pem([&](BIO* b) {
                    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr,
                                                    nullptr);
                }),
                detail::to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); })};
    }

    /// A certificate for `name` that signs itself (no authority vouches for it).
    static pem_identity self_signed(const std::string& name, const std::string& alt_names) {
        detail::key_ptr key(EVP_EC_gen("P-256"));
        detail::check(key != nullptr, "key");
        detail::cert_ptr cert = make(name, key.get(), nullptr, "CA:FALSE", alt_names.c_str());
        detail::check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign");
        return {detail::to_pem([&](BIO* b) {
                    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr,
                                                    nullptr);
                }),
                detail::to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); })};
    }

private:
    static detail::cert_ptr make(const std::string& name, EVP_PKEY* key, X509* issuer,
                                 const char* constraints, const char* alt_names) {
        static long serial = 1;
        detail::cert_ptr cert(X509_new());
        X509* x = cert.get();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
        X509_set_pubkey(x, key);
        X509_NAME* subject = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject);
        X509* signer = issuer ? issuer : x;
        detail::add_extension(x, signer, NID_basic_constraints, constraints);
        if (alt_names && *alt_names) {
            detail::add_extension(x, signer, NID_subject_alt_name, alt_names);
            detail::add_extension(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
        }
        return cert;
    }

    void sign(X509* cert) { detail::check(X509_sign(cert, key_.get(), EVP_sha256()) > 0, "sign"); }

    detail::key_ptr key_;
    detail::cert_ptr cert_;
};

}  // namespace coronet::testing
