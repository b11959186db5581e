#!/bin/sh
# Rebuilds the key files that client/src/cli/keys/format/tests.rs reads: keys and a certificate
# made by OpenSSL (3.x), so the parser is checked against another implementation's output.
# The files hold no key anyone uses. Run from this folder: sh make.sh
set -eu
rm -f ./*.pem
openssl genpkey -algorithm ed25519 -out openssl-ed25519.pem
openssl pkey -in openssl-ed25519.pem -pubout -out openssl-ed25519.pub.pem
# PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC: what OpenSSL writes by default.
openssl pkcs8 -topk8 -v2 aes-256-cbc -in openssl-ed25519.pem -passout pass:'correct horse' -out openssl-ed25519-encrypted.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.pem
openssl pkey -in rsa.pem -pubout -out rsa.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
openssl ecparam -name prime256v1 -genkey -out ec-sec1.pem
openssl genpkey -algorithm X25519 -out x25519.pem
openssl req -x509 -new -key openssl-ed25519.pem -subj /CN=ebl-test -days 1 -out cert.pem
