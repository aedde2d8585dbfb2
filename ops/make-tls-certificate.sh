#!/usr/bin/env bash
# A self-signed certificate and key for trying the gateway's TLS port:
#   ops/make-tls-certificate.sh [FOLDER] [HOST]   (defaults: data/tls, localhost)
# Prints the settings to put in chatd.toml. Clients must be given the certificate to trust it
# (`openssl s_client -CAfile FOLDER/certificate.pem`, say); for real use, a certificate from a CA.
set -euo pipefail
folder=${1:-data/tls}
host=${2:-localhost}
umask 077
mkdir -p "$folder"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=$host" -addext "subjectAltName=DNS:$host,IP:127.0.0.1" \
    -keyout "$folder/private-key.pem" -out "$folder/certificate.pem" 2>/dev/null
echo "gateway.tls_certificate = \"$(cd "$folder" && pwd)/certificate.pem\""
echo "gateway.tls_private_key = \"$(cd "$folder" && pwd)/private-key.pem\""
