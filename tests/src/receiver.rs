//! A webhook receiver for tests: records every request (path, Standard
//! Webhooks headers, body) and answers from a script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

/// An answer: status, Retry-After, Location.
pub type Answer = (u16, Option<&'static str>, Option<String>);

/// Scripted answers per path; 204 when none is left.
#[derive(Default)]
struct Script {
    answers: std::collections::HashMap<String, VecDeque<Answer>>,
    got: Vec<Received>,
    /// How long every answer takes (a slow receiver).
    delay: std::time::Duration,
}

#[derive(Clone)]
pub struct Receiver {
    script: Arc<Mutex<Script>>,
    /// `http://127.0.0.2:<port>`.
    pub base: String,
}

impl Receiver {
    /// Listens on 127.0.0.2 (a loopback address tests open with
    /// `ONEGRID_WEBHOOK_ALLOW_CIDRS=127.0.0.2/32`).
    pub fn start() -> Receiver {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let shared = shared.clone();
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let (next, delay) = {
                        let mut s = shared.lock().unwrap();
                        s.got.push(Received {
                            path: req.path().to_owned(),
                            id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        let next = s.answers.get_mut(req.path()).and_then(VecDeque::pop_front);
                        (next, s.delay)
                    };
                    tokio::time::sleep(delay).await;
                    let (status, retry_after, location) = next.unwrap_or((204, None, None));
                    let mut reply =
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                    if let Some(r) = retry_after {
                        reply.insert_header(("retry-after", r));
                    }
                    if let Some(l) = location {
                        reply.insert_header(("location", l));
                    }
                    reply.body(format!("answer {status}"))
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { script, base }
    }

    /// Answers the next requests to `path` with these, then 204.
    pub fn answer(&self, path: &str, answers: Vec<Answer>) {
        self.script
            .lock()
            .unwrap()
            .answers
            .insert(path.to_owned(), answers.into());
    }

    /// Makes every answer take `delay` from now on.
    pub fn delay(&self, delay: std::time::Duration) {
        self.script.lock().unwrap().delay = delay;
    }

    /// What `path` received, in order.
    pub fn got(&self, path: &str) -> Vec<Received> {
        self.script
            .lock()
            .unwrap()
            .got
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}
