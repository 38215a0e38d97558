//! TLS (`tls-port`): the rustls server configuration built from `tls-cert-file`,
//! `tls-key-file`, `tls-ca-cert-file` and `tls-auth-clients`, and [`Stream`], the client socket
//! either plain or TLS, which the per-connection code reads and writes without knowing which.

use crate::config::{Config, TlsAuthClients};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// Why the TLS configuration could not be loaded (a start-up error). The texts follow Redis's
/// log lines ("No tls-cert-file configured!", "Failed to load certificate: PATH: REASON").
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `tls-port` is set without a certificate or key file.
    #[error("Failed to configure TLS: No {0} configured!")]
    Missing(&'static str),
    /// A file could not be read or holds no usable PEM item.
    #[error("Failed to configure TLS: Failed to load {what} ({directive}): {path}: {reason}")]
    Load { what: &'static str, directive: &'static str, path: String, reason: String },
    /// Client certificates are to be verified but no CA was given.
    #[error(
        "Failed to configure TLS: Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"
    )]
    NoCa,
    /// The key does not belong to the certificate.
    #[error("Failed to configure TLS: Failed to load private key (tls-key-file): {key}: it does not match the certificate {cert} ({reason})")]
    KeyMismatch { key: String, cert: String, reason: String },
    /// rustls refused the configuration otherwise.
    #[error("Failed to configure TLS: {0}")]
    Config(String),
}

fn load_error(what: &'static str, directive: &'static str, path: &str, reason: impl ToString) -> TlsError {
    TlsError::Load { what, directive, path: path.to_owned(), reason: reason.to_string() }
}

fn load_certs(
    what: &'static str,
    directive: &'static str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| load_error(what, directive, path, e))?;
    if certs.is_empty() {
        return Err(load_error(what, directive, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// The acceptor for `tls-port`, or None when TLS is off (`tls-port 0`).
pub fn acceptor(cfg: &Config) -> Result<Option<TlsAcceptor>, TlsError> {
    if cfg.tls_port == 0 {
        return Ok(None);
    }
    if cfg.tls_cert_file.is_empty() {
        return Err(TlsError::Missing("tls-cert-file"));
    }
    if cfg.tls_key_file.is_empty() {
        return Err(TlsError::Missing("tls-key-file"));
    }
    let certs = load_certs("certificate", "tls-cert-file", &cfg.tls_cert_file)?;
    let key = PrivateKeyDer::from_pem_file(&cfg.tls_key_file)
        .map_err(|e| load_error("private key", "tls-key-file", &cfg.tls_key_file, e))?;
    // The ring provider explicitly: no process-wide default to install. (Deprecated in rustls
    // 0.23.48 for lacking post-quantum key exchange; aws-lc-rs, which has it, is a large C build.)
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match cfg.tls_auth_clients {
        TlsAuthClients::No => builder.with_no_client_auth(),
        auth => {
            if cfg.tls_ca_cert_file.is_empty() {
                return Err(TlsError::NoCa);
            }
            let path = &cfg.tls_ca_cert_file;
            let mut roots = rustls::RootCertStore::empty();
            for ca in load_certs("CA certificates", "tls-ca-cert-file", path)? {
                roots.add(ca).map_err(|e| load_error("CA certificates", "tls-ca-cert-file", path, e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == TlsAuthClients::Optional { verifier.allow_unauthenticated() } else { verifier };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| TlsError::Config(e.to_string()))?)
        }
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
            key: cfg.tls_key_file.clone(),
            cert: cfg.tls_cert_file.clone(),
            reason: e.to_string(),
        },
        // An unsupported key type or a malformed key.
        e => load_error("private key", "tls-key-file", &cfg.tls_key_file, e),
    })?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// A client connection: plain TCP, or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Stream {
    /// The TCP socket underneath (addresses, TCP options, fd).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }

    /// Writes all of `buf` to the client. TLS also flushes (rustls may hold records until
    /// then); plain TCP writes straight to the socket, with nothing to flush.
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        use tokio::io::AsyncWriteExt;
        match self {
            Stream::Plain(s) => s.write_all(buf).await,
            Stream::Tls(s) => {
                s.write_all(buf).await?;
                s.flush().await
            }
        }
    }

    /// Waits until the client sends something or goes away, while it is blocked (BLPOP ...).
    /// Plain TCP only peeks; TLS must decrypt to tell a close (`close_notify`, Ok(0)) from
    /// data, so what it reads is appended to `stash`, which the connection consumes before
    /// reading again. Returns 0 when the client closed.
    pub async fn watch(&mut self, stash: &mut bytes::BytesMut) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => {
                let mut peek = [0u8; 1];
                s.peek(&mut peek).await
            }
            Stream::Tls(s) => {
                use tokio::io::AsyncReadExt;
                stash.reserve(4096);
                s.read_buf(stash).await
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
