//! Start-up and shutdown: bind the listeners (XRPC, the built-in PLC directory in `--dev`,
//! the admin socket), build the shared context, serve until SIGTERM/SIGINT, then close
//! the database cleanly. Prints where it listens once it is ready.

use crate::config::{Config, PUBLIC_PLC};
use crate::context::AppContext;
use anyhow::Context;
use tokio::net::TcpListener;

/// Print a status line; a closed stdout (a supervisor that stopped reading) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Run pdsd until a shutdown signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let mut config = config;
    // With port 0 the kernel picks; everything derived from the port must use the real one.
    config.listen = addr;

    let (plc_url, plc_task) = if config.builtin_plc() {
        let plc_listener = TcpListener::bind(config.plc.builtin_listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} for the built-in PLC directory",
                    config.plc.builtin_listen
                )
            })?;
        let port = plc_listener.local_addr()?.port();
        (format!("http://localhost:{port}"), Some(plc_listener))
    } else {
        (
            config
                .plc
                .url
                .clone()
                .unwrap_or_else(|| PUBLIC_PLC.to_string()),
            None,
        )
    };

    // The admin socket is bound before anything slow happens, so a second pdsd on the
    // same socket fails at once instead of after opening the database.
    let admin_socket = crate::admin::AdminSocket::bind(&config.socket_path())?;

    let state = AppContext::build(config, &plc_url)
        .await
        .context("cannot start")?;
    state
        .firehose
        .load()
        .await
        .context("cannot read the firehose sequence")?;

    // Events older than the backfill window go before anyone can ask for them (after a
    // long downtime, or a smaller window); later pruning runs in the background.
    if let Err(e) = state.firehose.prune().await {
        tracing::warn!(error = %e, "cannot prune the firehose");
    }

    let shutdown = state.shutdown.clone();
    let mut tasks = tokio::task::JoinSet::new();

    if let Some(l) = plc_task {
        let app = crate::plc::directory::router(state.db.clone());
        let token = shutdown.clone();
        tasks.spawn(async move {
            let _ = axum::serve(l, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
    }

    // The firehose's background work: the backfill window, and telling relays we exist.
    tasks.spawn(
        state
            .firehose
            .clone()
            .run_pruner(crate::firehose::PRUNE_EVERY, shutdown.clone()),
    );
    if !state.config.firehose.relays.is_empty() {
        let crawler = crate::firehose::crawl::Crawler {
            relays: state.config.firehose.relays.clone(),
            // The host (and port, if any) of our public URL: what a relay must crawl.
            hostname: crate::firehose::crawl::host_of(&state.public_url),
            http: state.http.clone(),
            db: state.db.clone(),
            backoff: Default::default(),
        };
        tasks.spawn(crawler.run(state.firehose.first_write(), shutdown.clone()));
    }
    let admin_path = admin_socket.path().to_path_buf();
    tasks.spawn(admin_socket.serve(state.clone(), shutdown.clone()));
    tasks.spawn(maintenance(state.clone()));

    let app = crate::xrpc::router(state.clone());
    let scheme = if state.config.tls.mode == "acme" {
        let tls = crate::tls::acme_listener(&state.config, listener)?;
        let token = shutdown.clone();
        tasks.spawn(async move {
            // The ACME stream hides the TCP peer, so no ConnectInfo here (nothing in the
            // XRPC router needs the peer address).
            if let Err(e) = axum::serve(tls, app.into_make_service())
                .with_graceful_shutdown(token.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "HTTPS server failed");
            }
        });
        "https"
    } else {
        let token = shutdown.clone();
        tasks.spawn(async move {
            // No Nagle: small writes (an XRPC answer, a firehose batch) leave at once
            // instead of waiting up to a delayed-ACK timeout for the previous segment.
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
            });
            if let Err(e) = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(token.cancelled_owned())
            .await
            {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
        "http"
    };

    say!(
        "pdsd {} listening on {scheme}://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    if state.config.builtin_plc() {
        say!("built-in PLC directory (dev) at {plc_url}");
    } else {
        say!("PLC directory: {plc_url}");
    }
    say!("data folder: {}", state.config.data_dir.display());
    say!("admin socket: {}", admin_path.display());
    use std::io::Write;
    let _ = std::io::stdout().flush();

    wait_for_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(std::time::Duration::from_secs(10), drain)
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within 10 s");
    }
    // Firehose subscribers were told "going away"; let those frames leave.
    let grace = crate::firehose::hub::ERROR_GRACE + std::time::Duration::from_secs(1);
    if !state.firehose.all_closed(grace).await {
        tracing::warn!("some firehose subscribers did not close in time");
    }
    state.db.close();
    say!("pdsd stopped");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Housekeeping while the server runs: expired refresh tokens are dropped hourly.
pub async fn maintenance(state: crate::context::AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.shutdown.cancelled() => return,
        }
        let now = crate::store::now();
        let res = state
            .db
            .write(move |tx| crate::store::sessions::purge_expired(tx.conn(), &now))
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "could not purge expired sessions");
        }
    }
}
