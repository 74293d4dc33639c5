//! TLS client configuration: the system's roots plus the app's extra CA certificates, rustls
//! with the ring provider.

use std::sync::Arc;

use rustls::ClientConfig;

use crate::error::{Error, ErrorCode, Result};

pub fn client_config(extra_ca_pem: &[u8]) -> Result<Arc<ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if !extra_ca_pem.is_empty() {
        let mut reader = std::io::BufReader::new(extra_ca_pem);
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert = cert.map_err(|e| {
                Error::invalid(format!("extra CA certificate is not valid PEM: {e}"))
            })?;
            roots
                .add(cert)
                .map_err(|e| Error::invalid(format!("extra CA certificate rejected: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::invalid("extra CA data holds no PEM certificate"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorCode::Tls, format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
