//! The binaries as a user runs them: start, readiness, clean stop on SIGTERM,
//! one clear line when PostgreSQL is missing, production refusals, the demo.

mod resilience;
mod secrets;
mod startup;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use onegrid_tests::TestDb;

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built (cargo build --workspace)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(name: &str, db: &TestDb) -> Command {
    let mut cmd = Command::new(binary(name));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("REDIS_PREFIX", format!("onegrid-test:{}", db.name))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

async fn wait_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(url).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

fn terminate_and_wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop within 40 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
