//! Prometheus metrics: HTTP request counts and latencies by route, and the
//! connection pool's state at scrape time.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder (installed once; later calls reuse it).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn record_request(method: &str, route: &str, status: u16, seconds: f64) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("onegrid_http_requests_total", &labels).increment(1);
    metrics::histogram!("onegrid_http_request_duration_seconds", &labels[..2]).record(seconds);
}

/// Records the pool's size, idle connections and statements sent.
pub fn record_pool(size: usize, available: usize, statements: u64) {
    metrics::counter!("onegrid_db_statements_total").absolute(statements);
    metrics::gauge!("onegrid_db_pool_connections").set(size as f64);
    metrics::gauge!("onegrid_db_pool_idle").set(available as f64);
}

/// Records how many districts lack next year's working calendar (0 before
/// 1 December).
pub fn record_calendar_gaps(districts: usize) {
    metrics::gauge!("onegrid_calendar_next_year_missing_districts").set(districts as f64);
}
