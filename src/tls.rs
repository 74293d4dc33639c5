//! TLS client configuration: the system's roots plus the app's extra CA certificates, rustls
//! with the ring provider.

use std::sync::Arc;

use once_cell::sync::Lazy;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, ErrorCode, Result};

/// The system's roots, read once per process: reading and parsing them costs milliseconds
/// (seconds under valgrind), and every client init needs them.
static SYSTEM_ROOTS: Lazy<RootCertStore> = Lazy::new(|| {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot use is skipped; the others still count.
        let _ = roots.add(cert);
    }
    roots
});

/// The configuration without extra CAs, shared by every client that has none: one root store
/// per process instead of one per client (a root store is a few hundred KiB).
static SYSTEM_ONLY: Lazy<Result<Arc<ClientConfig>>> =
    Lazy::new(|| with_roots(SYSTEM_ROOTS.clone()));

pub fn client_config(extra_ca_pem: &[u8]) -> Result<Arc<ClientConfig>> {
    if extra_ca_pem.is_empty() {
        return SYSTEM_ONLY.clone();
    }
    let mut roots = SYSTEM_ROOTS.clone();
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(extra_ca_pem) {
        let cert = cert
            .map_err(|e| Error::invalid(format!("extra CA certificate is not valid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| Error::invalid(format!("extra CA certificate rejected: {e}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(Error::invalid("extra CA data holds no PEM certificate"));
    }
    with_roots(roots)
}

fn with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorCode::Tls, format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
