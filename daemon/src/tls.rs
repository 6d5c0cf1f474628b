//! Automatic TLS (`tls.mode = "acme"`): certificates for the configured hostname from an
//! ACME directory (Let's Encrypt), answered with TLS-ALPN-01 on the same port, cached in
//! `<data_dir>/acme` so restarts do not ask again. With `tls.mode = "off"` (the default)
//! pdsd speaks plain HTTP and a reverse proxy terminates TLS.

use crate::config::Config;
use futures::StreamExt;
use rustls_acme::AcmeConfig;
use rustls_acme::caches::DirCache;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// A listener whose connections are TLS streams with ACME-managed certificates.
pub struct AcmeListener<S> {
    incoming: S,
    addr: SocketAddr,
}

impl<S> std::fmt::Debug for AcmeListener<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AcmeListener({})", self.addr)
    }
}

/// Wrap a bound TCP listener with ACME-managed TLS for `config.hostname`.
pub fn acme_listener(
    config: &Config,
    tcp: TcpListener,
) -> std::io::Result<
    AcmeListener<
        impl futures::Stream<
            Item = Result<
                impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
                impl std::fmt::Debug + Send,
            >,
        > + Unpin
        + Send
        + 'static,
    >,
> {
    let addr = tcp.local_addr()?;
    let cache = config.data_dir.join("acme");
    let mut acme = AcmeConfig::new([config.hostname.clone()])
        .cache(DirCache::new(cache))
        .directory_lets_encrypt(!config.tls.acme_staging);
    if let Some(email) = &config.tls.acme_email {
        acme = acme.contact_push(format!("mailto:{email}"));
    }
    // No Nagle on TLS connections either (see server.rs).
    let tcp = TcpListenerStream::new(tcp).map(|conn| {
        conn.inspect(|c| {
            if let Err(e) = c.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        })
    });
    let incoming = acme.tokio_incoming(tcp, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    Ok(AcmeListener { incoming, addr })
}

impl<S, Io, E> axum::serve::Listener for AcmeListener<S>
where
    S: futures::Stream<Item = Result<Io, E>> + Unpin + Send + 'static,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    E: std::fmt::Debug + Send,
{
    type Io = Io;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.incoming.next().await {
                Some(Ok(io)) => return (io, self.addr),
                Some(Err(e)) => tracing::warn!(error = ?e, "TLS connection failed"),
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
