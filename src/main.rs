//! The server binary: configuration, telemetry, then serve. Everything else lives in
//! `speaking_coach::server` so tests can build the same application.

use std::process::ExitCode;

use speaking_coach::server::{config::Config, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("speaking-coach: configuration error: {error}");
            eprintln!("See .env.example for every variable and its meaning.");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    match startup::serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %telemetry::cause_chain(&error), "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}
