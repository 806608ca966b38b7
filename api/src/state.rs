//! Shared state of the API and the one way handlers reach the database: a
//! transaction scoped to the authenticated caller.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::header;
use futures_util::future::BoxFuture;
use metrics_exporter_prometheus::PrometheusHandle;
use onegrid_config::Config;
use onegrid_domain::clock::Clock;
use onegrid_domain::permissions::{Action, Target};
use onegrid_store::idempotency::{self, Claim, Stored};
use onegrid_store::targets::{self, Guarded, On, Place};
use onegrid_store::{Conn, Db, Principal, StoreError};

use crate::cache::Cache;
use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::platform::auth::jwt::TokenKeys;
use crate::platform::auth::throttle::LoginThrottle;

/// Everything a handler may use.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub cache: Cache,
    pub tokens: TokenKeys,
    pub clock: Arc<dyn Clock>,
    pub throttle: Arc<LoginThrottle>,
    /// Reveals of sensitive values per user and hour.
    pub reveals: Arc<crate::platform::auth::throttle::RevealQuota>,
    /// Field encryption and blind-index keys.
    pub keys: onegrid_store::crypto::FieldKeys,
    /// Where attachments are stored.
    pub blobs: Arc<dyn onegrid_store::blobs::BlobStore>,
    pub metrics: PrometheusHandle,
}

/// What a create returns: the body, its `Location` and `ETag`, and which of
/// the body's fields are secrets (shown once: never kept for a replay).
#[derive(Debug)]
pub struct Created {
    pub body: serde_json::Value,
    pub location: String,
    pub etag: Option<String>,
    pub secrets: Vec<&'static str>,
}

impl Created {
    pub fn new(
        body: impl serde::Serialize,
        location: String,
        version: Option<i32>,
    ) -> ApiResult<Created> {
        let body =
            serde_json::to_value(body).map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
        Ok(Created {
            body,
            location,
            etag: version.map(crate::http::etag),
            secrets: Vec::new(),
        })
    }

    /// Marks a top-level field of the body as a secret: the first response
    /// carries it, the stored replay does not.
    pub fn with_secret(mut self, field: &'static str) -> Created {
        self.secrets.push(field);
        self
    }

    /// The body as kept for replays: without its secrets.
    fn replayable(&self) -> serde_json::Value {
        let mut body = self.body.clone();
        if let Some(fields) = body.as_object_mut() {
            for s in &self.secrets {
                fields.remove(*s);
            }
        }
        body
    }
}

enum Outcome {
    Fresh(Created),
    Replay(Stored),
}

impl AppState {
    /// Runs `f` in one transaction scoped to the caller, after checking the
    /// caller's session (or API key) and loading today's grants. Only for what
    /// any signed-in caller may do with their own things (their session,
    /// account and notifications); everything else goes through
    /// [`Self::checked`], [`Self::proven`], [`Self::on_row`],
    /// [`Self::load_checked`] or [`Self::create`], which name the action.
    pub async fn as_self<T, F>(&self, caller: Caller, f: F) -> ApiResult<T>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal) -> BoxFuture<'c, ApiResult<T>> + Send,
        T: Send,
    {
        self.run(caller, f).await
    }

    async fn run<T, F>(&self, caller: Caller, f: F) -> ApiResult<T>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal) -> BoxFuture<'c, ApiResult<T>> + Send,
        T: Send,
    {
        self.db.as_principal(caller.0, f).await
    }

    /// Proves `action` on `on` and only then runs `f` with the proven target:
    /// the permission is part of the call, so no body runs unchecked. For
    /// [`onegrid_store::targets::On::Anywhere`] the target is the caller's district, and the body
    /// filters its rows by the caller's area in SQL.
    pub async fn checked<T, F>(
        &self,
        caller: Caller,
        action: Action,
        on: impl Into<Place> + Send + 'static,
        f: F,
    ) -> ApiResult<T>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal, Target) -> BoxFuture<'c, ApiResult<T>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.run(caller, move |c, p| {
            Box::pin(async move {
                let target = prove(c, &p, action, on).await?;
                f(c, p, target).await
            })
        })
        .await
    }

    /// As [`Self::checked`] for a body two kinds of staff may run: proves the
    /// first action on its place or, when that is refused (403), the second
    /// on its own, each in a transaction of its own. When both are refused
    /// the first refusal is the answer.
    pub async fn checked_either<T, F>(
        &self,
        caller: Caller,
        (first, second): ((Action, On), (Action, On)),
        f: F,
    ) -> ApiResult<T>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal, Target) -> BoxFuture<'c, ApiResult<T>>
            + Clone
            + Send
            + 'static,
        T: Send + 'static,
    {
        let again = f.clone();
        match self.checked(caller.clone(), first.0, first.1, f).await {
            Err(refused) if refused.code == Code::Forbidden => {
                match self.checked(caller, second.0, second.1, again).await {
                    Err(e) if e.code == Code::Forbidden => Err(refused),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// Proves `action` on `on`, then awaits the one store call `call`
    /// makes: the door of a plain read (a list, a count, a row by the key the
    /// place proves) or write that needs neither the principal nor the target.
    pub async fn proven<T, L>(
        &self,
        caller: Caller,
        action: Action,
        on: impl Into<Place> + Send + 'static,
        call: L,
    ) -> ApiResult<T>
    where
        L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        self.checked(caller, action, on, move |c, _, _| {
            Box::pin(async move { Ok(call(c).await?) })
        })
        .await
    }

    /// Loads one row in the caller's scope, proves `action` on the row's
    /// target, and only then runs `f` with the row. A row the caller cannot
    /// see is 404 (the tenant wall), one they see but may not act on is 403.
    pub async fn on_row<R, T, L, F>(
        &self,
        caller: Caller,
        action: Action,
        load: L,
        f: F,
    ) -> ApiResult<T>
    where
        R: Guarded + Send + 'static,
        L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn, Principal, R) -> BoxFuture<'c, ApiResult<T>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.guarded_row(caller, action, (None, load), f).await
    }

    /// As [`Self::on_row`], for a row the request body names by `field`: a
    /// row the caller cannot see is the body's bad reference (422 naming
    /// `field`), not 404.
    pub async fn on_named_row<R, T, L, F>(
        &self,
        caller: Caller,
        action: Action,
        (field, load): (&'static str, L),
        f: F,
    ) -> ApiResult<T>
    where
        R: Guarded + Send + 'static,
        L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn, Principal, R) -> BoxFuture<'c, ApiResult<T>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.guarded_row(caller, action, (Some(field), load), f)
            .await
    }

    async fn guarded_row<R, T, L, F>(
        &self,
        caller: Caller,
        action: Action,
        (field, load): (Option<&'static str>, L),
        f: F,
    ) -> ApiResult<T>
    where
        R: Guarded + Send + 'static,
        L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn, Principal, R) -> BoxFuture<'c, ApiResult<T>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.run(caller, move |c, p| {
            Box::pin(async move {
                let row = load(c).await.map_err(|e| unseen(field, e))?;
                let target = row.target(p.district_id);
                if let Some(read) = row.hidden_without()
                    && !p.can(read, &target)
                {
                    return Err(unseen(field, StoreError::NotFound));
                }
                p.require(action, &target)?;
                f(c, p, row).await
            })
        })
        .await
    }

    /// Loads one row and proves `action` on it: a read that cannot forget its check.
    pub async fn load_checked<R, L>(&self, caller: Caller, action: Action, load: L) -> ApiResult<R>
    where
        R: Guarded + Send + 'static,
        L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
    {
        self.on_row(caller, action, load, |_, _, row| {
            Box::pin(async move { Ok(row) })
        })
        .await
    }

    /// Runs a create under an optional `Idempotency-Key`, once `action` is
    /// proven on `on` (before the key is looked at, so a replay is checked
    /// too): the key is claimed in the create's own transaction, and a repeat
    /// returns the stored response. `hash` is [`crate::http::request_hash`]
    /// of everything that defines the request.
    pub async fn create<F>(
        &self,
        caller: Caller,
        (action, on): (Action, impl Into<Place> + Send + 'static),
        (key, hash): (IdempotencyKey, Vec<u8>),
        f: F,
    ) -> ApiResult<HttpResponse>
    where
        F: for<'c> FnOnce(&'c mut Conn, Principal, Target) -> BoxFuture<'c, ApiResult<Created>>
            + Send
            + 'static,
    {
        let clock = self.clock.clone();
        let outcome = self
            .run(caller, move |c, p| {
                Box::pin(async move {
                    let target = prove(c, &p, action, on).await?;
                    let principal_id = p.id();
                    let now = clock.now();
                    if let Some(key) = &key.0
                        && let Claim::Existing(stored) =
                            idempotency::claim(c, principal_id, key, &hash, now).await?
                    {
                        if stored.request_hash != hash {
                            return Err(ApiError::new(
                                Code::IdempotencyKeyReused,
                                "this Idempotency-Key was used with a different request",
                            ));
                        }
                        return Ok(Outcome::Replay(stored));
                    }
                    let created = f(c, p, target).await?;
                    if let Some(key) = &key.0 {
                        let stored = Stored {
                            request_hash: hash.clone(),
                            status: 201,
                            response: created.replayable(),
                            location: Some(created.location.clone()),
                            etag: created.etag.clone(),
                        };
                        idempotency::complete(c, principal_id, key, &stored).await?;
                    }
                    Ok(Outcome::Fresh(created))
                })
            })
            .await?;
        Ok(match outcome {
            Outcome::Fresh(c) => respond(201, &c.body, Some(&c.location), c.etag.as_deref(), false),
            Outcome::Replay(s) => respond(
                s.status,
                &s.response,
                s.location.as_deref(),
                s.etag.as_deref(),
                true,
            ),
        })
    }
}

/// A row the caller cannot see: 404, or the body's bad reference when the
/// body named it by `field`.
fn unseen(field: Option<&'static str>, e: StoreError) -> ApiError {
    match field {
        Some(field) => crate::http::error::reference(field)(e),
        None => e.into(),
    }
}

/// Proves `action` on a place: anywhere in the caller's reach, or on the
/// place's target (which it returns; the caller's district for anywhere).
async fn prove(
    c: &mut Conn,
    p: &Principal,
    action: Action,
    place: impl Into<Place>,
) -> ApiResult<Target> {
    let place = place.into();
    let resolved = targets::resolve(c, p, place.on).await;
    let resolved = match place.field {
        Some(field) => resolved.map_err(crate::http::error::reference(field))?,
        None => resolved?,
    };
    match resolved {
        Some(target) => {
            p.require(action, &target)?;
            Ok(target)
        }
        None => {
            p.require_anywhere(action)?;
            Ok(Target::district(p.district_id))
        }
    }
}

fn respond(
    status: i16,
    body: &serde_json::Value,
    location: Option<&str>,
    etag: Option<&str>,
    replayed: bool,
) -> HttpResponse {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
        .unwrap_or(actix_web::http::StatusCode::CREATED);
    let mut res = HttpResponse::build(status);
    if let Some(l) = location {
        res.insert_header((header::LOCATION, l));
    }
    if let Some(e) = etag {
        res.insert_header((header::ETAG, e));
    }
    if replayed {
        res.insert_header(("idempotency-replayed", "true"));
    }
    res.json(body)
}
