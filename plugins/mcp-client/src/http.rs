//! Streamable HTTP: rmcp's reqwest client, with this server's static
//! headers on every request and a fresh OAuth token per request.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::BoxStream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::service::ClientInitializeError;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, HttpStatusError, SseError, StreamableHttpClient,
    StreamableHttpClientTransportConfig, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use crate::{HttpAuth, StartError};

pub(crate) mod redirect;

pub(crate) use redirect::RedirectRefused;

/// The HTTP client of one server. Static headers are the reqwest client's
/// default headers, so they go to this server only (one client per
/// server) and to every request, `DELETE` of the session included.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    auth: Option<Arc<dyn HttpAuth>>,
    server: Arc<str>,
    verdict: Verdict,
}

/// Why an answer's event stream was cut off, once one was: rmcp ends the
/// call without saying why.
pub(crate) type Verdict = Arc<OnceLock<String>>;

/// The OAuth hook failed: the request was not sent.
#[derive(Debug, thiserror::Error)]
#[error("mcp server `{server}`: cannot get an OAuth access token: {message}")]
pub(crate) struct AuthHookError {
    server: Arc<str>,
    message: String,
}

pub(crate) type Transport = StreamableHttpClientTransport<Client>;

pub(crate) fn transport(
    server: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    auth: Option<Arc<dyn HttpAuth>>,
) -> Result<(Transport, Verdict), StartError> {
    let mut defaults = HeaderMap::new();
    for (name, value) in headers {
        let header_error = |message: String| StartError::Header {
            server: server.to_owned(),
            name: name.clone(),
            message,
        };
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|err| header_error(err.to_string()))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            header_error("the value has characters a header cannot carry".to_owned())
        })?;
        if header == reqwest::header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        defaults.insert(header, value);
    }
    let http = reqwest::Client::builder()
        .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
        .default_headers(defaults)
        .redirect(redirect::policy())
        .build()
        .map_err(|err| StartError::Http {
            server: server.to_owned(),
            url: url.to_owned(),
            message: format!("cannot set up the HTTP client: {err}"),
        })?;
    let verdict = Verdict::default();
    let client = Client {
        http,
        auth,
        server: server.into(),
        verdict: Arc::clone(&verdict),
    };
    let transport = StreamableHttpClientTransport::with_client(
        client,
        StreamableHttpClientTransportConfig::with_uri(url),
    );
    Ok((transport, verdict))
}

impl Client {
    /// The token to send now: asked of the hook on a blocking thread, since
    /// a refresh may wait on the network.
    async fn token(&self) -> Result<Option<String>, StreamableHttpError<reqwest::Error>> {
        let Some(auth) = self.auth.clone() else {
            return Ok(None);
        };
        let server = Arc::clone(&self.server);
        let fail = move |message: String| {
            StreamableHttpError::Io(io::Error::other(AuthHookError { server, message }))
        };
        match tokio::task::spawn_blocking(move || auth.access_token()).await {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(message)) => Err(fail(message)),
            Err(err) => Err(fail(format!("the token provider failed: {err}"))),
        }
    }
}

impl StreamableHttpClient for Client {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            None,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            None,
            custom_headers,
            limits,
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let token = self.token().await?;
        let response = self
            .http
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                token,
                custom_headers,
                limits,
            )
            .await?;
        Ok(match response {
            StreamableHttpPostResponse::Sse(events, session) => {
                let checked = CheckedEvents {
                    events,
                    verdict: Arc::clone(&self.verdict),
                    ended: false,
                };
                StreamableHttpPostResponse::Sse(Box::pin(checked), session)
            }
            other => other,
        })
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        let token = self.token().await?;
        self.http
            .delete_session(uri, session_id, token, custom_headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        let token = self.token().await?;
        self.http
            .get_stream(uri, session_id, last_event_id, token, custom_headers)
            .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        let token = self.token().await?;
        self.http
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                token,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}

/// An answer's event stream, each event checked as a stdio server's lines
/// are: rmcp drops an event it cannot parse, or ends the stream on an
/// error, and the call fails without a reason. The first event that is not
/// a message, or the stream's error, is kept in the verdict and ends the
/// stream.
struct CheckedEvents {
    events: BoxStream<'static, Result<Sse, SseError>>,
    verdict: Verdict,
    ended: bool,
}

impl Stream for CheckedEvents {
    type Item = Result<Sse, SseError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let item = match self.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => item,
            other => return other,
        };
        let failure = match &item {
            Err(err) => Some(format!(
                "its event stream failed: {}",
                crate::error::chain(err)
            )),
            Ok(event) if event.event.as_deref().is_none_or(|kind| kind == "message") => event
                .data
                .as_deref()
                .and_then(|data| crate::process::check_event(data).err()),
            Ok(_) => None,
        };
        match failure {
            Some(failure) => {
                let _ = self.verdict.set(failure);
                self.ended = true;
                Poll::Ready(None)
            }
            None => Poll::Ready(Some(item)),
        }
    }
}

/// What an HTTP failure was, found in an error's source chain.
pub(crate) enum HttpFailure {
    /// 401: the credentials were refused (or missing).
    Unauthorized,
    /// The OAuth hook could not give a token.
    AuthHook(String),
    /// Another HTTP status.
    Status(u16),
    /// A redirect wharf does not follow.
    Redirect(RedirectRefused),
}

/// What went wrong at the HTTP level when `initialize` failed.
pub(crate) fn init_failure(err: &ClientInitializeError) -> Option<HttpFailure> {
    match err {
        ClientInitializeError::TransportError { error, .. } => http_failure(error),
        ClientInitializeError::LegacyFallbackFailed { fallback, .. } => init_failure(fallback),
        other => status_in_text(&other.to_string()).map(HttpFailure::from_status),
    }
}

/// Looks through `err`'s sources for what went wrong at the HTTP level.
/// rmcp reports a 401 with a `WWW-Authenticate` challenge as
/// [`AuthRequiredError`], one without as text (`HTTP 401 Unauthorized: …`).
/// (rmcp's own errors do not all link their sources: start from the
/// transport's error.)
pub(crate) fn http_failure(err: &(dyn std::error::Error + 'static)) -> Option<HttpFailure> {
    let mut current = Some(err);
    if let Some(refused) = redirect::find(err) {
        return Some(HttpFailure::Redirect(refused));
    }
    while let Some(error) = current {
        if error.is::<AuthRequiredError>() {
            return Some(HttpFailure::Unauthorized);
        }
        if let Some(hook) = error.downcast_ref::<AuthHookError>() {
            return Some(HttpFailure::AuthHook(hook.to_string()));
        }
        // An io::Error's source skips the error it wraps: look inside.
        let wrapped = error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<AuthHookError>());
        if let Some(hook) = wrapped {
            return Some(HttpFailure::AuthHook(hook.to_string()));
        }
        if let Some(status) = error.downcast_ref::<HttpStatusError>() {
            return Some(HttpFailure::from_status(status.status));
        }
        if let Some(status) = status_in_text(&error.to_string()) {
            return Some(HttpFailure::from_status(status));
        }
        current = error.source();
    }
    None
}

impl HttpFailure {
    fn from_status(status: u16) -> HttpFailure {
        if status == 401 {
            HttpFailure::Unauthorized
        } else {
            HttpFailure::Status(status)
        }
    }
}

/// The status of rmcp's `HTTP 401 Unauthorized: <body>` messages.
fn status_in_text(text: &str) -> Option<u16> {
    let rest = text.split("HTTP ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (digits.len() == 3).then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_found_in_rmcp_messages() {
        assert_eq!(
            status_in_text("unexpected server response: HTTP 401 Unauthorized: no"),
            Some(401)
        );
        assert_eq!(status_in_text("HTTP 500"), Some(500));
        assert_eq!(status_in_text("HTTP/1.1 upgrade"), None);
        assert_eq!(status_in_text("nothing"), None);
    }
}
