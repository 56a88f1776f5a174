//! The `/client/api` endpoint: parse, authenticate, authorize, bind, dispatch, render.

use std::net::{IpAddr, SocketAddr};

use axum::Extension;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cks_api::commands::{self, Bound, Plugin};
use cks_api::params::{MAX_PARAMETERS, ParameterCounter, RawParams};
use cks_api::{ApiError, envelope};
use futures::StreamExt;
use serde_json::Value;

use crate::auth;
use crate::handlers::{self, Cx, Reply};
use crate::state::SharedState;

/// Largest form body accepted; CloudStack allows 1 MiB of user data over POST.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub async fn client_api(
    State(state): State<SharedState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let mut raw = RawParams::default();
    // Reading stops at the size and parameter limits, so an oversized body is refused in our
    // envelope before the rest of it is read; and at the body timeout, so a body sent a byte at
    // a time does not hold its connection for ever.
    let body_timeout = state.connection_limits.body_timeout();
    let body = tokio::time::timeout(body_timeout, read_body(body, is_form(&headers))).await;
    let parsed = match &body {
        Ok(Ok(bytes)) => parse(&mut raw, query.as_deref(), &headers, bytes),
        Ok(Err(err)) => return closing_error(err),
        Err(_) => {
            return closing_error(&ApiError::invalid(format!(
                "Request body not received within {} seconds",
                body_timeout.as_secs_f64()
            )));
        }
    };
    let command = raw.command().map(str::to_string);
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    let result = match parsed {
        Ok(()) => handle(&state, peer, &method, &headers, &raw).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(reply) => render_reply(reply),
        Err(err) => render_error(command.as_deref(), &err),
    }
}

/// An error after which the connection is closed: the rest of the body is still on the wire,
/// and the client's next request on it would be read as that leftover.
fn closing_error(err: &ApiError) -> Response {
    let mut response = render_error(None, err);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The body, read until `MAX_BODY_BYTES` or, for a form, until it holds more parameters (non-empty
/// `&`-separated pieces) than a request may: a 2 MiB form of tiny pieces is refused after its
/// first few kilobytes.
async fn read_body(body: Body, is_form: bool) -> Result<Vec<u8>, ApiError> {
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut parameters = ParameterCounter::default();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid("The request body could not be read"))?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::invalid(format!(
                "Request body exceeds the limit of {MAX_BODY_BYTES} bytes"
            )));
        }
        if is_form && parameters.feed(&chunk) > MAX_PARAMETERS {
            return Err(ApiError::TooManyParameters(MAX_PARAMETERS));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn parse(
    raw: &mut RawParams,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    if let Some(q) = query {
        raw.add_form(q)?;
    }
    if !body.is_empty() && is_form(headers) {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::invalid("Request body must be UTF-8"))?;
        raw.add_form(text)?;
    }
    Ok(())
}

async fn handle(
    state: &SharedState,
    peer: Option<IpAddr>,
    method: &Method,
    headers: &HeaderMap,
    raw: &RawParams,
) -> Result<Reply, ApiError> {
    if raw
        .get("response")
        .is_some_and(|r| !r.eq_ignore_ascii_case("json"))
    {
        return Err(ApiError::invalid(
            "Only JSON responses are supported: send response=json",
        ));
    }
    let name = raw.command().ok_or_else(|| {
        ApiError::invalid("Unable to execute API command due to missing parameter command")
    })?;
    if name == "login" {
        let command =
            commands::find("login").ok_or_else(|| ApiError::UnknownCommand(name.into()))?;
        if method != Method::POST {
            return Err(ApiError::MethodNotAllowed(
                "Please use HTTP POST to authenticate using this API".into(),
            ));
        }
        let bound = commands::bind(command, raw)?;
        return handlers::session::login(state, peer, &bound).await;
    }
    let caller = auth::authenticate(state, raw, headers).await?;
    let command = commands::find(name).ok_or_else(|| ApiError::UnknownCommand(name.into()))?;
    if !command.access.allows(caller.account_type) {
        return Err(ApiError::Unauthorized(
            "The given command does not exist or it is not available for user",
        ));
    }
    if command.plugin == Plugin::Kubernetes && !state.kubernetes_enabled() {
        return Err(ApiError::internal("Kubernetes Service plugin is disabled"));
    }
    if !command.availability.on(state.is_simulated()) {
        return Err(ApiError::NotOnThisCloud(command.name.to_string()));
    }
    let bound: Bound = commands::bind(command, raw)?;
    let cx = Cx {
        state,
        caller: &caller,
        p: &bound,
        headers,
    };
    handlers::dispatch(&cx).await
}

fn render_reply(reply: Reply) -> Response {
    let mut response = bytes_response(StatusCode::OK, reply.body);
    for cookie in reply.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn render_error(command: Option<&str>, err: &ApiError) -> Response {
    let (code, _) = err.codes();
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &envelope::error(command, err))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    bytes_response(status, serde_json::to_vec(body).unwrap_or_default())
}

fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body,
    )
        .into_response()
}
