//! The simulator on its own: `realtime-sim` serves the Realtime API at `http://$SIM_ADDR/v1`.
//!
//! - `SIM_ADDR`: where to listen (default `127.0.0.1:8787`).
//! - `REALTIME_SIM_API_KEY`: the standard key allowed to mint (default the development key in
//!   `.env.example`).
//! - `REALTIME_SIM_REPLY_LATENCY_MS`: the coach's thinking time before a reply (default 300).
//! - `REALTIME_SIM_RECOGNIZER`: the speech recognizer's virtual environment (`script/setup` makes
//!   it), or `off`; unset, learner turns get placeholder transcripts.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use realtime_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let addr: SocketAddr = match env("SIM_ADDR")
        .unwrap_or_else(|| "127.0.0.1:8787".into())
        .parse()
    {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("realtime-sim: SIM_ADDR is invalid: {error}");
            return ExitCode::from(2);
        }
    };
    let latency = match env("REALTIME_SIM_REPLY_LATENCY_MS").map(|v| v.parse::<u64>()) {
        None => 300,
        Some(Ok(ms)) => ms,
        Some(Err(error)) => {
            eprintln!("realtime-sim: REALTIME_SIM_REPLY_LATENCY_MS is invalid: {error}");
            return ExitCode::from(2);
        }
    };
    let api_key = env("REALTIME_SIM_API_KEY").unwrap_or_else(|| realtime_sim::DEV_API_KEY.into());
    let simulator = Simulator::new(SimConfig {
        api_key: api_key.into(),
        reply_latency: Duration::from_millis(latency),
        recognizer: realtime_sim::recognizer::configured(env("REALTIME_SIM_RECOGNIZER").as_deref()),
    });
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("realtime-sim: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("realtime simulator at http://{addr}/v1");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, simulator.router())
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("realtime-sim: {error}");
            ExitCode::FAILURE
        }
    }
}
